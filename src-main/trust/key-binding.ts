import { encodeBase64Url } from '../../src-shared/base64url.ts';
import { decodePublicKeyText } from '../../src-shared/identifiers.ts';

/**
 * How a host certificate names the Noise static key it vouches for: one subjectAltName of type
 * uniformResourceIdentifier, `parley-key:<the 32-byte X25519 public key as 43 characters of
 * canonical unpadded base64url>` (docs/trust.md, docs/protocol.md §9.1). A SAN, not a private
 * extension, so any CA tool (openssl, step-ca, …) can issue it and any viewer shows it.
 */
export const KEY_BINDING_SCHEME = 'parley-key';

export function keyBindingUri(publicKey: Uint8Array): string {
  return `${KEY_BINDING_SCHEME}:${encodeBase64Url(publicKey)}`;
}

/** Whether a URI SAN is meant as a key binding (the scheme compares case-insensitively). */
export function isKeyBindingUri(uri: string): boolean {
  return uri.slice(0, KEY_BINDING_SCHEME.length + 1).toLowerCase() === `${KEY_BINDING_SCHEME}:`;
}

/** The bound key, or undefined when the value is not exactly one canonical 32-byte key. */
export function parseKeyBindingUri(uri: string): Uint8Array | undefined {
  if (!isKeyBindingUri(uri)) return undefined;
  return decodePublicKeyText(uri.slice(KEY_BINDING_SCHEME.length + 1));
}
