// Reading rows of the host's database: every column's type is checked, since the file is outside
// the program's control, and a value of the wrong type is a 'schema' error rather than a crash later.
import type { SQLOutputValue } from 'node:sqlite';
import type { ChatEvent, Relation } from '../../protocol/wire/chat-event.ts';
import { hostSchemas } from '../../protocol/wire/host-schemas-loader.ts';
import type { StoredMessage } from '../host-database.ts';
import { HostDatabaseError } from './errors.ts';
import { decodeRoomEvent } from './room-event-json.ts';

export type Row = Record<string, SQLOutputValue>;

/** What an MLS row must hold to be sent on: base64url, as the wire takes it. */
const MLS_TEXT = /^[A-Za-z0-9_-]{4,65536}$/;

export const MESSAGE_COLUMNS =
  'seq, room, sender_key, nick, text, client_msg_id, sent_at, event, kind, mls, epoch, ' +
  'ev, rel_t, rel_seq, file_id, deleted';

const FILE_ID = /^[A-Za-z0-9_-]{22}$/;

export function column<T>(row: Row, name: string, check: (value: unknown) => value is T): T {
  const value = row[name];
  if (!check(value)) {
    throw new HostDatabaseError('schema', `unexpected value type in column ${name}`);
  }
  return value;
}
export const isNumber = (v: unknown): v is number => typeof v === 'number';
export const isString = (v: unknown): v is string => typeof v === 'string';
export const isBytes = (v: unknown): v is Uint8Array => v instanceof Uint8Array;
export const isNullableNumber = (v: unknown): v is number | null => v === null || isNumber(v);
export const isNullableBytes = (v: unknown): v is Uint8Array | null => v === null || isBytes(v);
export const isNullableString = (v: unknown): v is string | null => v === null || isString(v);

/**
 * The row as a message, or undefined for an event row whose JSON does not hold a valid event,
 * or an MLS row whose data is not base64url (an edited or damaged file): the caller skips it and reports it, so one bad row neither makes a
 * room's history unreadable nor sends a malformed event to clients. (Seqs are host-wide, so a
 * room's timeline has gaps anyway.)
 */
export function toStoredMessage(row: Row): StoredMessage | undefined {
  const message: StoredMessage = {
    seq: column(row, 'seq', isNumber),
    room: column(row, 'room', isString),
    senderKey: column(row, 'sender_key', isBytes),
    nick: column(row, 'nick', isString),
    text: column(row, 'text', isString),
    clientMsgId: column(row, 'client_msg_id', isString),
    sentAt: column(row, 'sent_at', isNumber),
  };
  // A deleted row (docs/protocol.md §13) is a tombstone: its envelope, nothing of its content.
  if (row['deleted'] === 1) return { ...message, text: '', deleted: true };
  const related = relatedParts(row);
  if (related === undefined) return undefined;
  const kind = row['kind'];
  if (kind === 'mls' || kind === 'commit') {
    // An MLS row (docs/protocol.md §12): the ciphertext or commit, never text.
    const mls = row['mls'];
    const epoch = row['epoch'];
    if (typeof mls !== 'string' || !MLS_TEXT.test(mls)) return undefined;
    if (kind === 'mls') return { ...message, text: '', mls, ...related };
    if (typeof epoch !== 'number' || !Number.isSafeInteger(epoch) || epoch < 0) return undefined;
    return { ...message, text: '', commit: { epoch, data: mls } };
  }
  const ev = row['ev'];
  if (typeof ev === 'string') {
    const decoded = decodeChatEvent(ev);
    return decoded === undefined ? undefined : { ...message, text: '', ev: decoded, ...related };
  }
  const event = row['event'];
  if (event === null || event === undefined) return { ...message, ...related };
  const decoded = typeof event === 'string' ? decodeRoomEvent(event) : undefined;
  return decoded === undefined ? undefined : { ...message, event: decoded };
}

/** A row's relation and file (§13), or undefined when they are not what the wire allows. */
function relatedParts(row: Row): { rel?: Relation; file?: string } | undefined {
  const t = row['rel_t'];
  const seq = row['rel_seq'];
  const file = row['file_id'];
  const out: { rel?: Relation; file?: string } = {};
  if (t === 'edit' || t === 'delete') {
    if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) return undefined;
    out.rel = { t, seq };
  } else if (t !== null && t !== undefined) {
    return undefined;
  }
  if (typeof file === 'string') {
    if (!FILE_ID.test(file)) return undefined;
    out.file = file;
  } else if (file !== null && file !== undefined) {
    return undefined;
  }
  return out;
}

function decodeChatEvent(json: string): ChatEvent | undefined {
  // Outside the try: schemas not loaded is a bug to report, not a row to skip.
  const schema = hostSchemas().ChatEvent;
  try {
    const parsed = schema.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
