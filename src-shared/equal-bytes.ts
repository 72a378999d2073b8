import { equalBytes as nobleEqualBytes } from '@noble/curves/utils.js';

/**
 * Whether two byte arrays hold the same bytes, in a time that depends on their length alone, so
 * it may compare secrets. A module of its own so that what only concatenates (bytes.ts) does not
 * load @noble: the host compares with node:crypto's `timingSafeEqual` (`sameKey`,
 * src-main/protocol/host-key.ts) and never loads @noble at start (#18's start footprint).
 */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return nobleEqualBytes(a, b);
}
