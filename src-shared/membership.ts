import { z } from 'zod';
import {
  MAX_INVITE_TTL_MS,
  MAX_INVITE_USES,
  MAX_TOPIC_LENGTH,
  MIN_INVITE_TTL_MS,
  ROLE_NAMES,
  ROOM_EVENT_ACTIONS,
} from './membership-names.ts';

// The names and limits themselves live in membership-names.ts (no zod); re-exported here.
export { MAX_INVITE_TTL_MS, MAX_INVITE_USES, MAX_TOPIC_LENGTH, MIN_INVITE_TTL_MS };

/**
 * The vocabulary of private rooms, in one place: the wire schemas (docs/protocol.md §11), the IPC
 * contract and the UI all use these, so a role, an event or a bound one of them accepts is never
 * refused by another.
 */

/** A member's standing in a room, highest first. */
export const Role = z.enum(ROLE_NAMES);
export type Role = z.infer<typeof Role>;

/** What a room event records: `actor` did it (to `target`, where there is one). */
export const RoomEventAction = z.enum(ROOM_EVENT_ACTIONS);
export type RoomEventAction = z.infer<typeof RoomEventAction>;

/** An invite's public handle for listing and revoking: not the token, not derived from it. */
export const InviteId = z.string().regex(/^[A-Za-z0-9_-]{8,16}$/, 'not an invite id');
