import type { MemberView } from '../../src-shared/ipc/domain.ts';

/**
 * Who is in each room, as the UI lists them: the host's list of members present (online) plus
 * those seen earlier in this session who have since left (offline), so a name does not vanish
 * from the list the moment someone's connection drops.
 */
export interface Member {
  readonly nick: string;
  readonly fp: string;
  readonly key: string;
}

interface Entry extends Member {
  online: boolean;
}

export class RoomMembers {
  readonly #rooms = new Map<string, Map<string, Entry>>();

  /** The host's full list of who is present now. */
  setPresent(room: string, present: readonly Member[]): void {
    const entries = this.#room(room);
    const now = new Set(present.map((m) => m.key));
    for (const entry of entries.values()) entry.online = now.has(entry.key);
    for (const m of present)
      entries.set(m.key, { nick: m.nick, fp: m.fp, key: m.key, online: true });
  }

  joined(room: string, member: Member): void {
    this.#room(room).set(member.key, { ...member, online: true });
  }

  left(room: string, key: string): void {
    const entry = this.#rooms.get(room)?.get(key);
    if (entry) entry.online = false;
  }

  renamed(room: string, key: string, nick: string): void {
    const entry = this.#rooms.get(room)?.get(key);
    if (entry) this.#room(room).set(key, { ...entry, nick });
  }

  /** Our connection is gone: nobody is known to be online. */
  allOffline(): string[] {
    const rooms: string[] = [];
    for (const [room, entries] of this.#rooms) {
      let changed = false;
      for (const entry of entries.values()) {
        if (entry.online) changed = true;
        entry.online = false;
      }
      if (changed) rooms.push(room);
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
    return [...this.#rooms].filter(([, entries]) => entries.has(key)).map(([room]) => room);
  }

  /** Online first, then by nickname. */
  views(room: string, selfKey: string, isVerified: (key: string) => boolean): MemberView[] {
    return [...(this.#rooms.get(room)?.values() ?? [])]
      .map((e) => ({
        nick: e.nick,
        fp: e.fp,
        key: e.key,
        online: e.online,
        verified: isVerified(e.key),
        self: e.key === selfKey,
      }))
      .sort((a, b) => Number(b.online) - Number(a.online) || a.nick.localeCompare(b.nick));
  }

  #room(room: string): Map<string, Entry> {
    let entries = this.#rooms.get(room);
    if (!entries) {
      entries = new Map();
      this.#rooms.set(room, entries);
    }
    return entries;
  }
}
