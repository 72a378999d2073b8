import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  FILE_TAG_BYTES,
  FileCipherError,
  chunkCount,
  cipherSize,
  decryptChunk,
  decryptFile,
  encryptChunk,
  encryptFile,
  maxPlainSize,
  newFileKey,
} from '../../../src-main/client/files/file-cipher.ts';
import { FILE_CHUNK_BYTES } from '../../../src-main/protocol/wire/chat-event.ts';

const bytes = (n: number) => new Uint8Array(randomBytes(n));
/** 2½ chunks: a file with full chunks and a short last one. */
const SIZE = FILE_CHUNK_BYTES * 2 + FILE_CHUNK_BYTES / 2;

describe('a file encrypted with STREAM over AES-256-GCM', () => {
  it('opens again to the same bytes, for empty, one-chunk, exact and uneven sizes', () => {
    for (const size of [0, 1, FILE_CHUNK_BYTES, FILE_CHUNK_BYTES + 1, SIZE]) {
      const key = newFileKey();
      const plain = bytes(size);
      const sealed = encryptFile(key, plain);
      expect(sealed).toHaveLength(chunkCount(size));
      expect(sealed.reduce((sum, c) => sum + c.length, 0)).toBe(cipherSize(size));
      expect(decryptFile(key, sealed, { chunks: sealed.length, size })).toEqual(plain);
    }
  });

  it('matches the construction of the design: nonce = index, AAD = label ‖ u32be(index) ‖ last', () => {
    // A second implementation from the spec's words, with node:crypto directly.
    const key = newFileKey();
    const plain = bytes(100);
    const nonce = Buffer.alloc(12);
    nonce.writeUInt32BE(7, 8);
    const aad = Buffer.concat([Buffer.from('parley-file-v1'), Buffer.from([0, 0, 0, 7, 1])]);
    const cipher = createCipheriv('aes-256-gcm', key, nonce).setAAD(aad);
    const expected = Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    expect(Buffer.from(encryptChunk(key, 7, true, plain))).toEqual(expected);
  });

  it('does not open under another key', () => {
    const sealed = encryptFile(newFileKey(), bytes(SIZE));
    expect(() => decryptFile(newFileKey(), sealed, { chunks: 3, size: SIZE })).toThrow(
      FileCipherError,
    );
  });

  it('refuses swapped or reordered chunks', () => {
    const key = newFileKey();
    const [a, b, c] = encryptFile(key, bytes(SIZE * 2)) as [Uint8Array, Uint8Array, Uint8Array];
    expect(() => decryptFile(key, [b, a, c], { chunks: 3, size: SIZE * 2 })).toThrow(
      FileCipherError,
    );
    // A chunk moved to another index does not open there.
    expect(() => decryptChunk(key, 0, false, b)).toThrow(FileCipherError);
  });

  it('refuses a file cut short at a chunk boundary, or missing its last chunk', () => {
    const key = newFileKey();
    const plain = bytes(SIZE);
    const sealed = encryptFile(key, plain);
    // The first two chunks alone, presented as a whole two-chunk file: chunk 1 was not sealed last.
    expect(() =>
      decryptFile(key, sealed.slice(0, 2), { chunks: 2, size: FILE_CHUNK_BYTES * 2 }),
    ).toThrow(FileCipherError);
    expect(() => decryptFile(key, sealed.slice(0, 2), { chunks: 3, size: SIZE })).toThrow(
      FileCipherError,
    );
  });

  it('refuses a chunk cut short, and a flipped bit anywhere', () => {
    const key = newFileKey();
    const sealed = encryptChunk(key, 0, true, bytes(1000));
    expect(() => decryptChunk(key, 0, true, sealed.subarray(0, sealed.length - 1))).toThrow(
      FileCipherError,
    );
    for (const position of [0, 500, sealed.length - 1]) {
      const flipped = new Uint8Array(sealed);
      flipped[position] = (flipped[position] ?? 0) ^ 1;
      expect(() => decryptChunk(key, 0, true, flipped)).toThrow(FileCipherError);
    }
    expect(decryptChunk(key, 0, true, sealed)).toHaveLength(1000);
  });

  it('refuses the last flag misused: a last chunk read as not last, and a middle one as last', () => {
    const key = newFileKey();
    const [first, , last] = encryptFile(key, bytes(SIZE)) as Uint8Array[];
    expect(() => decryptChunk(key, 2, false, last as Uint8Array)).toThrow(FileCipherError);
    expect(() => decryptChunk(key, 0, true, first as Uint8Array)).toThrow(FileCipherError);
    // An attacker who appends a chunk cannot make it open: without the key there is none to add.
    expect(() =>
      decryptFile(key, [first as Uint8Array], { chunks: 1, size: FILE_CHUNK_BYTES }),
    ).toThrow(FileCipherError);
  });

  it('refuses a file whose claimed size is not what opens', () => {
    const key = newFileKey();
    const sealed = encryptFile(key, bytes(SIZE));
    expect(() => decryptFile(key, sealed, { chunks: 3, size: SIZE + 1 })).toThrow(FileCipherError);
  });

  it('says how much plaintext fits a ciphertext limit, the inverse of cipherSize', () => {
    for (const limit of [0, 15, 16, 17, 32 * 1024 + 16, 32 * 1024 + 17, 25 * 1024 * 1024]) {
      const plain = maxPlainSize(limit);
      if (limit < FILE_TAG_BYTES) expect(plain).toBe(0);
      else {
        expect(cipherSize(plain)).toBeLessThanOrEqual(limit);
        expect(cipherSize(plain + 1)).toBeGreaterThan(limit);
      }
    }
  });

  it('refuses keys that are not 32 bytes and chunks over 32 KiB', () => {
    expect(() => encryptChunk(bytes(16), 0, true, bytes(1))).toThrow(FileCipherError);
    expect(() => encryptChunk(newFileKey(), 0, true, bytes(FILE_CHUNK_BYTES + 1))).toThrow(
      FileCipherError,
    );
  });
});
