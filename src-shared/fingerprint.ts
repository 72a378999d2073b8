import { sha256 } from '@noble/hashes/sha2.js';

/**
 * A host's or member's fingerprint: the first 160 bits of SHA-256(public key) in
 * base32 (RFC 4648 alphabet, no digits 0/1 to confuse with O/I), in 8 groups of 4,
 * e.g. `7KQT XPAM 2VBN ...`. 160 bits keeps second preimages out of reach while
 * staying short enough to read aloud over the phone.
 */
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
export const FINGERPRINT_GROUPS = 8;

export function fingerprint(publicKey: Uint8Array): string {
  const digest = sha256(publicKey).subarray(0, 20);
  let bits = 0;
  let value = 0;
  let chars = '';
  for (const byte of digest) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      chars += BASE32[(value >> bits) & 31];
    }
    value &= (1 << bits) - 1;
  }
  return chars.match(/.{4}/g)?.join(' ') ?? chars;
}

/** For comparing what a person typed or pasted: case, spaces and dashes do not matter. */
export function normalizeFingerprint(text: string): string {
  return text.toUpperCase().replace(/[\s-]/g, '');
}
