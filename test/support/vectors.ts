import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CryptoBackend } from '../../src-main/protocol/crypto/crypto-backend.ts';

/** Published vectors, kept in the repository so that a clone tests itself (see test/vectors/SOURCE.md). */
export const VECTORS_DIR = fileURLToPath(new URL('../vectors/', import.meta.url));

export interface NoiseVector {
  protocol_name: string;
  init_prologue: string;
  init_ephemeral: string;
  init_static?: string;
  init_remote_static?: string;
  resp_prologue: string;
  resp_static?: string;
  resp_ephemeral?: string;
  resp_remote_static?: string;
  handshake_hash?: string;
  init_psks?: string[];
  resp_psks?: string[];
  messages: { payload: string; ciphertext: string }[];
}

export function loadNoiseVectors(file: 'noise-cacophony.json' | 'noise-snow.json'): NoiseVector[] {
  const parsed = JSON.parse(readFileSync(VECTORS_DIR + file, 'utf8')) as { vectors: NoiseVector[] };
  return parsed.vectors;
}

export const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
export const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** A backend whose ephemeral key generation returns the given keys, in order: vectors only. */
export function withFixedEphemerals(
  backend: CryptoBackend,
  privateKeys: Uint8Array[],
): CryptoBackend {
  const queue = [...privateKeys];
  return {
    ...backend,
    generateKeyPair() {
      const privateKey = queue.shift();
      if (!privateKey) throw new Error('test backend ran out of fixed ephemeral keys');
      return { privateKey, publicKey: backend.publicKeyOf(privateKey) };
    },
  };
}
