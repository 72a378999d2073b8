import { join } from 'node:path';
import { z } from 'zod';
import { isValidRoomName } from '../../src-shared/identifiers.ts';
import { RoomMute } from '../../src-shared/ipc/domain.ts';
import { JsonFile } from './json-file.ts';
import { ServiceError } from './service-error.ts';

/**
 * Each room's notification level on this machine, per host (two hosts' `#lobby` are two
 * rooms). Only rooms not at the default ('all') are written. A JSON file beside the settings
 * rather than a column in the local history: it is a preference, kept even when a room's
 * history is forgotten, and it needs no schema migration.
 */
export const ROOM_MUTES_FILE = 'room-mutes.json';
const MAX_HOSTS = 200;
export const MAX_ROOMS_PER_HOST = 2000;

/**
 * Read entry by entry: a level this version does not know (a newer one wrote it) or a bad
 * entry is left out alone, never taking every other room's level with it.
 */
const Stored = z.object({
  version: z.literal(1),
  hosts: z.record(z.string(), z.unknown()),
});
type Stored = z.infer<typeof Stored>;
const StoredRooms = z.record(z.string(), z.unknown());

export class RoomMutes {
  readonly #file: JsonFile<typeof Stored>;
  #hosts: Map<string, Map<string, RoomMute>>;
  /** The file could not be read at all: every room starts at 'all' (a copy was set aside). */
  readonly damaged: boolean;

  private constructor(file: JsonFile<typeof Stored>, stored: Stored, damaged: boolean) {
    this.#file = file;
    this.damaged = damaged;
    this.#hosts = new Map();
    for (const [host, rooms] of Object.entries(stored.hosts).slice(0, MAX_HOSTS)) {
      const levels = readRooms(rooms);
      if (host.length <= 300 && levels.size > 0) this.#hosts.set(host, levels);
    }
  }

  static async open(dataDir: string): Promise<RoomMutes> {
    const file = new JsonFile(join(dataDir, ROOM_MUTES_FILE), Stored);
    const { value, damaged } = await file.read({ version: 1, hosts: {} });
    return new RoomMutes(file, value, damaged);
  }

  get(hostId: string, room: string): RoomMute {
    return this.#hosts.get(hostId)?.get(room) ?? 'all';
  }

  /**
   * Returns whether it changed; the write happens in the background of the returned promise.
   * Past the limits it throws (refused) rather than pretend a level was kept.
   */
  set(hostId: string, room: string, mute: RoomMute): { changed: boolean; written: Promise<void> } {
    if (this.get(hostId, room) === mute) return { changed: false, written: Promise.resolve() };
    const rooms = this.#hosts.get(hostId) ?? new Map<string, RoomMute>();
    if (mute !== 'all' && !rooms.has(room)) {
      if (rooms.size >= MAX_ROOMS_PER_HOST) {
        throw new ServiceError(
          'refused',
          `at most ${MAX_ROOMS_PER_HOST} rooms of a host can have their own notification level; set one back to all first`,
        );
      }
      if (rooms.size === 0 && this.#hosts.size >= MAX_HOSTS) {
        throw new ServiceError(
          'refused',
          `rooms of at most ${MAX_HOSTS} hosts can have their own notification level; set another host's rooms back to all first`,
        );
      }
    }
    if (mute === 'all') rooms.delete(room);
    else rooms.set(room, mute);
    if (rooms.size === 0) this.#hosts.delete(hostId);
    else this.#hosts.set(hostId, rooms);
    const hosts: Stored['hosts'] = {};
    for (const [host, list] of this.#hosts) hosts[host] = Object.fromEntries(list);
    return { changed: true, written: this.#file.write({ version: 1, hosts }) };
  }
}

/** One host's rooms as stored, without what cannot be read (or is the default). */
function readRooms(stored: unknown): Map<string, RoomMute> {
  const rooms = new Map<string, RoomMute>();
  const parsed = StoredRooms.safeParse(stored);
  if (!parsed.success) return rooms;
  for (const [room, level] of Object.entries(parsed.data).slice(0, MAX_ROOMS_PER_HOST)) {
    const mute = RoomMute.safeParse(level);
    if (mute.success && mute.data !== 'all' && isValidRoomName(room)) rooms.set(room, mute.data);
  }
  return rooms;
}
