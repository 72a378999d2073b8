import { formatAddress } from '../../src-shared/invite.ts';
import type { HostState } from '../../src-shared/ipc/domain.ts';
import type { ConnectionStore } from './connection.svelte.ts';
import type { RoomsStore } from './rooms.svelte.ts';

/** A host in the sidebar, as the host rail draws it. */
export interface HostEntry {
  readonly hostId: string;
  readonly state: HostState;
  /** The host's name if it has one, else its address. */
  readonly title: string;
  /** `host:port`. */
  readonly address: string;
  /** Its badge count: unread messages in rooms that are not muted. */
  readonly unread: number;
}

/**
 * The hosts in the sidebar and which one is on screen: a view over the connections and the
 * rooms, for the host rail, the window title and switching hosts.
 */
export class Hosts {
  readonly #connection: ConnectionStore;
  readonly #rooms: RoomsStore;

  constructor(connection: ConnectionStore, rooms: RoomsStore) {
    this.#connection = connection;
    this.#rooms = rooms;
  }

  readonly list: HostEntry[] = $derived.by(() =>
    this.#connection.shown.map((state) => {
      const address =
        state.host !== undefined && state.port !== undefined
          ? formatAddress(state.host, state.port)
          : state.hostId;
      return {
        hostId: state.hostId,
        state,
        title: state.hostName?.trim() || address,
        address,
        unread: this.#rooms.unreadOf(state.hostId),
      };
    }),
  );

  /** The host on screen. */
  get current(): string | null {
    return this.#connection.current;
  }

  readonly currentEntry: HostEntry | undefined = $derived.by(() =>
    this.list.find((host) => host.hostId === this.#connection.current),
  );

  /** The badge across every host: the window title and the tray. */
  readonly totalUnread: number = $derived.by(() =>
    this.#connection.hosts.reduce((sum, host) => sum + this.#rooms.unreadOf(host.hostId), 0),
  );

  /** The connect screen is open as "Add a host". */
  get adding(): boolean {
    return this.#connection.adding;
  }

  select(hostId: string): void {
    this.#connection.select(hostId);
  }

  startAdding(): void {
    this.#connection.startAdding();
  }

  cancelAdding(): void {
    this.#connection.cancelAdding();
  }
}
