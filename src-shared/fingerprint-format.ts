/**
 * A host's or member's fingerprint: the first 160 bits of SHA-256(public key) in
 * base32 (RFC 4648 alphabet, no digits 0/1 to confuse with O/I), in 8 groups of 4,
 * e.g. `7KQT XPAM 2VBN ...`. 160 bits keeps second preimages out of reach while
 * staying short enough to read aloud over the phone.
 *
 * The text from the digest, without hashing: fingerprint.ts hashes with @noble (the renderer
 * has no node:crypto), src-main/protocol/node-fingerprint.ts with node:crypto — a host need not
 * load @noble's SHA-2 at start (#18: ~0.2 MiB of RSS, V8 optimising its rotr).
 */
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
export const FINGERPRINT_GROUPS = 8;

/** The fingerprint text of a SHA-256 digest (of a public key). */
export function formatFingerprint(sha256Digest: Uint8Array): string {
  const digest = sha256Digest.subarray(0, 20);
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
