import { createHash } from 'node:crypto';
import { decodeBase64Url } from '../../src-shared/base64url.ts';
import { concatBytes } from '../../src-shared/bytes.ts';

/** A member's keys as the safety number binds them: bytes, or their base64url text. */
export interface SafetyParty {
  readonly parleyKey: Uint8Array | string;
  readonly personKey: Uint8Array | string;
}

const LABEL = new TextEncoder().encode('parley safety number v1');

/**
 * The number two people compare (read aloud, in person) to know that each sees the other's real
 * keys: 60 digits in 12 groups of 5, the same on both sides. It covers the Parley key (what the
 * host names the member by) and the person key (what signs the member's devices), so a host that
 * swapped either shows another number.
 */
export function safetyNumber(a: SafetyParty, b: SafetyParty): string {
  const x = partyBytes(a);
  const y = partyBytes(b);
  const [low, high] = compareBytes(x, y) <= 0 ? [x, y] : [y, x];
  const digest = createHash('sha512')
    .update(concatBytes(LABEL, low, high))
    .digest();
  const groups: string[] = [];
  for (let g = 0; g < 12; g++) {
    let value = 0;
    for (let i = 0; i < 5; i++) value = value * 256 + (digest[g * 5 + i] ?? 0);
    groups.push(String(value % 100000).padStart(5, '0'));
  }
  return groups.join(' ');
}

function partyBytes(p: SafetyParty): Uint8Array {
  const parley = keyBytes(p.parleyKey);
  const person = keyBytes(p.personKey);
  return concatBytes(parley, person);
}

function keyBytes(key: Uint8Array | string): Uint8Array {
  const bytes = typeof key === 'string' ? decodeBase64Url(key) : key;
  if (bytes?.length !== 32) throw new TypeError('a safety number takes 32-byte keys');
  return bytes;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}
