import { SvelteMap } from 'svelte/reactivity';
import type { EventPayload } from '../../src-shared/ipc/contract.ts';
import type { RoomMute } from '../../src-shared/ipc/domain.ts';
import type { Platform } from '../lib/platform.ts';

export type RoomEntry = EventPayload<'rooms'>['rooms'][number];

const NO_ROOMS: RoomEntry[] = [];
/** A room on a host, as one key: two hosts can each have a `#lobby`. */
const key = (hostId: string, room: string): string => `${hostId}\n${room}`;
/** What a room adds to its host's badge, as far as the renderer can tell. */
const badgeOf = (room: RoomEntry): number => (room.mute === 'all' ? room.unread : 0);

/**
 * Every host's rooms, which ones we are in, unread counts, and each host's room on screen.
 * `list`, `active` and the methods without a host act on the host on screen (`host()`).
 */
export class RoomsStore {
  readonly #api: Platform;
  readonly #host: () => string;
  /** Each host's room list, as main last sent it (unread counts kept up to date). */
  byHost: Record<string, RoomEntry[]> = $state.raw({});
  /** Each host's room on screen (kept while another host is shown). */
  readonly #active = new SvelteMap<string, string | null>();
  /** Each host's badge count as main counts it (muted rooms left out). */
  readonly #badges = new SvelteMap<string, number>();
  /** The "New messages" seq each room on screen was opened with. */
  readonly #opened = new SvelteMap<string, number>();
  error: string | null = $state(null);
  /** Whether the user can see the window: a hidden window's room is not "being looked at". */
  #visible = true;

  constructor(api: Platform, host: () => string = () => '') {
    this.#api = api;
    this.#host = host;
  }

  /** The host on screen's rooms. */
  readonly list: RoomEntry[] = $derived.by(() => this.byHost[this.#host()] ?? NO_ROOMS);
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
  /** The host on screen's badge count. */
  readonly totalUnread = $derived.by(() => this.unreadOf(this.#host()));

  /** The room on screen (on the host on screen). */
  get active(): string | null {
    return this.#active.get(this.#host()) ?? null;
  }
  set active(room: string | null) {
    this.#setActive(this.#host(), room);
  }

  /** A host's badge count: unread messages in rooms that are not muted. */
  unreadOf(hostId: string): number {
    const rooms = this.byHost[hostId] ?? NO_ROOMS;
    return this.#badges.get(hostId) ?? rooms.reduce((sum, room) => sum + badgeOf(room), 0);
  }

  /** A host's rooms in sidebar order: joined rooms, direct messages, then open rooms. */
  sidebarOf(hostId: string): RoomEntry[] {
    const rooms = this.byHost[hostId] ?? NO_ROOMS;
    return [
      ...rooms.filter((room) => room.joined && room.kind !== 'dm'),
      ...rooms.filter((room) => room.joined && room.kind === 'dm'),
      ...rooms.filter((room) => !room.joined && room.kind !== 'dm'),
    ];
  }

  hydrate(hostId: string, rooms: RoomEntry[]): void {
    this.byHost = { ...this.byHost, [hostId]: rooms };
  }

  /** A host left the sidebar: its rooms go too (its history stays on disk). */
  forget(hostId: string): void {
    if (!(hostId in this.byHost)) return;
    this.byHost = Object.fromEntries(Object.entries(this.byHost).filter(([id]) => id !== hostId));
    this.#badges.delete(hostId);
    this.#setActive(hostId, null);
  }

  listen(): () => void {
    const offs = [
      this.#api.onRooms(({ hostId, rooms }) => {
        this.byHost = { ...this.byHost, [hostId]: rooms };
        const active = this.#active.get(hostId) ?? null;
        if (active === null) return;
        const entry = rooms.find((r) => r.name === active);
        if (!entry?.joined) {
          this.#setActive(hostId, null);
        } else if (!this.#visible) {
          // Nobody is looking: the line follows main's, which moves when another install of
          // ours reads the room (its read position arrives as an event) — or goes.
          if (entry.firstUnreadSeq !== undefined) {
            this.#opened.set(key(hostId, active), entry.firstUnreadSeq);
          } else {
            this.#opened.delete(key(hostId, active));
          }
        } else if (
          this.#opened.get(key(hostId, active)) === undefined &&
          entry.firstUnreadSeq !== undefined
        ) {
          // Messages came while the window was hidden: the line goes above the first.
          this.#opened.set(key(hostId, active), entry.firstUnreadSeq);
        }
      }),
      this.#api.onUnread(({ hostId, counts, total, mentions = {} }) => {
        const rooms = this.byHost[hostId];
        if (rooms) {
          this.byHost = {
            ...this.byHost,
            [hostId]: rooms.map((room) => {
              // Own keys only: `constructor` is a room name too.
              const unread = Object.hasOwn(counts, room.name) ? (counts[room.name] ?? 0) : 0;
              const named = Object.hasOwn(mentions, room.name) ? (mentions[room.name] ?? 0) : 0;
              // Read up to the end (here, or by another install of ours): no "New messages".
              const { firstUnreadSeq, unreadMentions: _was, ...rest } = room;
              const now = { ...rest, unread, ...(named > 0 ? { unreadMentions: named } : {}) };
              return unread === 0 ? now : { ...now, firstUnreadSeq };
            }),
          };
          const active = this.#active.get(hostId);
          if (active && !this.#visible && !(Object.hasOwn(counts, active) && counts[active])) {
            this.#opened.delete(key(hostId, active));
          }
        }
        this.#badges.set(hostId, total);
      }),
    ];
    return () => offs.forEach((off) => off());
  }

