import { z } from 'zod';

/**
 * The vocabulary of private rooms, in one place: the wire schemas (docs/protocol.md §11), the IPC
 * contract and the UI all use these, so a role, an event or a bound one of them accepts is never
 * refused by another.
 */

/** A member's standing in a room, highest first. */
export const Role = z.enum(['owner', 'admin', 'member']);
export type Role = z.infer<typeof Role>;

/** What a room event records: `actor` did it (to `target`, where there is one). */
export const RoomEventAction = z.enum([
  'created', // actor created the room
  'joined', // actor became a member (an open room, an invite, a direct message)
  'left', // actor gave up membership
  'removed', // actor removed target
  'banned', // actor banned target (and removed them)
  'unbanned', // actor lifted target's ban
  'role', // actor gave target `role`
  'topic', // actor set the topic to `topic`
  'opened', // actor made the room open to anyone who connects
  'closed', // actor made it invite-only again
]);
export type RoomEventAction = z.infer<typeof RoomEventAction>;

export const MAX_TOPIC_LENGTH = 300;
/** An invite lives at most 30 days and admits at most 10 000 keys (or has no limit: null). */
export const MAX_INVITE_TTL_MS = 30 * 24 * 3600 * 1000;
export const MIN_INVITE_TTL_MS = 60_000;
export const MAX_INVITE_USES = 10_000;

/** An invite's public handle for listing and revoking: not the token, not derived from it. */
export const InviteId = z.string().regex(/^[A-Za-z0-9_-]{8,16}$/, 'not an invite id');
