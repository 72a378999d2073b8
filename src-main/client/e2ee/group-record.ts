/**
 * How a room's group is kept in the device's E2EE store: `group/<hostId>/<room>` holds the
 * MLS state together with the seq of the last timeline item it took in, written as one value
 * so a crash never leaves a state that thinks it is elsewhere in the timeline than it is.
 */
const RECORD_VERSION = 1;
const HEADER = 1 + 8;

export interface GroupRecord {
  /** The highest seq of the room's timeline this state has processed (a Welcome's commit seq). */
  readonly lastSeq: number;
  /** RoomGroup.encode()'s bytes. */
  readonly state: Uint8Array;
}

export function groupName(hostId: string, room: string): string {
  return `group/${hostId}/${room}`;
}

export function groupPrefix(hostId: string): string {
  return `group/${hostId}/`;
}

export function encodeGroupRecord(record: GroupRecord): Uint8Array {
  const out = new Uint8Array(HEADER + record.state.length);
  out[0] = RECORD_VERSION;
  new DataView(out.buffer).setFloat64(1, record.lastSeq);
  out.set(record.state, HEADER);
  return out;
}

/** undefined for bytes that are not a record of this version (the state is then dropped). */
export function decodeGroupRecord(bytes: Uint8Array): GroupRecord | undefined {
  if (bytes.length <= HEADER || bytes[0] !== RECORD_VERSION) return undefined;
  const lastSeq = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getFloat64(1);
  if (!Number.isSafeInteger(lastSeq) || lastSeq < -1) return undefined;
  return { lastSeq, state: bytes.slice(HEADER) };
}
