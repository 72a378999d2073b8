// Where Alt+↑/↓ and Alt+Shift+↑/↓ go: the rooms in sidebar order, stepped through by pure
// functions so the rules (this host only, or every host's unread rooms) are tested without a
// window; the chat screen only opens the room they name.

import type { RoomMute } from '../../src-shared/ipc/domain.ts';
import { stepWhere } from './shortcuts.ts';

/** A room as the sidebar lists it, with its host: what stepping needs of `app.sidebarRooms`. */
export interface NavRoom {
  readonly hostId: string;
  readonly room: {
    readonly name: string;
    readonly joined: boolean;
    readonly unread: number;
    readonly mute: RoomMute;
  };
}

/** Where the reader is: the host on screen and its room on screen. */
export interface Here {
  readonly hostId: string | null;
  readonly room: string | null;
}

/**
 * The room one step up or `down` from `here`: among the joined rooms on this host, or with
 * `unreadOnly` among the joined rooms with unread messages on every host (a room muted to
 * "nothing" asked not to be brought up). Wraps around; undefined when there is nowhere to go.
 */
export function stepRoom<T extends NavRoom>(
  rooms: readonly T[],
  here: Here,
  down: boolean,
  unreadOnly: boolean,
): T | undefined {
  const joined = rooms.filter((entry) => entry.room.joined);
  const list = unreadOnly ? joined : joined.filter((entry) => entry.hostId === here.hostId);
  const from = list.findIndex(
    (entry) => entry.hostId === here.hostId && entry.room.name === here.room,
  );
  const at = stepWhere(list, from, down, (entry) =>
    unreadOnly ? entry.room.unread > 0 && entry.room.mute !== 'nothing' : true,
  );
  return list[at];
}
