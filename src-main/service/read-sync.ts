/**
 * When this install tells our other installs how far we have read a room (design17.md, "Read
 * position"): a `read {upTo}` goes out when the room is on screen in a focused window and its
 * newest message is beyond what was sent (or learnt from another install) — at once when the
 * user moves on (another room, another window: `leave`), and otherwise at most one per room per
 * `delayMs`, trailing. Each read is a message of the room (it takes a row of the host's history
 * and reaches every member's client, which ignores it), so a room watched while busy costs one
 * read per half minute, not one per message; moving on is when another install needs it.
 */
export const READ_SYNC_DELAY_MS = 30_000;

export interface ReadSyncOptions {
  readonly delayMs?: number;
  /** Sends the read event; false when it could not be (offline, not joined): tried again later. */
  readonly send: (room: string, upTo: number) => boolean;
}

export class ReadSync {
  readonly #delayMs: number;
  readonly #send: (room: string, upTo: number) => boolean;
  /** Per room: the highest position sent or learnt. */
  readonly #known = new Map<string, number>();
  /** Per room: the newest seq seen on screen, waiting for its timer. */
  readonly #pending = new Map<string, number>();
  readonly #timers = new Map<string, NodeJS.Timeout>();

  constructor(options: ReadSyncOptions) {
    this.#delayMs = Math.max(0, options.delayMs ?? READ_SYNC_DELAY_MS);
    this.#send = options.send;
  }

  /** Our position in `room` is at least `upTo` (stored, or from another install). */
  known(room: string, upTo: number): void {
    if (upTo > (this.#known.get(room) ?? -1)) this.#known.set(room, upTo);
  }

  /** The user sees `room` (focused window) with `newest` as its newest message. */
  seen(room: string, newest: number | undefined): void {
    if (newest === undefined || newest <= (this.#known.get(room) ?? -1)) return;
    this.#pending.set(room, Math.max(newest, this.#pending.get(room) ?? -1));
    if (this.#timers.has(room)) return;
    const timer = setTimeout(() => this.#fire(room), this.#delayMs);
    timer.unref?.();
    this.#timers.set(room, timer);
  }

  #fire(room: string): void {
    this.#timers.delete(room);
    const upTo = this.#pending.get(room);
    this.#pending.delete(room);
    if (upTo === undefined || upTo <= (this.#known.get(room) ?? -1)) return;
    if (this.#send(room, upTo)) this.known(room, upTo);
  }

  /** The room is no longer on screen (or the window lost focus): what was seen goes now. */
  leave(room: string): void {
    const timer = this.#timers.get(room);
    if (!timer) return;
    clearTimeout(timer);
    this.#fire(room);
  }

  /** The room went (left, removed): nothing more is sent for it. */
  forget(room: string): void {
    const timer = this.#timers.get(room);
    if (timer) clearTimeout(timer);
    this.#timers.delete(room);
    this.#pending.delete(room);
    this.#known.delete(room);
  }

  close(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    this.#pending.clear();
  }
}