  entry(name: string | null): RoomEntry | undefined {
    return name === null ? undefined : this.list.find((room) => room.name === name);
  }

  /** Shows a room on the host on screen, joining it first if need be. */
  select(name: string): Promise<void> {
    return this.selectOn(this.#host(), name);
  }

  /** Shows a room of a host (the caller puts the host on screen), joining it if need be. */
  async selectOn(hostId: string, name: string): Promise<void> {
    this.error = null;
    const room = this.byHost[hostId]?.find((r) => r.name === name);
    if (room && !room.joined) {
      const joined = await this.#api.joinRoom({ hostId, room: name });
      if (!joined.ok) {
        this.error = joined.error.message;
        return;
      }
      this.#update(hostId, name, { joined: true });
    }
    const current = this.byHost[hostId]?.find((r) => r.name === name);
    this.#setActive(hostId, name);
    if (current && current.unread > 0) {
      const badge = this.#badges.get(hostId);
      if (badge !== undefined) this.#badges.set(hostId, Math.max(0, badge - badgeOf(current)));
      this.#update(hostId, name, { unread: 0 });
    }
    await this.report();
  }

  /** Picks a room when none is shown: the first joined one. */
  ensureActive(): void {
    const active = this.active;
    if (active && this.list.some((r) => r.name === active && r.joined)) return;
    const first = this.joined[0];
    if (first) void this.select(first.name);
  }

  async leave(name: string): Promise<void> {
    const hostId = this.#host();
    const result = await this.#api.leaveRoom({ hostId, room: name });
    if (!result.ok) {
      this.error = result.error.message;
      return;
    }
    this.#update(hostId, name, { joined: false });
    if (this.#active.get(hostId) === name) {
      this.#setActive(hostId, null);
      if (this.#host() === hostId) this.ensureActive();
    }
  }

  /** A room's notification level on the host on screen; kept on this machine. */
  async setMute(name: string, mute: RoomMute): Promise<void> {
    const hostId = this.#host();
    const before = this.byHost[hostId]?.find((r) => r.name === name)?.mute;
    if (before === undefined || before === mute) return;
    this.error = null;
    this.#update(hostId, name, { mute });
    const result = await this.#api.setRoomMute({ hostId, room: name, mute });
    if (!result.ok) {
      this.#update(hostId, name, { mute: before });
      this.error = result.error.message;
    }
  }

  /**
   * The seq the "New messages" line goes above in a room of the host on screen: what was
   * unread when it was opened, kept while it stays on screen.
   */
  firstUnread(room: string): number | undefined {
    return this.#opened.get(key(this.#host(), room));
  }

  setVisible(visible: boolean): void {
    if (visible === this.#visible) return;
    this.#visible = visible;
    void this.report();
  }

  /** Tells main which room is being looked at (none while the window is hidden). */
  report(): Promise<unknown> {
    const hostId = this.#host() || null;
    const room = hostId === null ? null : (this.#active.get(hostId) ?? null);
    return this.#visible
      ? this.#api.setActiveRoom({ hostId, room })
      : this.#api.setActiveRoom({ hostId: null, room: null });
  }

  /** The host on screen changed: the previous host's room is no longer being looked at. */
  hostChanged(previous: string | null): void {
    if (previous !== null) {
      const room = this.#active.get(previous);
      if (room) this.#opened.delete(key(previous, room));
    }
    const hostId = this.#host();
    const room = this.#active.get(hostId);
    if (room) this.#open(hostId, room);
    void this.report();
  }

  #setActive(hostId: string, room: string | null): void {
    const before = this.#active.get(hostId) ?? null;
    if (before === room) return;
    if (before !== null) this.#opened.delete(key(hostId, before));
    this.#active.set(hostId, room);
    if (room !== null) this.#open(hostId, room);
  }

  #open(hostId: string, room: string): void {
    const seq = this.byHost[hostId]?.find((r) => r.name === room)?.firstUnreadSeq;
    if (seq !== undefined) this.#opened.set(key(hostId, room), seq);
    else this.#opened.delete(key(hostId, room));
  }

  #update(hostId: string, name: string, patch: Partial<RoomEntry>): void {
    const rooms = this.byHost[hostId];
    if (!rooms) return;
    this.byHost = {
      ...this.byHost,
      [hostId]: rooms.map((r) => (r.name === name ? { ...r, ...patch } : r)),
    };
  }
}
