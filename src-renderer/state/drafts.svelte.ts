/** The message a draft answers (#17 replies): shown above the composer until sent or cancelled. */
export interface ReplyTarget {
  readonly seq: number;
  readonly from: string;
  /** Its first line, or '' (a file, or nothing to quote). */
  readonly text: string;
  readonly file?: string | undefined;
}

/** What the user has typed into one room's composer and not sent yet. */
export class Draft {
  text = $state('');
  /** The message this draft will answer, if any. */
  replyTo: ReplyTarget | null = $state(null);
  /** Why the last send from this room failed; shown under its composer only. */
  error: string | null = $state(null);
}

/**
 * One draft per host and room: a half-typed message stays in the room it was typed in, so
 * switching rooms can never send it to the wrong one. Kept for the life of the page.
 */
export class DraftStore {
  readonly #host: () => string;
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- each Draft is reactive itself
  readonly #drafts = new Map<string, Draft>();

  constructor(host: () => string) {
    this.#host = host;
  }

  get(room: string): Draft {
    const key = `${this.#host()}\n${room}`;
    let draft = this.#drafts.get(key);
    if (!draft) {
      draft = new Draft();
      this.#drafts.set(key, draft);
    }
    return draft;
  }
}
