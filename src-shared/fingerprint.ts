import { sha256 } from '@noble/hashes/sha2.js';
import { formatFingerprint } from './fingerprint-format.ts';

export { FINGERPRINT_GROUPS, formatFingerprint } from './fingerprint-format.ts';

/** A public key's fingerprint (fingerprint-format.ts), hashed here with @noble for the UI too. */
export function fingerprint(publicKey: Uint8Array): string {
  return formatFingerprint(sha256(publicKey));
}

/** For comparing what a person typed or pasted: case, spaces and dashes do not matter. */
export function normalizeFingerprint(text: string): string {
  return text.toUpperCase().replace(/[\s-]/g, '');
}
