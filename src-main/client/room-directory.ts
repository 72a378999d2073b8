import type { RoomInfo } from '../protocol/wire/messages.ts';
import { HostMisbehaved } from './host-bounds.ts';

/** Rooms one key may see: the `rooms` message holds at most this many, and so does the list. */
export const MAX_ROOM_LIST = 1000;

/**
 * The rooms the host says this key may see (docs/protocol.md §11): its rooms with a role, and
 * open rooms without one. `rooms` replaces the list, `room` adds or changes one entry, a
 * removal drops one. Kept while offline, so a UI can still show the rooms; replaced on the
 * next connection's `rooms`.
 */
export class RoomDirectory {
  #rooms = new Map<string, RoomInfo>();
  /** The pages of a `rooms` listing so far, until its last page replaces the list. */
  #pages: RoomInfo[] | undefined;

  get list(): RoomInfo[] {
    return [...this.#rooms.values()];
  }

  get(room: string): RoomInfo | undefined {
    return this.#rooms.get(room);
  }

  /** The host's whole list (a later entry for the same name wins). */
  replace(rooms: readonly RoomInfo[]): void {
    this.#rooms = new Map(rooms.map((info) => [info.room, info]));
  }

  /**
   * One page of a `rooms` listing. Returns the whole listing once its last page is in (it has
   * then replaced the list), undefined while more pages are to come.
   */
  page(rooms: readonly RoomInfo[], last: boolean): readonly RoomInfo[] | undefined {
    const listing = [...(this.#pages ?? []), ...rooms];
    if (listing.length > MAX_ROOM_LIST) {
      this.#pages = undefined;
      throw new HostMisbehaved(
        'protocol-error',
        `the host listed more than ${MAX_ROOM_LIST} rooms for this key`,
      );
    }
    if (!last) {
      this.#pages = listing;
      return undefined;
    }
    this.#pages = undefined;
    this.replace(listing);
    return listing;
  }

  /** A new connection: a listing the last one left unfinished is not continued. */
  reset(): void {
    this.#pages = undefined;
  }

  /** Adds or changes one room. */
  upsert(info: RoomInfo): void {
    if (!this.#rooms.has(info.room) && this.#rooms.size >= MAX_ROOM_LIST) {
      throw new HostMisbehaved(
        'protocol-error',
        `the host listed more than ${MAX_ROOM_LIST} rooms for this key`,
      );
    }
    this.#rooms.set(info.room, info);
  }

  remove(room: string): boolean {
    return this.#rooms.delete(room);
  }
}
