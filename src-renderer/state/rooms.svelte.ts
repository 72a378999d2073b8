import type { EventPayload } from '../../src-shared/ipc/contract.ts';
import type { Platform } from '../lib/platform.ts';

export type RoomEntry = EventPayload<'rooms'>[number];

/** The host's rooms, which ones we are in, unread counts, and the room on screen. */
export class RoomsStore {
  readonly #api: Platform;
  readonly #host: () => string;
  /** The host `list` and `active` are about. */
  #listHost = '';
  list: RoomEntry[] = $state.raw([]);
  active: string | null = $state(null);
  error: string | null = $state(null);
  /** Whether the user can see the window: a hidden window's room is not "being looked at". */
  #visible = true;

  constructor(api: Platform, host: () => string = () => '') {
    this.#api = api;
    this.#host = host;
  }

  /** Rooms and direct messages we are in. */
  readonly joined = $derived(this.list.filter((room) => room.joined));
  /** Rooms (not direct messages) we are in. */
  readonly channels = $derived(this.joined.filter((room) => room.kind !== 'dm'));
  readonly dms = $derived(this.joined.filter((room) => room.kind === 'dm'));
  /** Open rooms we may join. */
  readonly others = $derived(this.list.filter((room) => !room.joined && room.kind !== 'dm'));
  /** Admins of any room may create rooms (the host's rule). */
  readonly canCreate = $derived(
    this.list.some((room) => room.role === 'owner' || room.role === 'admin'),
  );
  readonly totalUnread = $derived(this.list.reduce((sum, room) => sum + room.unread, 0));

  hydrate(rooms: RoomEntry[]): void {
    this.#listHost = this.#host();
    this.list = rooms;
  }

  listen(): () => void {
    const offs = [
      this.#api.onRooms((rooms) => {
        // Another host: the room on screen was the previous host's, whatever its name.
        const host = this.#host();
        if (host !== this.#listHost) {
          this.#listHost = host;
          this.active = null;
        }
        this.list = rooms;
        if (this.active && !rooms.some((r) => r.name === this.active && r.joined)) {
          this.active = null;
        }
      }),
      this.#api.onUnread(({ counts }) => {
        this.list = this.list.map((room) => ({ ...room, unread: counts[room.name] ?? 0 }));
      }),
      this.#api.onOpenRoom(({ room }) => void this.select(room)),
    ];
    return () => offs.forEach((off) => off());
  }

  entry(name: string | null): RoomEntry | undefined {
    return name === null ? undefined : this.list.find((room) => room.name === name);
  }

  /** Shows a room, joining it first if need be. */
  async select(name: string): Promise<void> {
    this.error = null;
    const room = this.list.find((r) => r.name === name);
    if (room && !room.joined) {
      const joined = await this.#api.joinRoom({ room: name });
      if (!joined.ok) {
        this.error = joined.error.message;
        return;
      }
      this.list = this.list.map((r) => (r.name === name ? { ...r, joined: true } : r));
    }
    this.active = name;
    this.list = this.list.map((r) => (r.name === name ? { ...r, unread: 0 } : r));
    await this.#report();
  }

  /** Picks a room when none is shown: the first joined one. */
  ensureActive(): void {
    if (this.active && this.list.some((r) => r.name === this.active && r.joined)) return;
    const first = this.joined[0];
    if (first) void this.select(first.name);
  }

  async leave(name: string): Promise<void> {
    const result = await this.#api.leaveRoom({ room: name });
    if (!result.ok) {
      this.error = result.error.message;
      return;
    }
    this.list = this.list.map((r) => (r.name === name ? { ...r, joined: false } : r));
    if (this.active === name) {
      this.active = null;
      this.ensureActive();
    }
  }

  setVisible(visible: boolean): void {
    if (visible === this.#visible) return;
    this.#visible = visible;
    void this.#report();
  }

  #report(): Promise<unknown> {
    return this.#api.setActiveRoom({ room: this.#visible ? this.active : null });
  }
}
