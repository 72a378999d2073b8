/**
 * How a room's group is kept in the device's E2EE store: `group/<hostId>/<room>` holds the
 * MLS state together with the seq of the last timeline item it took in, written as one value
 * so a crash never leaves a state that thinks it is elsewhere in the timeline than it is.
 *
 * While a commit of ours is on its way to the host, the record also holds that commit and the
 * group after it (version 2): the host may store the commit and the device stop before the
 * `committed` answer is processed. A device cannot process its own commit, so without this its
 * own commit in the next join's replay would break the room (state dropped, device rotated,
 * every room waiting to be added again) — or, for the commit that made the group, leave it
 * waiting for a Welcome that never comes.
 */
const RECORD_VERSION = 1;
const RECORD_WITH_PENDING = 2;
const HEADER = 1 + 8;

export interface PendingRecord {
  /** The commit as sent (base64url): the replay's copy is compared with it. */
  readonly commit: string;
  /** RoomGroup.encode()'s bytes of the group after the commit. */
  readonly state: Uint8Array;
}

export interface GroupRecord {
  /** The highest seq of the room's timeline this state has processed (a Welcome's commit seq). */
  readonly lastSeq: number;
  /** RoomGroup.encode()'s bytes. */
  readonly state: Uint8Array;
  /** Our commit the host may have taken, not yet known to be (version 2 only). */
  readonly pending?: PendingRecord;
}

export function groupName(hostId: string, room: string): string {
  return `group/${hostId}/${room}`;
}

export function groupPrefix(hostId: string): string {
  return `group/${hostId}/`;
}

export function encodeGroupRecord(record: GroupRecord): Uint8Array {
  const pending = record.pending;
  if (pending === undefined) {
    const out = new Uint8Array(HEADER + record.state.length);
    out[0] = RECORD_VERSION;
    new DataView(out.buffer).setFloat64(1, record.lastSeq);
    out.set(record.state, HEADER);
    return out;
  }
  const commit = new TextEncoder().encode(pending.commit);
  const out = new Uint8Array(
    HEADER + 4 + record.state.length + 4 + commit.length + pending.state.length,
  );
  const view = new DataView(out.buffer);
  out[0] = RECORD_WITH_PENDING;
  view.setFloat64(1, record.lastSeq);
  let at = HEADER;
  view.setUint32(at, record.state.length);
  out.set(record.state, at + 4);
  at += 4 + record.state.length;
  view.setUint32(at, commit.length);
  out.set(commit, at + 4);
  at += 4 + commit.length;
  out.set(pending.state, at);
  return out;
}

/** undefined for bytes that are not a record of a known version (the state is then dropped). */
export function decodeGroupRecord(bytes: Uint8Array): GroupRecord | undefined {
  if (bytes.length <= HEADER) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lastSeq = view.getFloat64(1);
  if (!Number.isSafeInteger(lastSeq) || lastSeq < -1) return undefined;
  if (bytes[0] === RECORD_VERSION) return { lastSeq, state: bytes.slice(HEADER) };
  if (bytes[0] !== RECORD_WITH_PENDING) return undefined;
  let at = HEADER;
  if (bytes.length < at + 4) return undefined;
  const stateLength = view.getUint32(at);
  at += 4;
  if (bytes.length < at + stateLength + 4) return undefined;
  const state = bytes.slice(at, at + stateLength);
  at += stateLength;
  const commitLength = view.getUint32(at);
  at += 4;
  if (bytes.length <= at + commitLength) return undefined;
  let commit: string;
  try {
    commit = new TextDecoder('utf-8', { fatal: true }).decode(
      bytes.subarray(at, at + commitLength),
    );
  } catch {
    return undefined;
  }
  at += commitLength;
  if (state.length === 0 || commit.length === 0) return undefined;
  return { lastSeq, state, pending: { commit, state: bytes.slice(at) } };
}
