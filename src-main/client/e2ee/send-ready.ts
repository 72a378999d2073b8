/** What decides whether an end-to-end encrypted room's outbox may send now. */
export interface SendReadiness {
  /** This device is in the room's group. */
  readonly hasGroup: boolean;
  /** A commit of ours is waiting for the host's answer. */
  readonly commitPending: boolean;
  /** The group still holds a device that left the room (it must not read what we send). */
  readonly removalDue: boolean;
  /**
   * A member's device should be in the group and is not yet (a change of members or devices is
   * being reconciled, or a listed device's first KeyPackages are on their way, for a while):
   * what we send now it could never read.
   */
  readonly addDue: boolean;
  readonly localEpoch: number | undefined;
  /** The room's epoch as the host last said (joined, commits, committed, stale-epoch). */
  readonly hostEpoch: number | undefined;
}

/**
 * An encrypted message can go only into a group the host will accept it for (the same
 * epoch), and never while a member who left could still read it or our own commit is about to
 * change the epoch: the host would answer `stale-epoch`, or worse, a removed member could read.
 * It also waits (briefly) for members about to be added, so a line said just after someone
 * joined reaches them.
 */
export function readyToSend(state: SendReadiness): boolean {
  return (
    state.hasGroup &&
    !state.commitPending &&
    !state.removalDue &&
    !state.addDue &&
    state.localEpoch !== undefined &&
    state.hostEpoch !== undefined &&
    state.localEpoch > 0 &&
    state.localEpoch === state.hostEpoch
  );
}

/** A group leaf as far as membership goes. */
export interface LeafOwner {
  readonly leaf: number;
  readonly parleyKey: string;
}

/**
 * Whether the group holds a leaf of a key that is no longer a member of the room (by the
 * host's member list). Our own leaf never counts: only the others can be removed by us.
 */
export function removalDue(
  roster: readonly LeafOwner[],
  ownLeaf: number,
  memberKeys: ReadonlySet<string>,
): boolean {
  return roster.some((entry) => entry.leaf !== ownLeaf && !memberKeys.has(entry.parleyKey));
}

/** How long sends wait for a member's listed device to get its first KeyPackages to the host. */
export const DEVICE_WAIT_MS = 10_000;

/**
 * Whether sends should wait for devices the host listed without a KeyPackage (they are
 * publishing their first ones): until each is in the group, at most until `until`.
 */
export function waitingForDevices(
  waited: ReadonlySet<string>,
  inGroup: ReadonlySet<string>,
  until: number,
  now: number,
): boolean {
  return now < until && [...waited].some((device) => !inGroup.has(device));
}
