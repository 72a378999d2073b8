import type { Platform } from '../lib/platform.ts';
import { ConnectionStore } from './connection.svelte.ts';
import { DraftStore } from './drafts.svelte.ts';
import { Hosts } from './hosts.svelte.ts';
import { MembersStore } from './members.svelte.ts';
import { MembershipStore } from './membership.svelte.ts';
import { type RoomEntry, RoomsStore } from './rooms.svelte.ts';
import { SettingsStore } from './settings.svelte.ts';
import { TimelineStore } from './timeline.svelte.ts';

/** A room in the sidebar, with the host it is on. */
export interface SidebarRoom {
  readonly hostId: string;
  readonly room: RoomEntry;
}

/**
 * The whole UI state: one store per concern, all fed by `window.parley` and nothing else.
 * The app holds several hosts; `connection`, `rooms`, `timelines`, `members`, `membership` and
 * `drafts` act on the host on screen (`hosts.current`), keeping every host's state inside.
 */
export class AppState {
  readonly api: Platform;
  readonly connection: ConnectionStore;
  readonly hosts: Hosts;
  readonly rooms: RoomsStore;
  readonly timelines: TimelineStore;
  readonly members: MembersStore;
  readonly membership: MembershipStore;
  readonly settings: SettingsStore;
  readonly drafts: DraftStore;
  ready = $state(false);
  /** The last `error` event from main, shown as a dismissible notice. */
  notice: string | null = $state(null);

  constructor(api: Platform) {
    this.api = api;
    // Everything kept per room is kept per host and room: two hosts can each have a #lobby.
    const host = (): string => this.connection.current ?? '';
    this.connection = new ConnectionStore(api, {
      hostChanged: (previous) => this.rooms.hostChanged(previous),
      left: (hostId) => {
        this.rooms.forget(hostId);
        this.timelines.forget(hostId);
        this.members.forget(hostId);
      },
    });
    this.rooms = new RoomsStore(api, host);
    this.timelines = new TimelineStore(api, Date.now, host);
    this.members = new MembersStore(api, host);
    this.membership = new MembershipStore(api, host);
    this.settings = new SettingsStore(api);
    this.drafts = new DraftStore(host);
    this.hosts = new Hosts(this.connection, this.rooms);
  }

  /** The host on screen ('' when none): for keys kept per host and room. */
  hostOf(): string {
    return this.connection.current ?? '';
  }

  /** This install as the active room's members list knows it (for own messages). */
  readonly self = $derived.by(() => {
    const room = this.rooms.active;
    const me = room ? this.members.of(room).find((m) => m.self) : undefined;
    const nick = this.connection.state.nick ?? me?.nick ?? 'me';
    return { nick, fp: me?.fp ?? '', key: me?.key ?? '' };
  });

  /** Every host's rooms in sidebar order, hosts in rail order. */
  readonly sidebarRooms: SidebarRoom[] = $derived.by(() =>
    this.hosts.list.flatMap(({ hostId }) =>
      this.rooms.sidebarOf(hostId).map((room) => ({ hostId, room })),
    ),
  );

  /** Shows a room of a host (a notification, the room switcher): the host, then the room. */
  async open(hostId: string, room: string): Promise<void> {
    this.hosts.select(hostId);
    if (this.connection.current !== hostId) return;
    await this.rooms.selectOn(hostId, room);
  }

  /** Subscribes first, then reads the snapshot, so no event falls between the two. */
  start(): () => void {
    const offs = [
      this.connection.listen(),
      this.rooms.listen(),
      this.timelines.listen(),
      this.members.listen(),
      this.membership.listen(),
      this.settings.listen(),
      this.api.onError(({ message, hostId }) => {
        // With several hosts, say which one it is about.
        const host = this.hosts.list.find((entry) => entry.hostId === hostId);
        this.notice = host && this.hosts.list.length > 1 ? `${host.title}: ${message}` : message;
      }),
      this.api.onOpenRoom(({ hostId, room }) => void this.open(hostId, room)),
    ];
    // The network came back: hosts waiting to reconnect try at once, not after the countdown.
    const online = (): void => void this.api.networkChanged({});
    window.addEventListener('online', online);
    offs.push(() => window.removeEventListener('online', online));
    void this.api.getSnapshot({}).then((snapshot) => {
      if (snapshot.ok) {
        for (const { connection, rooms } of snapshot.value.hosts) {
          this.rooms.hydrate(connection.hostId, rooms);
        }
        this.connection.hydrate(snapshot.value);
        this.settings.hydrate(snapshot.value.settings);
      } else {
        this.notice = snapshot.error.message;
      }
      this.ready = true;
    });
    return () => offs.forEach((off) => off());
  }
}
