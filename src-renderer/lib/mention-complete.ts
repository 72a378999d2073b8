// `@` completion in the composer: which word is being completed, who it may be, and the text
// once one is picked. Pure, so the rules are tested without a page.

/** Characters of a nickname (NICK_PATTERN in src-shared/identifiers.ts). */
const NICK_CHAR = /[\p{L}\p{N}_.-]/u;
/** Before the `@`: a letter, digit or `_` makes it an e-mail address, not a mention. */
const WORD_CHAR = /[\p{L}\p{N}_]/u;

export interface MentionQuery {
  /** Where the `@` is. */
  readonly start: number;
  /** What follows it up to the caret (may be ''). */
  readonly query: string;
}

/** The `@word` the caret is at the end of, or null. */
export function mentionQuery(text: string, caret: number): MentionQuery | null {
  let at = caret;
  while (at > 0 && NICK_CHAR.test(text[at - 1] ?? '')) at--;
  if (at === 0 || text[at - 1] !== '@') return null;
  const start = at - 1;
  if (start > 0 && WORD_CHAR.test(text[start - 1] ?? '')) return null;
  // A slash command's argument is not a message.
  if (text.startsWith('/') && !text.startsWith('//') && !text.startsWith('/me ')) return null;
  return { start, query: text.slice(at, caret) };
}

/**
 * Nicknames that start with `query` (case-insensitive), then those that contain it; at most
 * `limit`, each once, in the order given (the members list: online first is the caller's).
 */
export function mentionCandidates(
  nicks: readonly string[],
  query: string,
  limit = 8,
): readonly string[] {
  const q = query.toLowerCase();
  const unique = [...new Set(nicks)];
  const starts = unique.filter((nick) => nick.toLowerCase().startsWith(q));
  const contains = unique.filter(
    (nick) => !nick.toLowerCase().startsWith(q) && nick.toLowerCase().includes(q),
  );
  return [...starts, ...contains].slice(0, limit);
}

/** `text` with the `@query` at `mention` replaced by `@nick ` and where the caret goes. */
export function insertMention(
  text: string,
  mention: MentionQuery,
  caret: number,
  nick: string,
): { text: string; caret: number } {
  const before = text.slice(0, mention.start);
  let after = text.slice(caret);
  // The rest of a word being typed over goes; one space follows the name.
  after = after.replace(/^[\p{L}\p{N}_.-]*/u, '').replace(/^ /, '');
  const inserted = `@${nick} `;
  return { text: before + inserted + after, caret: before.length + inserted.length };
}
