import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../../src-main/protocol/errors.ts';
import {
  FRAME_HEADER_LEN,
  FrameReader,
  MAX_FRAME_LEN,
  encodeFrame,
} from '../../../src-main/protocol/framing.ts';
import {
  ITEM_HEADER_LEN,
  ItemType,
  MAX_RECORD_LEN,
  decodeRecord,
  writeItemHeader,
} from '../../../src-main/protocol/records.ts';
import {
  FUZZ_TIMEOUT_MS,
  concat,
  fuzzCase,
  mutate,
  mutationsArb,
  reportStats,
  runs,
  split,
  splitsArb,
} from '../../fuzz/kit.ts';

// Frames (`u16 length ‖ message`) and records (`u8 type ‖ u16 length ‖ body`, repeated) are the
// first things a peer's bytes meet, before and after authentication. These properties compare
// the readers with a few-line reference model on generated, valid and mutated streams.

reportStats();

/** The reference: complete frames in order, and how many trailing bytes wait for more. */
function modelFrames(stream: Uint8Array): { frames: Uint8Array[]; rest: number } {
  const frames: Uint8Array[] = [];
  let offset = 0;
  for (;;) {
    if (stream.length - offset < 2) break;
    const length = (stream[offset]! << 8) | stream[offset + 1]!;
    if (stream.length - offset - 2 < length) break;
    frames.push(stream.slice(offset + 2, offset + 2 + length));
    offset += 2 + length;
  }
  return { frames, rest: stream.length - offset };
}

/** Feeds `chunks` to a FrameReader, checking the memory bound after every read. */
function readAll(chunks: readonly Uint8Array[]): { frames: Uint8Array[]; rest: number } {
  const reader = new FrameReader();
  const frames: Uint8Array[] = [];
  let received = 0;
  for (const chunk of chunks) {
    received += chunk.length;
    for (const frame of reader.push(chunk)) {
      if (frame.length > MAX_FRAME_LEN) throw new Error('a frame longer than the u16 allows');
      frames.push(frame.slice()); // copy now: a later read must not change an earlier frame
    }
    // Holds one incomplete frame at most, and never more than what arrived.
    if (reader.bufferedBytes > FRAME_HEADER_LEN + MAX_FRAME_LEN) throw new Error('over-buffered');
    if (reader.bufferedBytes > received) throw new Error('buffers more than it received');
  }
  return { frames, rest: reader.bufferedBytes };
}

/** A frame length: mostly small, sometimes at the edges. */
const frameLength = fc.oneof(
  { weight: 20, arbitrary: fc.integer({ min: 0, max: 300 }) },
  { weight: 2, arbitrary: fc.constantFrom(0, 1, 15, 16, 17, 255, 256, 65_519, 65_534, 65_535) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: MAX_FRAME_LEN }) },
);

/** A message of that length: a random head on a filled body (generating 64 KiB byte by byte is slow). */
const message = fc
  .tuple(frameLength, fc.uint8Array({ maxLength: 16 }), fc.integer({ min: 0, max: 255 }))
  .map(([length, head, fill]) => {
    const bytes = new Uint8Array(length).fill(fill);
    bytes.set(head.subarray(0, length));
    return bytes;
  });

/** Compares byte arrays in bulk: vitest's element-wise toEqual on 64 KiB arrays takes seconds. */
function hex<T>(value: T): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  if (Array.isArray(value)) return value.map(hex);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, hex(v)]));
  }
  return value;
}

