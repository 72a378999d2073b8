import type { Platform } from '../lib/platform.ts';
import { ConnectionStore } from './connection.svelte.ts';
import { DraftStore } from './drafts.svelte.ts';
import { hostKey } from './host-key.ts';
import { MembersStore } from './members.svelte.ts';
import { MembershipStore } from './membership.svelte.ts';
import { RoomsStore } from './rooms.svelte.ts';
import { SettingsStore } from './settings.svelte.ts';
import { TimelineStore } from './timeline.svelte.ts';

/** The whole UI state: one store per concern, all fed by `window.parley` and nothing else. */
export class AppState {
  readonly api: Platform;
  readonly connection: ConnectionStore;
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
    this.connection = new ConnectionStore(api);
    // Everything kept per room is kept per host and room: the connection names the host.
    const host = (): string => hostKey(this.connection.state);
    this.rooms = new RoomsStore(api, host);
    this.timelines = new TimelineStore(api, Date.now, host);
    this.members = new MembersStore(api, host);
    this.membership = new MembershipStore(api);
    this.settings = new SettingsStore(api);
    this.drafts = new DraftStore(host);
  }

  /** This install as the active room's members list knows it (for own messages). */
  readonly self = $derived.by(() => {
    const room = this.rooms.active;
    const me = room ? this.members.of(room).find((m) => m.self) : undefined;
    const nick = this.connection.state.nick ?? me?.nick ?? 'me';
    return { nick, fp: me?.fp ?? '', key: me?.key ?? '' };
  });

  /** Subscribes first, then reads the snapshot, so no event falls between the two. */
  start(): () => void {
    const offs = [
      this.connection.listen(),
      this.rooms.listen(),
      this.timelines.listen(),
      this.members.listen(),
      this.membership.listen(),
      this.settings.listen(),
      this.api.onError(({ message }) => (this.notice = message)),
    ];
    void this.api.getSnapshot({}).then((snapshot) => {
      if (snapshot.ok) {
        this.connection.hydrate(snapshot.value);
        this.rooms.hydrate(snapshot.value.rooms);
        this.settings.hydrate(snapshot.value.settings);
      } else {
        this.notice = snapshot.error.message;
      }
      this.ready = true;
    });
    return () => offs.forEach((off) => off());
  }
}
