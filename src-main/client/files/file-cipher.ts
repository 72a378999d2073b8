import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { FILE_CHUNK_BYTES } from '../../protocol/wire/chat-event.ts';

/**
 * A file's encryption (docs/protocol.md §13): the STREAM construction (Hoang, Reyhanitabar,
 * Rogaway, Vizár 2015) over AES-256-GCM from node:crypto. Every file has a fresh random key, so
 * counter nonces never repeat under a key; chunk i (0-based, FILE_CHUNK_BYTES of plaintext, the
 * last one possibly shorter) is sealed with nonce = i as 12 bytes big-endian and additional data
 * "parley-file-v1" ‖ u32be(i) ‖ u8(last). The index in the nonce and the AAD stops chunks being
 * reordered or swapped; the last flag stops a file being cut short at a chunk boundary (the
 * chunk that would then be last was not sealed as last) or extended.
 */
export const FILE_KEY_BYTES = 32;
export const FILE_TAG_BYTES = 16;
const NONCE_BYTES = 12;
const LABEL = new TextEncoder().encode('parley-file-v1');

/** Thrown for any chunk that does not open: never says more than that (no oracle). */
export class FileCipherError extends Error {
  override readonly name = 'FileCipherError';
}

/** A fresh key for one file. */
export function newFileKey(): Uint8Array {
  return new Uint8Array(randomBytes(FILE_KEY_BYTES));
}

/** Chunks a file of `size` plaintext bytes takes (an empty file still has one, empty, chunk). */
export function chunkCount(size: number): number {
  return Math.max(1, Math.ceil(size / FILE_CHUNK_BYTES));
}

/** Ciphertext bytes of a file of `size` plaintext bytes: each chunk gains its tag. */
export function cipherSize(size: number): number {
  return size + FILE_TAG_BYTES * chunkCount(size);
}

/**
 * The largest plaintext whose ciphertext fits in `maxCipherBytes` (a host's limit is on what it
 * stores): the inverse of cipherSize. 0 when not even an empty file fits.
 */
export function maxPlainSize(maxCipherBytes: number): number {
  if (maxCipherBytes < FILE_TAG_BYTES) return 0;
  const sealedChunk = FILE_CHUNK_BYTES + FILE_TAG_BYTES;
  const full = Math.floor(maxCipherBytes / sealedChunk);
  const rest = maxCipherBytes - full * sealedChunk;
  return full * FILE_CHUNK_BYTES + Math.max(0, rest - FILE_TAG_BYTES);
}

/** Plaintext chunk `index` of `bytes` (a view, not a copy). */
export function plainChunk(bytes: Uint8Array, index: number): Uint8Array {
  return bytes.subarray(index * FILE_CHUNK_BYTES, (index + 1) * FILE_CHUNK_BYTES);
}

function nonce(index: number): Buffer {
  const bytes = Buffer.alloc(NONCE_BYTES);
  // 2^32 chunks of 32 KiB is far beyond MAX_FILE_CHUNKS; the high 8 bytes stay zero.
  bytes.writeUInt32BE(index, NONCE_BYTES - 4);
  return bytes;
}

function aad(index: number, last: boolean): Buffer {
  const bytes = Buffer.alloc(LABEL.length + 5);
  bytes.set(LABEL, 0);
  bytes.writeUInt32BE(index, LABEL.length);
  bytes[LABEL.length + 4] = last ? 1 : 0;
  return bytes;
}

function checkArgs(key: Uint8Array, index: number): void {
  if (key.length !== FILE_KEY_BYTES) throw new FileCipherError('a file key is 32 bytes');
  if (!Number.isInteger(index) || index < 0 || index > 0xffff_ffff) {
    throw new FileCipherError('not a chunk index');
  }
}

/** Seals plaintext chunk `index` (`last`: the file's final chunk). Returns ciphertext ‖ tag. */
export function encryptChunk(
  key: Uint8Array,
  index: number,
  last: boolean,
  plain: Uint8Array,
): Uint8Array {
  checkArgs(key, index);
  if (plain.length > FILE_CHUNK_BYTES) throw new FileCipherError('a chunk holds at most 32 KiB');
  const cipher = createCipheriv('aes-256-gcm', key, nonce(index), {
    authTagLength: FILE_TAG_BYTES,
  });
  cipher.setAAD(aad(index, last));
  const body = Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
  return new Uint8Array(body.buffer, body.byteOffset, body.length);
}

/** Opens chunk `index` sealed with `last`; throws FileCipherError if it does not authenticate. */
export function decryptChunk(
  key: Uint8Array,
  index: number,
  last: boolean,
  sealed: Uint8Array,
): Uint8Array {
  checkArgs(key, index);
  if (sealed.length < FILE_TAG_BYTES || sealed.length > FILE_CHUNK_BYTES + FILE_TAG_BYTES) {
    throw new FileCipherError('a file chunk did not open');
  }
  const split = sealed.length - FILE_TAG_BYTES;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce(index), {
      authTagLength: FILE_TAG_BYTES,
    });
    decipher.setAAD(aad(index, last));
    decipher.setAuthTag(sealed.subarray(split));
    const body = Buffer.concat([decipher.update(sealed.subarray(0, split)), decipher.final()]);
    return new Uint8Array(body.buffer, body.byteOffset, body.length);
  } catch {
    throw new FileCipherError('a file chunk did not open');
  }
}

/** Seals a whole file into its chunks (for tests and small files; transfers seal as they go). */
export function encryptFile(key: Uint8Array, bytes: Uint8Array): Uint8Array[] {
  const chunks = chunkCount(bytes.length);
  return Array.from({ length: chunks }, (_, index) =>
    encryptChunk(key, index, index === chunks - 1, plainChunk(bytes, index)),
  );
}

/**
 * Opens a whole file: exactly `chunks` chunks, the last sealed as last, and `size` bytes in
 * all. Throws FileCipherError for anything else (a chunk missing, moved, cut or altered).
 */
export function decryptFile(
  key: Uint8Array,
  sealed: readonly Uint8Array[],
  expected: { chunks: number; size: number },
): Uint8Array {
  if (sealed.length !== expected.chunks) throw new FileCipherError('a file chunk is missing');
  const parts = sealed.map((chunk, index) =>
    decryptChunk(key, index, index === sealed.length - 1, chunk),
  );
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  if (total !== expected.size) throw new FileCipherError('the file is not the size it claims');
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
