// A public key's fingerprint (src-shared/fingerprint-format.ts), hashed with node:crypto: the
// host and the main process use this one, so a host does not load @noble's SHA-2 at start (#18).
import { createHash } from 'node:crypto';
import { formatFingerprint } from '../../src-shared/fingerprint-format.ts';

export function fingerprint(publicKey: Uint8Array): string {
  return formatFingerprint(createHash('sha256').update(publicKey).digest());
}
