import { describe, expect, it } from 'vitest';
import { FrameReader, MAX_FRAME_LEN, encodeFrame } from '../../../src-main/protocol/framing.ts';
import { LineReader, parsePreface, parseStatusLine } from '../../../src-main/protocol/preface.ts';
import { ItemType, decodeRecord, writeItemHeader } from '../../../src-main/protocol/records.ts';
import { ProtocolError } from '../../../src-main/protocol/errors.ts';

const bytes = (...values: number[]) => Uint8Array.from(values);

describe('frames', () => {
  it('round-trips frames of 0, 1 and 65535 bytes', () => {
    const reader = new FrameReader();
    for (const length of [0, 1, MAX_FRAME_LEN]) {
      const message = new Uint8Array(length).fill(7);
      const [frame] = reader.push(encodeFrame(message));
      expect(frame).toEqual(message);
    }
    expect(reader.bufferedBytes).toBe(0);
  });

  it('refuses to encode a frame over 65535 bytes', () => {
    expect(() => encodeFrame(new Uint8Array(MAX_FRAME_LEN + 1))).toThrow(ProtocolError);
  });

  it('reassembles frames split into 1-byte reads', () => {
    const stream = new Uint8Array([...encodeFrame(bytes(1, 2, 3)), ...encodeFrame(bytes(4))]);
    const reader = new FrameReader();
    const frames = [...stream].flatMap((b) => reader.push(bytes(b)));
    expect(frames).toEqual([bytes(1, 2, 3), bytes(4)]);
  });

  it('splits coalesced reads into every frame they hold, keeping the partial tail', () => {
    const reader = new FrameReader();
    const stream = new Uint8Array([...encodeFrame(bytes(1)), ...encodeFrame(bytes(2, 2)), 0, 3, 9]);
    expect(reader.push(stream)).toEqual([bytes(1), bytes(2, 2)]);
    expect(reader.bufferedBytes).toBe(3);
    expect(reader.push(bytes(9, 9))).toEqual([bytes(9, 9, 9)]);
  });

  it('keeps its own copy of a partial frame when the caller reuses its read buffer', () => {
    const reader = new FrameReader();
    const readBuffer = Buffer.from([0, 3, 1, 2]); // a Buffer, like a socket chunk
    expect(reader.push(readBuffer)).toEqual([]);
    readBuffer.fill(0xee); // the caller reads the next bytes into the same memory
    expect(reader.push(bytes(3))).toEqual([bytes(1, 2, 3)]);
  });

  it('holds at most one frame however large the announced length', () => {
    const reader = new FrameReader();
    reader.push(bytes(0xff, 0xff, 1, 2, 3));
    expect(reader.bufferedBytes).toBe(5);
  });
});

describe('preface and status lines', () => {
  const ascii = (s: string) => new TextEncoder().encode(s);

  it('parses the preface once its newline arrives, leaving the rest', () => {
    const reader = new LineReader();
    expect(reader.push(ascii('PARLEY/1 Noise_XX_25519_'))).toBeUndefined();
    const line = reader.push(ascii('ChaChaPoly_SHA256\nrest'));
    expect(line?.text).toBe('PARLEY/1 Noise_XX_25519_ChaChaPoly_SHA256');
    expect(new TextDecoder().decode(line?.rest)).toBe('rest');
    expect(parsePreface(line?.text ?? '')).toBe('Noise_XX_25519_ChaChaPoly_SHA256');
  });

  it('refuses an endless line without waiting for more', () => {
    const reader = new LineReader();
    expect(() => reader.push(new Uint8Array(300).fill(0x41))).toThrow(/too long/);
  });

  it('refuses binary garbage, other versions and malformed lines with distinct codes', () => {
    expect(() => new LineReader().push(bytes(0x16, 0x03, 0x01, 0x0a))).toThrow(/printable/);
    expect(() => parsePreface('PARLEY/2 Noise_XX_25519_ChaChaPoly_SHA256')).toThrow(
      expect.objectContaining({ code: 'unsupported-version' }),
    );
    expect(() => parsePreface('GET / HTTP/1.1')).toThrow(
      expect.objectContaining({ code: 'bad-preface' }),
    );
  });

  it('reads the host status line', () => {
    expect(() => parseStatusLine('PARLEY/1 OK')).not.toThrow();
    expect(() => parseStatusLine('PARLEY/1 ERROR busy the host is full')).toThrow(
      expect.objectContaining({ code: 'host-refused', hostCode: 'busy' }),
    );
    expect(() => parseStatusLine('SSH-2.0-OpenSSH')).toThrow(
      expect.objectContaining({ code: 'bad-preface' }),
    );
  });
});

describe('records', () => {
  it('decodes several items and refuses truncated or unknown ones', () => {
    const record = new Uint8Array(3 + 2 + 3 + 1);
    writeItemHeader(record, 0, ItemType.data, 2);
    record.set([5, 6], 3);
    writeItemHeader(record, 5, ItemType.close, 1);
    record[8] = 0x41;
    expect(decodeRecord(record)).toEqual([
      { type: ItemType.data, body: bytes(5, 6) },
      { type: ItemType.close, body: bytes(0x41) },
    ]);
    expect(() => decodeRecord(record.subarray(0, 4))).toThrow(/past the end/);
    expect(() => decodeRecord(bytes(0, 0))).toThrow(/item header/);
    expect(() => decodeRecord(bytes(9, 0, 0))).toThrow(/unknown item type/);
    expect(() => decodeRecord(new Uint8Array(0))).toThrow(/empty/);
  });
});
