import type { ConnectedClient } from '../connected-client.ts';
import type { Fanout, LocalFanout } from '../fanout.ts';
import type { FanoutEffect } from './log-entry.ts';
import type { RemotePresence } from './remote-presence.ts';

/**
 * A cluster node's fan-out: each delivery goes to this node's connections at once (held by the
 * output gate until the turn is in the log) and is recorded as an effect of the turn, which every
 * other node replays to its own connections (`replay`). `except` is always a connection of the
 * node that recorded it (the requester), so other nodes replay without it.
 */
export class RecordingFanout implements Fanout {
  readonly #local: LocalFanout;
  readonly #node: string;
  readonly #remote: RemotePresence;
  #effects: FanoutEffect[] = [];

  constructor(local: LocalFanout, node: string, remote: RemotePresence) {
    this.#local = local;
    this.#node = node;
    this.#remote = remote;
  }

  /** The local fan-out, for what only this node's connections are told. */
  get local(): LocalFanout {
    return this.#local;
  }

  /** A key's first connection on this node entered a room, or its last left: the others hear. */
  here(room: string, keyText: string, present: boolean): void {
    this.#effects.push({ op: 'here', node: this.#node, room, key: keyText, present });
  }

  /** The effects recorded since the last call (one turn's). */
  take(): FanoutEffect[] {
    const effects = this.#effects;
    this.#effects = [];
    return effects;
  }

  /** Another node's effects, to this node's connections. */
  replay(effects: readonly FanoutEffect[]): void {
    const local = this.#local;
    for (const effect of effects) {
      switch (effect.op) {
        case 'room':
          local.toRoom(effect.room, effect.bytes);
          break;
        case 'room-except-key':
          local.toRoomExceptKey(effect.room, effect.bytes, effect.key);
          break;
        case 'key':
          local.toKey(effect.key, effect.bytes);
          break;
        case 'removed':
          local.removeFromRoom(effect.room, effect.key, effect.bytes);
          break;
        case 'device':
          local.toDevice(effect.key, effect.device, effect.room, effect.bytes);
          break;
        case 'rename':
          local.renameKey(effect.key, effect.nick);
          break;
        case 'non-members':
          local.toNonMembers(effect.room, effect.bytes, effect.members ?? undefined);
          break;
        case 'here':
          if (effect.node !== this.#node) {
            this.#remote.changed(effect.node, effect.room, effect.key, effect.present);
          }
          break;
      }
    }
  }

  toRoom(room: string, bytes: Uint8Array, except?: ConnectedClient): void {
    this.#effects.push({ op: 'room', room, bytes });
    this.#local.toRoom(room, bytes, except);
  }

  toRoomExceptKey(room: string, bytes: Uint8Array, keyText: string): void {
    this.#effects.push({ op: 'room-except-key', room, key: keyText, bytes });
    this.#local.toRoomExceptKey(room, bytes, keyText);
  }

  toKey(keyText: string, bytes: Uint8Array, except?: ConnectedClient): void {
    this.#effects.push({ op: 'key', key: keyText, bytes });
    this.#local.toKey(keyText, bytes, except);
  }

  removeFromRoom(room: string, keyText: string, bytes: Uint8Array): void {
    this.#effects.push({ op: 'removed', room, key: keyText, bytes });
    this.#local.removeFromRoom(room, keyText, bytes);
  }

  toDevice(keyText: string, device: string, room: string, bytes: Uint8Array): void {
    this.#effects.push({ op: 'device', key: keyText, device, room, bytes });
    this.#local.toDevice(keyText, device, room, bytes);
  }

  renameKey(keyText: string, nick: string, except?: ConnectedClient): void {
    this.#effects.push({ op: 'rename', key: keyText, nick });
    this.#local.renameKey(keyText, nick, except);
  }

  toNonMembers(room: string, bytes: Uint8Array, members: readonly string[] | undefined): void {
    this.#effects.push({ op: 'non-members', room, bytes, members: members ?? null });
    this.#local.toNonMembers(room, bytes, members);
  }

  present(room: string, keyText: string): boolean {
    return this.#local.present(room, keyText) || this.#remote.has(room, keyText);
  }

  presentElsewhere(room: string, keyText: string): boolean {
    return this.#remote.has(room, keyText);
  }

  roomsElsewhere(keyText: string): Iterable<string> {
    return this.#remote.roomsOf(keyText);
  }
}
