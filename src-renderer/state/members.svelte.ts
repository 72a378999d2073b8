import type { MemberView } from '../../src-shared/ipc/domain.ts';
import { type Platform, unwrap } from '../lib/platform.ts';

const NOBODY: MemberView[] = [];

const CHANGES_MEMBERS: ReadonlySet<string> = new Set([
  'joined',
  'left',
  'removed',
  'banned',
  'role',
]);

/**
 * Who is in each room of each host, online or not, and whose fingerprint the user has verified.
 * `of(room)` and `load(room)` are about the host on screen (`host()`).
 */
export class MembersStore {
  readonly #api: Platform;
  readonly #host: () => string;
  /** Each host's lists, by room. */
  byHost: Record<string, Record<string, MemberView[]>> = $state.raw({});
  error: string | null = $state(null);

  constructor(api: Platform, host: () => string = () => '') {
    this.#api = api;
    this.#host = host;
  }

  listen(): () => void {
    const offs = [
      this.#api.onMembers(({ hostId, room, members }) => this.#set(hostId, room, members)),
      // Someone joined, left, was removed or changed role: the list shown is out of date.
      this.#api.onRoomEvent(({ hostId, room, action, history }) => {
        if (history || !CHANGES_MEMBERS.has(action)) return;
        if (listOf(this.byHost[hostId], room)) void this.#load(hostId, room);
      }),
    ];
    return () => offs.forEach((off) => off());
  }

  /** A room's members on the host on screen. */
  of(room: string): MemberView[] {
    return listOf(this.byHost[this.#host()], room) ?? NOBODY;
  }

  load(room: string): Promise<void> {
    return this.#load(this.#host(), room);
  }

  /** A host left the sidebar. */
  forget(hostId: string): void {
    if (!(hostId in this.byHost)) return;
    this.byHost = Object.fromEntries(Object.entries(this.byHost).filter(([id]) => id !== hostId));
  }

  async markVerified(key: string, verified: boolean): Promise<void> {
    this.error = null;
    const result = await this.#api.markVerified({ key, verified });
    if (!result.ok) {
      this.error = result.error.message;
      return;
    }
    // A key is one person wherever we meet them: every host's lists follow — but a fingerprint
    // says nothing of the key their devices carry, so lists of end-to-end encrypted rooms (their
    // members carry `devices`) take only an unmark; the service's `members` events say the rest.
    this.#setVerified(key, verified, false, !verified);
  }

  /** The safety number of us and `key` on the host on screen; rejects with the reason. */
  safetyNumber(key: string): Promise<string> {
    return unwrap(this.#api.safetyNumber({ hostId: this.#host(), key }));
  }

  /**
   * From the Verify dialog: marks `key` (not) verified; a changed key is accepted first (the
   * user compared the new safety number). Rejects with the reason; the lists follow the
   * service's `members` events.
   */
  async verify(key: string, verified: boolean, acceptChange: boolean): Promise<void> {
    if (verified && acceptChange) {
      await unwrap(this.#api.acceptKeyChange({ hostId: this.#host(), key }));
    }
    await unwrap(this.#api.markVerified({ key, verified, bySafetyNumber: true }));
    this.#setVerified(key, verified, verified && acceptChange, true);
  }

  /** `encryptedToo`: also the lists of end-to-end encrypted rooms (a safety number, or unmark). */
  #setVerified(key: string, verified: boolean, accepted = false, encryptedToo = true): void {
    const next: Record<string, Record<string, MemberView[]>> = {};
    for (const [hostId, rooms] of Object.entries(this.byHost)) {
      const lists: Record<string, MemberView[]> = {};
      for (const [room, members] of Object.entries(rooms)) {
        lists[room] = members.map((m) =>
          m.key === key && (encryptedToo || m.devices === undefined)
            ? { ...m, verified, ...(accepted ? { keyChanged: false } : {}) }
            : m,
        );
      }
      next[hostId] = lists;
    }
    this.byHost = next;
  }

  async #load(hostId: string, room: string): Promise<void> {
    const result = await this.#api.getMembers({ hostId, room });
    if (result.ok) this.#set(hostId, room, result.value);
  }

  #set(hostId: string, room: string, members: MemberView[]): void {
    const sorted = [...members].sort(
      (a, b) =>
        Number(b.self) - Number(a.self) ||
        Number(b.online) - Number(a.online) ||
        a.nick.localeCompare(b.nick),
    );
    this.byHost = { ...this.byHost, [hostId]: { ...this.byHost[hostId], [room]: sorted } };
  }
}

/**
 * A room's list, if loaded. Own keys only: a room may be named `constructor`, which a plain
 * lookup finds on Object.prototype (a function, not a list).
 */
function listOf(
  lists: Record<string, MemberView[]> | undefined,
  room: string,
): MemberView[] | undefined {
  return lists && Object.hasOwn(lists, room) ? lists[room] : undefined;
}
