import type { MemberView } from '../../src-shared/ipc/domain.ts';
import type { Platform } from '../lib/platform.ts';

const CHANGES_MEMBERS: ReadonlySet<string> = new Set([
  'joined',
  'left',
  'removed',
  'banned',
  'role',
]);

/** Who is in each room, online or not, and whose fingerprint the user has verified. */
export class MembersStore {
  readonly #api: Platform;
  readonly #host: () => string;
  /** Lists of the current host's rooms, by room; `byRoomHost` is the host they belong to. */
  byRoom: Record<string, MemberView[]> = $state.raw({});
  #byRoomHost = '';
  error: string | null = $state(null);

  constructor(api: Platform, host: () => string = () => '') {
    this.#api = api;
    this.#host = host;
  }

  listen(): () => void {
    const offs = [
      this.#api.onMembers(({ room, members }) => this.#set(room, members)),
      // Someone joined, left, was removed or changed role: the list shown is out of date.
      this.#api.onRoomEvent(({ room, action, history }) => {
        if (history || !CHANGES_MEMBERS.has(action)) return;
        if (this.#host() === this.#byRoomHost && this.byRoom[room]) void this.load(room);
      }),
    ];
    return () => offs.forEach((off) => off());
  }

  of(room: string): MemberView[] {
    // Read first, so that whoever derives from this list follows it whatever the host.
    const members = this.byRoom[room] ?? [];
    // Another host's list of a room with the same name is not this room's.
    return this.#host() === this.#byRoomHost ? members : [];
  }

  async load(room: string): Promise<void> {
    const result = await this.#api.getMembers({ room });
    if (result.ok) this.#set(room, result.value);
  }

  async markVerified(key: string, verified: boolean): Promise<void> {
    this.error = null;
    const result = await this.#api.markVerified({ key, verified });
    if (!result.ok) {
      this.error = result.error.message;
      return;
    }
    const next: Record<string, MemberView[]> = {};
    for (const [room, members] of Object.entries(this.byRoom)) {
      next[room] = members.map((m) => (m.key === key ? { ...m, verified } : m));
    }
    this.byRoom = next;
  }

  #set(room: string, members: MemberView[]): void {
    const sorted = [...members].sort(
      (a, b) =>
        Number(b.self) - Number(a.self) ||
        Number(b.online) - Number(a.online) ||
        a.nick.localeCompare(b.nick),
    );
    const host = this.#host();
    const current = host === this.#byRoomHost ? this.byRoom : {};
    this.#byRoomHost = host;
    this.byRoom = { ...current, [room]: sorted };
  }
}
