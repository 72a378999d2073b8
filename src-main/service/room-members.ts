import type { MemberView, Role } from '../../src-shared/ipc/domain.ts';

/**
 * Who is in each room, as the UI lists them. A host with private rooms lists every member with
 * a role and whether it is online; that list is the room's, and room events (joined, left,
 * removed, role) keep it current. Without roles (presence only), the list is those present
 * (online) plus those seen earlier in this session who have since left (offline), so a name
 * does not vanish from the list the moment someone's connection drops.
 *
 * Each room's list is kept sorted (online first, then by nickname) and updated in place, so a
 * presence event costs a binary search and one splice, not a copy and a sort of the whole list:
 * a busy room's joins and leaves stay cheap however many members it has. Offline entries
 * without a role are bounded (the oldest gone are forgotten), so a flood of distinct joiners
 * cannot grow it; members with a role stay until an event removes them.
 */
export interface Member {
  readonly nick: string;
  readonly fp: string;
  readonly key: string;
}

/** A member as the host lists it: with a role and online state when it has private rooms. */
export interface ListedMember extends Member {
  readonly role?: Role;
  readonly online?: boolean;
}

interface Entry extends Member {
  readonly online: boolean;
  readonly role?: Role;
}

/** What an end-to-end encrypted room's group says of a member: devices, a changed key. */
export interface MemberE2ee {
  readonly devices?: number;
  readonly keyChanged?: boolean;
}

/** Offline members without a role remembered per room; beyond it, those gone longest go. */
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
    this.remove(entry.key);
    this.byKey.set(entry.key, entry);
    this.order.splice(this.#indexOf(entry), 0, entry);
    if (!entry.online && entry.role === undefined) {
      this.#offline.add(entry.key);
      this.#evict();
    }
  }

  remove(key: string): boolean {
    const old = this.byKey.get(key);
    if (!old) return false;
    this.order.splice(this.#indexOf(old), 1);
    this.byKey.delete(key);
    this.#offline.delete(key);
    return true;
  }

  /**
   * Replaces every entry's online flag at once (a full list, or our connection lost). `listed`
   * entries are added; with `only`, they are the whole list (a host's list of members).
   */
  rebuild(
    online: (key: string) => boolean,
    listed: readonly ListedMember[] = [],
    only = false,
  ): void {
    const entries = new Map<string, Entry>();
    if (!only) {
      for (const entry of this.byKey.values()) {
        entries.set(entry.key, { ...entry, online: online(entry.key) });
      }
    }
    for (const m of listed) {
      entries.set(m.key, {
        nick: m.nick,
        fp: m.fp,
        key: m.key,
        online: m.online ?? true,
        ...(m.role ? { role: m.role } : {}),
      });
    }
    this.byKey.clear();
    this.#offline.clear();
    for (const [key, entry] of entries) {
      this.byKey.set(key, entry);
      if (!entry.online && entry.role === undefined) this.#offline.add(key);
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

  /**
   * The host's full list: with roles, every member and whether it is online (the room's whole
   * list); without, who is present now (those seen before stay, offline).
   */
  setPresent(room: string, listed: readonly ListedMember[]): void {
    const online = new Set(listed.filter((m) => m.online !== false).map((m) => m.key));
    const withRoles = listed.some((m) => m.role !== undefined);
    this.#room(room).rebuild((key) => online.has(key), listed, withRoles);
  }

  /** Came online in the room (presence); a member keeps its role. */
  joined(room: string, member: Member): void {
    const list = this.#room(room);
    const role = list.byKey.get(member.key)?.role;
    list.put({
      nick: member.nick,
      fp: member.fp,
      key: member.key,
      online: true,
      ...(role ? { role } : {}),
    });
  }

  /** Became a member (a room event): listed offline until its presence says otherwise. */
  admitted(room: string, member: Member, role: Role): void {
    const list = this.#room(room);
    const online = list.byKey.get(member.key)?.online ?? false;
    list.put({ nick: member.nick, fp: member.fp, key: member.key, online, role });
  }

  /** No longer a member (left, removed, banned): gone from the list. */
  removed(room: string, key: string): boolean {
    return this.#rooms.get(room)?.remove(key) ?? false;
  }

  /** A member's role in `room`, as the host last said (absent: not listed, or no roles). */
  roleOf(room: string, key: string): Role | undefined {
    return this.#rooms.get(room)?.byKey.get(key)?.role;
  }

  /** A member's new role; false if it is not listed. */
  roleChanged(room: string, key: string, role: Role): boolean {
    const list = this.#rooms.get(room);
    const entry = list?.byKey.get(key);
    if (!list || !entry) return false;
    list.put({ ...entry, role });
    return true;
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
  views(
    room: string,
    selfKey: string,
    isVerified: (key: string) => boolean,
    e2eeOf?: (key: string) => MemberE2ee | undefined,
  ): MemberView[] {
    return (this.#rooms.get(room)?.order ?? []).map((e) => {
      const e2ee = e2eeOf?.(e.key);
      return {
        nick: e.nick,
        fp: e.fp,
        key: e.key,
        ...(e.role ? { role: e.role } : {}),
        online: e.online,
        // A changed key is not the one that was verified.
        verified: isVerified(e.key) && e2ee?.keyChanged !== true,
        self: e.key === selfKey,
        ...(e2ee?.devices !== undefined ? { devices: e2ee.devices } : {}),
        ...(e2ee?.keyChanged ? { keyChanged: true } : {}),
      };
    });
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
