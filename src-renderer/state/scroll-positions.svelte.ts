// Where the reader was in each room, so switching rooms and back returns there. The timeline
// is virtualised and row heights change as rows are measured, so a pixel offset would land
// somewhere else: a position is the row at the top of the view and how far into it the view
// starts, or "following the newest message".

/** At the newest message, following new ones; or reading at a row. */
export type ScrollPosition =
  | { readonly bottom: true }
  | { readonly bottom: false; readonly key: string; readonly delta: number };

/** Rooms remembered; the least recently left are forgotten first. */
const LIMIT = 200;

/** Scroll positions by host and room (`scrollKey(hostId, room)`), for this run of the app. */
export class ScrollPositions {
  // Not reactive: read once when a room opens, written as the reader scrolls.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  readonly #positions = new Map<string, ScrollPosition>();

  get(key: string): ScrollPosition | undefined {
    return this.#positions.get(key);
  }

  set(key: string, position: ScrollPosition): void {
    // Re-inserted, so the map's order is least recently written first.
    this.#positions.delete(key);
    this.#positions.set(key, position);
    if (this.#positions.size > LIMIT) {
      const oldest = this.#positions.keys().next().value;
      if (oldest !== undefined) this.#positions.delete(oldest);
    }
  }
}

/** Two hosts may each have a #lobby: the key names both. */
export function scrollKey(hostId: string, room: string): string {
  return `${hostId}\n${room}`;
}

/** The app's one set of positions; a component test may pass its own. */
export const scrollPositions = new ScrollPositions();
