import type { MemberView } from '../../src-shared/ipc/domain.ts';

/**
 * Who is in each room, as the UI lists them: the host's list of members present (online) plus
 * those seen earlier in this session who have since left (offline), so a name does not vanish
 * from the list the moment someone's connection drops.
 *
 * Each room's list is kept sorted (online first, then by nickname) and updated in place, so a
 * presence event costs a binary search and one splice, not a copy and a sort of the whole list:
 * a busy room's joins and leaves stay cheap however many members it has. Offline entries are
 * bounded (the oldest gone are forgotten), so a flood of distinct joiners cannot grow it.
 */
export interface Member {
  readonly nick: string;
  readonly fp: string;
  readonly key: string;
}

interface Entry extends Member {
  readonly online: boolean;
}

/** Offline members remembered per room; beyond it, those gone longest are dropped. */
export const MAX_OFFLINE_MEMBERS = 500;

const collator = new Intl.Collator();

/** Online first, then by nickname; the key breaks ties, so every entry has one place. */
function compare(a: Entry, b: Entry): number {
  return (
    Number(b.online) - Number(a.online) ||
    collator.compare(a.nick, b.nick) ||
    (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)
  );
}

class RoomList {
  readonly byKey = new Map<string, Entry>();
  /** Every entry, sorted by `compare`. */
  readonly order: Entry[] = [];
  /** Keys of offline entries, longest gone first. */
  readonly #offline = new Set<string>();

  get hasOnline(): boolean {
    return this.order[0]?.online === true;
  }

  put(entry: Entry): void {
    const old = this.byKey.get(entry.key);
    if (old) this.order.splice(this.#indexOf(old), 1);
    this.byKey.set(entry.key, entry);
    this.order.splice(this.#indexOf(entry), 0, entry);
    this.#offline.delete(entry.key);
    if (!entry.online) {
      this.#offline.add(entry.key);
      this.#evict();
    }
  }

  /** Replaces every entry's online flag at once (a full list, or our connection lost). */
  rebuild(online: (key: string) => boolean, present: readonly Member[] = []): void {
    const entries = new Map<string, Entry>();
    for (const entry of this.byKey.values()) {
      entries.set(entry.key, { ...entry, online: online(entry.key) });
    }
    for (const m of present)
      entries.set(m.key, { nick: m.nick, fp: m.fp, key: m.key, online: true });
    this.byKey.clear();
    this.#offline.clear();
    for (const [key, entry] of entries) {
      this.byKey.set(key, entry);
      if (!entry.online) this.#offline.add(key);
    }
    this.order.length = 0;
    for (const entry of [...this.byKey.values()].sort(compare)) this.order.push(entry);
    this.#evict();
  }

  #evict(): void {
    while (this.#offline.size > MAX_OFFLINE_MEMBERS) {
      const key = this.#offline.values().next().value as string;
      this.#offline.delete(key);
      const entry = this.byKey.get(key);
      if (!entry) continue;
      this.order.splice(this.#indexOf(entry), 1);
      this.byKey.delete(key);
    }
  }

  /** Where `entry` is, or would go, in `order` (binary search). */
  #indexOf(entry: Entry): number {
    let low = 0;
    let high = this.order.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (compare(this.order[mid] as Entry, entry) < 0) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}

export class RoomMembers {
  readonly #rooms = new Map<string, RoomList>();

  /** The host's full list of who is present now. */
  setPresent(room: string, present: readonly Member[]): void {
    const keys = new Set(present.map((m) => m.key));
    this.#room(room).rebuild((key) => keys.has(key), present);
  }

  joined(room: string, member: Member): void {
    this.#room(room).put({ nick: member.nick, fp: member.fp, key: member.key, online: true });
  }

  left(room: string, key: string): void {
    const list = this.#rooms.get(room);
    const entry = list?.byKey.get(key);
    if (list && entry?.online) list.put({ ...entry, online: false });
  }

  renamed(room: string, key: string, nick: string): void {
    const list = this.#rooms.get(room);
    const entry = list?.byKey.get(key);
    if (list && entry) list.put({ ...entry, nick });
  }

  /** Our connection is gone: nobody is known to be online. Returns the rooms that changed. */
  allOffline(): string[] {
    const rooms: string[] = [];
    for (const [room, list] of this.#rooms) {
      if (!list.hasOnline) continue;
      list.rebuild(() => false);
      rooms.push(room);
    }
    return rooms;
  }

  forget(room: string): void {
    this.#rooms.delete(room);
  }

  clear(): void {
    this.#rooms.clear();
  }

  /** Rooms where `key` is listed. */
  roomsOf(key: string): string[] {
    return [...this.#rooms].filter(([, list]) => list.byKey.has(key)).map(([room]) => room);
  }

  /** Online first, then by nickname. */
  views(room: string, selfKey: string, isVerified: (key: string) => boolean): MemberView[] {
    return (this.#rooms.get(room)?.order ?? []).map((e) => ({
      nick: e.nick,
      fp: e.fp,
      key: e.key,
      online: e.online,
      verified: isVerified(e.key),
      self: e.key === selfKey,
    }));
  }

  #room(room: string): RoomList {
    let list = this.#rooms.get(room);
    if (!list) {
      list = new RoomList();
      this.#rooms.set(room, list);
    }
    return list;
  }
}
