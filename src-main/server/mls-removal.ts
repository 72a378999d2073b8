// A membership change the room's MLS group has not committed yet (docs/protocol.md §12). The
// column is still called `mls_removal_since` (renaming it would cost a migration); it marks
// additions too.
//
// Removals: when a key stops being a member of an end-to-end encrypted room (part, remove, ban),
// or one of a member's devices is retired, the group still holds the leaver until a member commits
// its removal. Members who have not yet seen the change would meanwhile encrypt for the old group,
// and a leaver keeping its group state could read that.
//
// Additions: when a key becomes a member (an invite redeemed, a direct message made or opened
// again) or a member's new device publishes its first KeyPackages, the group lacks the newcomer
// until a member commits its add. A line sent the moment it joined — by a member who has not yet
// seen the `joined` event — would be sealed for a group without it, and the newcomer could never
// read it. (Open rooms are never end-to-end encrypted, so joining one marks nothing.)
//
// So the host marks the room in the transaction that changes the membership (or records the
// device), refuses MLS messages (`stale-epoch`) while the mark stands, and clears it with the
// room's next accepted commit: clients requeue and encrypt again after that commit.
//
// The host cannot tell which leaves a commit adds or removes (it does not track the ratchet
// tree), so any accepted commit clears the mark; members' reconcile commits the change first
// thing. Nor can it tell whether a leaver's device was in the group at all, or whether anyone
// will add a newcomer: when nobody commits, the mark lapses after MEMBERSHIP_GRACE_MS. By then
// every connected member has seen the change and its client holds its own sends until its group
// matches the room (send-ready.ts): the host's mark only has to cover the moments before that.
/** How long a membership-change mark holds without a commit. */
export const MEMBERSHIP_GRACE_MS = 15_000;

/** Whether MLS messages to a room marked at `since` (NULL: not marked) are refused at `now`. */
export function membershipChangePending(since: number | null, now: number): boolean {
  // Both directions: a host clock set back must not hold the room for hours.
  return since !== null && Math.abs(now - since) < MEMBERSHIP_GRACE_MS;
}

/**
 * Marks the room (if end-to-end encrypted) when the key that left or joined it has a live
 * device — one that `kp-claim` lists, so members' groups hold it or are adding it. A key with
 * none is in no group and will be added by nobody until it publishes (which marks its rooms then).
 * Parameters: now, room, key, the oldest last-seen time of a live device (see markRoomParams).
 */
export const MARK_ROOM_SQL = `UPDATE rooms SET mls_removal_since = ?1
  WHERE name = ?2 AND e2ee = 1
    AND EXISTS (SELECT 1 FROM mls_devices WHERE member_key = ?3 AND last_seen >= ?4)`;

export function markRoomParams(
  room: string,
  key: Uint8Array,
  now: number,
  liveSince: number,
): [number, string, Uint8Array, number] {
  return [now, room, key, liveSince];
}

/**
 * Marks every end-to-end encrypted room the key is a member of: a device of it was recorded
 * (members' groups must add it) or retired (they must remove it).
 */
export const MARK_ROOMS_OF_KEY_SQL = `UPDATE rooms SET mls_removal_since = ?1
  WHERE e2ee = 1 AND name IN (SELECT room FROM members WHERE member_key = ?2)`;
