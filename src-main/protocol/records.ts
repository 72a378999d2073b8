import { ProtocolError } from './errors.ts';

/**
 * A transport message's plaintext is a record: one or more items, each
 * `u8 type ‖ u16 big-endian length ‖ body`. Batching many items per record is what lets a
 * host pay one AEAD call and one write per recipient per event-loop turn.
 */
export const ItemType = {
  /** An application message; the channel never looks inside. */
  data: 0x00,
  /** End of session: body is UTF-8 `<code> <reason>`. Lets truncation be told from a goodbye. */
  close: 0x01,
} as const;

export const ITEM_HEADER_LEN = 3;
/** Largest plaintext in one transport message: 65535 minus the 16-byte tag. */
export const MAX_RECORD_LEN = 65535 - 16;
/** Largest application message that fits in one item of one record. */
export const MAX_ITEM_LEN = MAX_RECORD_LEN - ITEM_HEADER_LEN;

export interface Item {
  readonly type: number;
  readonly body: Uint8Array;
}

export function writeItemHeader(
  target: Uint8Array,
  offset: number,
  type: number,
  length: number,
): void {
  target[offset] = type;
  target[offset + 1] = length >>> 8;
  target[offset + 2] = length & 0xff;
}

export function decodeRecord(record: Uint8Array): Item[] {
  const items: Item[] = [];
  let offset = 0;
  if (record.length === 0) throw new ProtocolError('bad-record', 'empty record');
  while (offset < record.length) {
    if (record.length - offset < ITEM_HEADER_LEN) {
      throw new ProtocolError('bad-record', 'record ends inside an item header');
    }
    const type = record[offset] ?? 0;
    const length = ((record[offset + 1] ?? 0) << 8) | (record[offset + 2] ?? 0);
    const start = offset + ITEM_HEADER_LEN;
    if (start + length > record.length) {
      throw new ProtocolError('bad-record', 'item length runs past the end of the record');
    }
    if (type !== ItemType.data && type !== ItemType.close) {
      throw new ProtocolError('bad-record', `unknown item type ${type}`);
    }
    items.push({ type, body: record.subarray(start, start + length) });
    offset = start + length;
  }
  return items;
}
