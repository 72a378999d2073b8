import type { ConnectedClient } from './connected-client.ts';

interface Room {
  readonly clients: Set<ConnectedClient>;
  /** Connections per key: one person with two windows is one member. */
  readonly connectionsByKey: Map<string, number>;
}

/**
 * Who is in which room now. A key counts as present while any of its connections is. Which
 * rooms exist, and who may join them, is the room store's: an entry here lives only while
 * someone is in the room.
 */
export class RoomRegistry {
  readonly #rooms = new Map<string, Room>();
  readonly #onPresence: ((room: string, keyText: string, present: boolean) => void) | undefined;

  /**
   * `onPresence` hears when a key's first connection enters a room and its last leaves it: a
   * cluster node tells the other nodes (cluster/remote-presence.ts).
   */
  constructor(
    options: { onPresence?: (room: string, keyText: string, present: boolean) => void } = {},
  ) {
    this.#onPresence = options.onPresence;
  }

  /** Every room with someone in it, and the keys there (a cluster node's list for the others). */
  presence(): [string, string[]][] {
    return [...this.#rooms].map(([room, entry]) => [room, [...entry.connectionsByKey.keys()]]);
  }

  /** Returns true when this is the key's first connection in the room (a presence change). */
  join(room: string, client: ConnectedClient): boolean {
    let entry = this.#rooms.get(room);
    if (!entry) {
      entry = { clients: new Set(), connectionsByKey: new Map() };
      this.#rooms.set(room, entry);
    }
    if (entry.clients.has(client)) return false;
    entry.clients.add(client);
    client.rooms.add(room);
    const count = entry.connectionsByKey.get(client.keyText) ?? 0;
    entry.connectionsByKey.set(client.keyText, count + 1);
    if (count === 0) this.#onPresence?.(room, client.keyText, true);
    return count === 0;
  }

  /** Returns true when this was the key's last connection in the room. */
  leave(room: string, client: ConnectedClient): boolean {
    const entry = this.#rooms.get(room);
    if (!entry?.clients.delete(client)) return false;
    client.rooms.delete(room);
    client.noteLeft(room);
    const count = (entry.connectionsByKey.get(client.keyText) ?? 1) - 1;
    if (count > 0) {
      entry.connectionsByKey.set(client.keyText, count);
      return false;
    }
    entry.connectionsByKey.delete(client.keyText);
    if (entry.clients.size === 0) this.#rooms.delete(room);
    this.#onPresence?.(room, client.keyText, false);
    return true;
  }

  /** Whether any connection of the key is in the room. */
  present(room: string, keyText: string): boolean {
    return this.#rooms.get(room)?.connectionsByKey.has(keyText) ?? false;
  }

  clients(room: string): ReadonlySet<ConnectedClient> {
    return this.#rooms.get(room)?.clients ?? new Set();
  }

  /** Sends the same encoded bytes to every connection in the room that is not of `keyText`. */
  broadcastExceptKey(room: string, bytes: Uint8Array, keyText: string): void {
    for (const client of this.clients(room)) {
      if (client.keyText !== keyText) client.deliver(bytes);
    }
  }

  /** Sends the same encoded bytes to everyone in the room but `except`. */
  broadcast(room: string, bytes: Uint8Array, except?: ConnectedClient): void {
    for (const client of this.clients(room)) {
      if (client !== except) client.deliver(bytes);
    }
  }
}
