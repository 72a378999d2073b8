// Reading rows of the host's database: every column's type is checked, since the file is outside
// the program's control, and a value of the wrong type is a 'schema' error rather than a crash later.
import type { SQLOutputValue } from 'node:sqlite';
import type { StoredMessage } from '../host-database.ts';
import { HostDatabaseError } from './errors.ts';
import { decodeRoomEvent } from './room-event-json.ts';

export type Row = Record<string, SQLOutputValue>;

export const MESSAGE_COLUMNS = 'seq, room, sender_key, nick, text, client_msg_id, sent_at, event';

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
 * The row as a message, or undefined for an event row whose JSON does not hold a valid event
 * (an edited or damaged file): the caller skips it and reports it, so one bad row neither makes a
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
  const event = row['event'];
  if (event === null || event === undefined) return message;
  const decoded = typeof event === 'string' ? decodeRoomEvent(event) : undefined;
  return decoded === undefined ? undefined : { ...message, event: decoded };
}
