import { equalBytes as nobleEqualBytes } from '@noble/curves/utils.js';

/** Byte-array helpers shared by the protocol code and its tests (no Buffer in src-shared). */
export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/**
 * Whether two byte arrays hold the same bytes, in a time that depends on their length alone, so
 * it may compare secrets. (src-main compares keys with node:crypto's `timingSafeEqual`, through
 * `sameKey`; src-shared has no node:crypto.)
 */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return nobleEqualBytes(a, b);
}
