import { timingSafeEqual } from 'node:crypto';
import { fingerprint } from './node-fingerprint.ts';

/**
 * The host presented a static key other than the one we pinned. Carries both fingerprints
 * (never the keys' private halves, which we never have) so the UI can show them side by side.
 */
export class HostKeyMismatch extends Error {
  override readonly name = 'HostKeyMismatch';
  readonly code = 'host-key-mismatch';
  readonly expectedFingerprint: string;
  readonly actualFingerprint: string;
  readonly actualKey: Uint8Array;

  constructor(expected: Uint8Array, actual: Uint8Array) {
    super(
      `the host's key has changed: expected ${fingerprint(expected)}, got ${fingerprint(actual)}. ` +
        'Someone may be intercepting the connection; nothing was sent.',
    );
    this.expectedFingerprint = fingerprint(expected);
    this.actualFingerprint = fingerprint(actual);
    this.actualKey = actual.slice();
  }
}

export function sameKey(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A host verifier that accepts exactly one key. */
export function pinnedHostKey(expected: Uint8Array): (actual: Uint8Array) => void {
  const pinned = expected.slice();
  return (actual) => {
    if (!sameKey(pinned, actual)) throw new HostKeyMismatch(pinned, actual);
  };
}
