import { MAX_GROUP_DEVICES } from '../../protocol/wire/messages.ts';

/** KeyPackages one commit adds at most, so the commit and its Welcome fit one wire item. */
export const MAX_ADDS_PER_COMMIT = 20;

export interface RosterLeaf {
  readonly leaf: number;
  readonly parleyKey: string;
  readonly device: string;
}

/** The host's `kps` answer: every live device of every member, KeyPackages for the new ones. */
export interface ClaimAnswer {
  readonly devices: readonly { readonly key: string; readonly device: string }[];
  readonly kps: readonly { readonly key: string; readonly device: string; readonly kp: string }[];
}

export interface GroupDiff {
  /** KeyPackages to add (base64url MLS messages). */
  readonly add: readonly string[];
  /** The devices those KeyPackages belong to: the commit's Welcome goes to them. */
  readonly addDevices: readonly string[];
  /** Device keys whose leaves leave the group. */
  readonly remove: readonly string[];
}

/**
 * What the group must change to match the room as the host orders it: leaves whose (key,
 * device) the host no longer lists as a member's live device go (never our own leaf: the
 * host's listing is no reason to remove ourselves), and members' devices not in the group
 * come in, at most MAX_ADDS_PER_COMMIT per commit and never past MAX_GROUP_DEVICES.
 * A KeyPackage for a device that is not listed, is already in the group, or appears twice
 * is ignored (a host mistake must not add anyone the listing does not name).
 */
export function reconcileDiff(
  roster: readonly RosterLeaf[],
  ownLeaf: number,
  answer: ClaimAnswer,
): GroupDiff {
  const live = new Set(answer.devices.map(({ key, device }) => pair(key, device)));
  const removeLeaves = roster.filter(
    (entry) => entry.leaf !== ownLeaf && !live.has(pair(entry.parleyKey, entry.device)),
  );
  const remove = removeLeaves.map((entry) => entry.device);
  const inGroup = new Set(roster.map((entry) => entry.device));
  const room = MAX_GROUP_DEVICES - (roster.length - removeLeaves.length);
  const add: string[] = [];
  const addDevices: string[] = [];
  for (const { key, device, kp } of answer.kps) {
    if (add.length >= Math.min(MAX_ADDS_PER_COMMIT, room)) break;
    if (!live.has(pair(key, device)) || inGroup.has(device)) continue;
    inGroup.add(device);
    add.push(kp);
    addDevices.push(device);
  }
  return { add, addDevices, remove };
}

/** Whether a diff asks for any change. */
export function diffIsEmpty(diff: GroupDiff): boolean {
  return diff.add.length === 0 && diff.remove.length === 0;
}

/**
 * How long to wait before committing, so the members' devices do not all commit the same
 * change at once: 100 ms per online device with a lower leaf index than ours, plus 0–300 ms.
 */
export function commitJitterMs(
  roster: readonly RosterLeaf[],
  ownLeaf: number,
  onlineKeys: ReadonlySet<string>,
  random: () => number,
): number {
  const rank = roster.filter(
    (entry) => entry.leaf < ownLeaf && onlineKeys.has(entry.parleyKey),
  ).length;
  return 100 * rank + Math.floor(random() * 300);
}

function pair(key: string, device: string): string {
  return `${key} ${device}`;
}
