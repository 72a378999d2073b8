import type { RoomMute } from '../../src-shared/ipc/domain.ts';

/**
 * Unread messages per room of one host, and how many of them name us (`@nick`): a room muted
 * to 'mentions' counts only those on the badge. Only rooms with unread messages are kept.
 */
export class UnreadCounts {
  readonly #counts = new Map<string, number>();
  readonly #mentions = new Map<string, number>();

  get(room: string): number {
    return this.#counts.get(room) ?? 0;
  }

  mentionsIn(room: string): number {
    return this.#mentions.get(room) ?? 0;
  }

  increment(room: string, options: { mention?: boolean } = {}): void {
    this.#counts.set(room, this.get(room) + 1);
    if (options.mention) this.#mentions.set(room, this.mentionsIn(room) + 1);
  }

  /** Returns whether anything changed. */
  reset(room: string): boolean {
    this.#mentions.delete(room);
    return this.#counts.delete(room);
  }

  clear(): boolean {
    const had = this.#counts.size > 0;
    this.#counts.clear();
    this.#mentions.clear();
    return had;
  }

  /** Every unread message, muted rooms too (what the room list shows). */
  get total(): number {
    let total = 0;
    for (const n of this.#counts.values()) total += n;
    return total;
  }

  /** What the badge counts: 'nothing' rooms not at all, 'mentions' rooms only mentions. */
  badgeTotal(muteOf: (room: string) => RoomMute): number {
    let total = 0;
    for (const [room, n] of this.#counts) {
      const mute = muteOf(room);
      if (mute === 'all') total += n;
      else if (mute === 'mentions') total += this.mentionsIn(room);
    }
    return total;
  }

  counts(): Record<string, number> {
    return Object.fromEntries(this.#counts);
  }
}
