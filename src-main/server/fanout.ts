import { decodePublicKeyText } from '../../src-shared/identifiers.ts';
import type { ConnectedClient } from './connected-client.ts';
import type { KeyConnections } from './key-connections.ts';
import type { RoomRegistry } from './room-registry.ts';
import type { RoomStore } from './room-store.ts';

/**
 * Every delivery to connections other than the requesting one goes through here (#19): a
 * cluster node records each call as an effect of its turn and replays it on every other node,
 * whose connections the registries of this process do not hold. Answers to the requester itself
 * are not fan-out: they go straight to its connection.
 */
export interface Fanout {
  /** Everyone in the room but `except` (RoomRegistry.broadcast). */
  toRoom(room: string, bytes: Uint8Array, except?: ConnectedClient): void;
  /** Everyone in the room whose key is not `keyText` (presence of that key). */
  toRoomExceptKey(room: string, bytes: Uint8Array, keyText: string): void;
  /** Every connection of the key but `except`. */
  toKey(keyText: string, bytes: Uint8Array, except?: ConnectedClient): void;
  /**
   * The key is no longer a member: each of its connections leaves the room silently, drops a
   * send of its still waiting for the commit, and gets `bytes` (its `removed`).
   */
  removeFromRoom(room: string, keyText: string, bytes: Uint8Array): void;
  /** A Welcome: the key's connections that are this MLS device and in the room. */
  toDevice(keyText: string, device: string, room: string, bytes: Uint8Array): void;
  /** The key's nickname changed: each of its connections but `except` takes it, and is told. */
  renameKey(keyText: string, nick: string, except?: ConnectedClient): void;
  /**
   * A room opened (or created open): every connected key that is not a member nor banned gets
   * `bytes`. `members` are the member keys when the caller has read them; undefined: each
   * connected key is looked up in the store.
   */
  toNonMembers(room: string, bytes: Uint8Array, members: readonly string[] | undefined): void;
  /** Whether any connection of the key is in the room (a member listing's `online`). */
  present(room: string, keyText: string): boolean;
  /**
   * Whether the key is in the room through another process (a cluster's other nodes): then its
   * connections here coming and going changes nothing the room should be told.
   */
  presentElsewhere(room: string, keyText: string): boolean;
  /** The rooms the key is in through other processes only (a rename tells them too). */
  roomsElsewhere(keyText: string): Iterable<string>;
}

/** The single process's fan-out: this process's registries hold every connection. */
export class LocalFanout implements Fanout {
  readonly #rooms: RoomRegistry;
  readonly #connections: KeyConnections;
  readonly #store: () => RoomStore;

  constructor(rooms: RoomRegistry, connections: KeyConnections, store: () => RoomStore) {
    this.#rooms = rooms;
    this.#connections = connections;
    this.#store = store;
  }

  toRoom(room: string, bytes: Uint8Array, except?: ConnectedClient): void {
    this.#rooms.broadcast(room, bytes, except);
  }

  toRoomExceptKey(room: string, bytes: Uint8Array, keyText: string): void {
    this.#rooms.broadcastExceptKey(room, bytes, keyText);
  }

  toKey(keyText: string, bytes: Uint8Array, except?: ConnectedClient): void {
    for (const connection of this.#connections.of(keyText)) {
      if (connection !== except) connection.deliver(bytes);
    }
  }

  removeFromRoom(room: string, keyText: string, bytes: Uint8Array): void {
    for (const connection of this.#connections.of(keyText)) {
      this.#rooms.leave(room, connection);
      connection.noteRemovedFrom(room);
      connection.deliver(bytes);
    }
  }

  toDevice(keyText: string, device: string, room: string, bytes: Uint8Array): void {
    for (const connection of this.#connections.of(keyText)) {
      if (connection.device === device && connection.rooms.has(room)) connection.deliver(bytes);
    }
  }

  renameKey(keyText: string, nick: string, except?: ConnectedClient): void {
    for (const connection of this.#connections.of(keyText)) {
      if (connection === except) continue;
      connection.nick = nick;
      connection.send({ t: 'nick', nick });
    }
  }

  toNonMembers(room: string, bytes: Uint8Array, members: readonly string[] | undefined): void {
    const known = members && new Set(members);
    const store = this.#store();
    for (const keyText of this.#connections.keys()) {
      if (known?.has(keyText)) continue;
      // A connected key came from a handshake, so it always decodes.
      const key = decodePublicKeyText(keyText);
      if (!key) continue;
      if (!known && store.member(room, key)) continue;
      if (store.isBanned(room, key)) continue;
      for (const connection of this.#connections.of(keyText)) connection.deliver(bytes);
    }
  }

  present(room: string, keyText: string): boolean {
    return this.#rooms.present(room, keyText);
  }

  presentElsewhere(): boolean {
    return false;
  }

  roomsElsewhere(): Iterable<string> {
    return [];
  }
}