describe('FrameReader (fuzz)', () => {
  it(
    'generated streams: the same frames as the reference, however the reads are cut',
    () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 3000 }), splitsArb, (stream, sizes) => {
          const out = fuzzCase(
            'FrameReader',
            () => readAll(split(stream, sizes)),
            () => false,
          );
          expect(hex(out.ok && out.value)).toEqual(hex(modelFrames(stream)));
        }),
        runs(),
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'valid frames come out exactly as sent, however the reads are cut or coalesced',
    () => {
      fc.assert(
        fc.property(
          fc.array(message, { minLength: 1, maxLength: 6 }),
          splitsArb,
          (messages, sizes) => {
            const stream = concat(...messages.map(encodeFrame));
            const out = fuzzCase(
              'FrameReader',
              () => readAll(split(stream, sizes)),
              () => false,
            );
            expect(hex(out.ok && out.value)).toEqual(hex({ frames: messages, rest: 0 }));
          },
        ),
        runs(0.5),
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'mutated valid streams (flips, inserts, deletes, truncation) match the reference',
    () => {
      fc.assert(
        fc.property(
          fc.array(message, { minLength: 1, maxLength: 4 }),
          mutationsArb,
          splitsArb,
          (messages, mutations, sizes) => {
            const stream = mutate(concat(...messages.map(encodeFrame)), mutations);
            const out = fuzzCase(
              'FrameReader',
              () => readAll(split(stream, sizes)),
              () => false,
            );
            expect(hex(out.ok && out.value)).toEqual(hex(modelFrames(stream)));
          },
        ),
        runs(),
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it('a maximal frame dribbled in 1-byte reads costs linear time, not quadratic', () => {
    // Before the fix this took ~6 s of CPU on the dev box: each read copied everything held.
    const stream = encodeFrame(new Uint8Array(MAX_FRAME_LEN).fill(7));
    const started = performance.now();
    const out = fuzzCase(
      'FrameReader',
      () => readAll(split(stream, [1])),
      () => false,
    );
    const elapsed = performance.now() - started;
    expect(out.ok && out.value.frames.length).toBe(1);
    expect(elapsed).toBeLessThan(1000);
  });
});

// ── records ────────────────────────────────────────────────────────────────────────────

interface TestItem {
  type: number;
  body: Uint8Array;
}

function modelRecord(record: Uint8Array): TestItem[] | 'bad-record' {
  if (record.length === 0) return 'bad-record';
  const items: TestItem[] = [];
  let offset = 0;
  while (offset < record.length) {
    if (record.length - offset < 3) return 'bad-record';
    const type = record[offset]!;
    const length = (record[offset + 1]! << 8) | record[offset + 2]!;
    if (offset + 3 + length > record.length) return 'bad-record';
    if (type !== 0 && type !== 1) return 'bad-record';
    items.push({ type, body: record.slice(offset + 3, offset + 3 + length) });
    offset += 3 + length;
  }
  return items;
}

function encodeRecord(items: readonly TestItem[]): Uint8Array {
  const length = items.reduce((n, item) => n + ITEM_HEADER_LEN + item.body.length, 0);
  const record = new Uint8Array(length);
  let offset = 0;
  for (const item of items) {
    writeItemHeader(record, offset, item.type, item.body.length);
    record.set(item.body, offset + ITEM_HEADER_LEN);
    offset += ITEM_HEADER_LEN + item.body.length;
  }
  return record;
}

const isBadRecord = (error: unknown) =>
  error instanceof ProtocolError && error.code === 'bad-record';

function decodeChecked(record: Uint8Array): TestItem[] | 'bad-record' {
  const out = fuzzCase(
    'decodeRecord',
    () => decodeRecord(record).map((item) => ({ type: item.type, body: item.body.slice() })),
    isBadRecord,
  );
  if (!out.ok) return 'bad-record';
  // Never more items than the record could hold, never a body longer than the record.
  expect(out.value.length).toBeLessThanOrEqual(record.length / ITEM_HEADER_LEN);
  return out.value;
}

const itemArb = fc.record({
  type: fc.constantFrom(ItemType.data, ItemType.close),
  body: fc.oneof(
    fc.uint8Array({ maxLength: 200 }),
    fc.integer({ min: 0, max: 4000 }).map((n) => new Uint8Array(n).fill(0x61)),
  ),
});

describe('decodeRecord (fuzz)', () => {
  it(
    'arbitrary plaintext: the reference items, or a typed bad-record',
    () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 600 }), (record) => {
          expect(hex(decodeChecked(record))).toEqual(hex(modelRecord(record)));
        }),
        runs(),
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'valid records round-trip; mutated ones decode like the reference',
    () => {
      fc.assert(
        fc.property(
          fc.array(itemArb, { minLength: 1, maxLength: 8 }),
          mutationsArb,
          (items, mutations) => {
            const record = encodeRecord(items);
            fc.pre(record.length <= MAX_RECORD_LEN);
            expect(hex(decodeChecked(record))).toEqual(hex(items));
            const mutated = mutate(record, mutations);
            expect(hex(decodeChecked(mutated))).toEqual(hex(modelRecord(mutated)));
          },
        ),
        runs(),
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});
