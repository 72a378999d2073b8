import type { RoomMute } from '../../src-shared/ipc/domain.ts';

/** One unread message: its place (absent: not known, never read away by a position) and whether it names us. */
interface Unread {
  readonly seq: number | undefined;
  readonly mention: boolean;
}

/**
 * Unread messages per room of one host, and how many of them name us (`@nick`): a room muted
 * to 'mentions' counts only those on the badge. Each is kept with its seq, so that our read
 * position from another install (a `read` event) or a deletion takes exactly those away.
 * Only rooms with unread messages are kept.
 */
export class UnreadCounts {
  readonly #rooms = new Map<string, Unread[]>();

  get(room: string): number {
    return this.#rooms.get(room)?.length ?? 0;
  }

  mentionsIn(room: string): number {
    return this.#rooms.get(room)?.filter((u) => u.mention).length ?? 0;
  }

  increment(room: string, options: { mention?: boolean; seq?: number } = {}): void {
    let list = this.#rooms.get(room);
    if (!list) {
      list = [];
      this.#rooms.set(room, list);
    }
    list.push({ seq: options.seq, mention: options.mention === true });
  }

  /**
   * We have read `room` up to `upTo` elsewhere: those at or before it are read. Returns
   * whether anything changed.
   */
  readUpTo(room: string, upTo: number): boolean {
    return this.#drop(room, (u) => u.seq !== undefined && u.seq <= upTo);
  }

  /** The message at `seq` was deleted: it is not waiting to be read any more. */
  removeSeq(room: string, seq: number): boolean {
    return this.#drop(room, (u) => u.seq === seq);
  }

  /** The oldest unread message's seq, if it has one. */
  firstSeq(room: string): number | undefined {
    let first: number | undefined;
    for (const u of this.#rooms.get(room) ?? []) {
      if (u.seq !== undefined && (first === undefined || u.seq < first)) first = u.seq;
    }
    return first;
  }

  #drop(room: string, read: (u: Unread) => boolean): boolean {
    const list = this.#rooms.get(room);
    if (!list) return false;
    const left = list.filter((u) => !read(u));
    if (left.length === list.length) return false;
    if (left.length === 0) this.#rooms.delete(room);
    else this.#rooms.set(room, left);
    return true;
  }

  /** Returns whether anything changed. */
  reset(room: string): boolean {
    return this.#rooms.delete(room);
  }

  clear(): boolean {
    const had = this.#rooms.size > 0;
    this.#rooms.clear();
    return had;
  }

  /** Every unread message, muted rooms too (what the room list shows). */
  get total(): number {
    let total = 0;
    for (const list of this.#rooms.values()) total += list.length;
    return total;
  }

  /** What the badge counts: 'nothing' rooms not at all, 'mentions' rooms only mentions. */
  badgeTotal(muteOf: (room: string) => RoomMute): number {
    let total = 0;
    for (const [room, list] of this.#rooms) {
      const mute = muteOf(room);
      if (mute === 'all') total += list.length;
      else if (mute === 'mentions') total += this.mentionsIn(room);
    }
    return total;
  }

  /** Unread mentions in rooms that are not muted to 'nothing' (what the tray shows apart). */
  badgeMentions(muteOf: (room: string) => RoomMute): number {
    let total = 0;
    for (const room of this.#rooms.keys()) {
      if (muteOf(room) !== 'nothing') total += this.mentionsIn(room);
    }
    return total;
  }

  counts(): Record<string, number> {
    return Object.fromEntries([...this.#rooms].map(([room, list]) => [room, list.length]));
  }

  /** Unread mentions per room, only rooms with some. */
  mentions(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const room of this.#rooms.keys()) {
      const n = this.mentionsIn(room);
      if (n > 0) out[room] = n;
    }
    return out;
  }
}
