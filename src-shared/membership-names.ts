// The vocabulary of private rooms as plain values: membership.ts builds its zod enums from these
// and re-exports the limits, and the host checks a stored role or room event with them without
// loading zod at start (#18: zod and the wire schemas are ~4.5 MiB of a host's RSS).

/** A member's standing in a room, highest first. */
export const ROLE_NAMES = ['owner', 'admin', 'member'] as const;
export type RoleName = (typeof ROLE_NAMES)[number];

/** What a room event records: `actor` did it (to `target`, where there is one). */
export const ROOM_EVENT_ACTIONS = [
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
] as const;
export type RoomEventActionName = (typeof ROOM_EVENT_ACTIONS)[number];

export const MAX_TOPIC_LENGTH = 300;
/** An invite lives at most 30 days and admits at most 10 000 keys (or has no limit: null). */
export const MAX_INVITE_TTL_MS = 30 * 24 * 3600 * 1000;
export const MIN_INVITE_TTL_MS = 60_000;
export const MAX_INVITE_USES = 10_000;

export function isRoleName(value: unknown): value is RoleName {
  return (ROLE_NAMES as readonly unknown[]).includes(value);
}

export function isRoomEventAction(value: unknown): value is RoomEventActionName {
  return (ROOM_EVENT_ACTIONS as readonly unknown[]).includes(value);
}
