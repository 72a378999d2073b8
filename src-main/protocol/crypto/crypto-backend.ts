/**
 * The few primitives Noise needs, behind one interface with two implementations
 * (node:crypto and @noble/*). Electron's BoringSSL lacks chacha20-poly1305, so the
 * backend is picked by probing at start-up rather than assumed. Never implement a
 * primitive here: each implementation only adapts a vetted library.
 */
export type BackendName = 'node' | 'noble';

/** Noise's cipher names, as they appear in protocol names. */
export type CipherName = 'ChaChaPoly' | 'AESGCM';

export interface KeyPair {
  readonly publicKey: Uint8Array;
  readonly privateKey: Uint8Array;
}

/** An AEAD bound to one key, so implementations can cache imported key objects. */
export interface Aead {
  /**
   * Returns ciphertext ‖ 16-byte tag, after `headroom` bytes (default 0, content unspecified)
   * that the caller fills in: a transport record gets its frame header there instead of being
   * copied into a second buffer.
   */
  seal(nonce: Uint8Array, ad: Uint8Array, plaintext: Uint8Array, headroom?: number): Uint8Array;
  /** Returns the plaintext, or null when authentication fails. Never throws on bad input. */
  open(nonce: Uint8Array, ad: Uint8Array, ciphertext: Uint8Array): Uint8Array | null;
}

export interface CryptoBackend {
  readonly name: BackendName;
  generateKeyPair(): KeyPair;
  /** The X25519 public key for a 32-byte private key. */
  publicKeyOf(privateKey: Uint8Array): Uint8Array;
  /** X25519. Throws `InvalidPublicKey` when the result is all zeros (a low-order point). */
  dh(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array;
  aead(cipher: CipherName, key: Uint8Array): Aead;
  sha256(...parts: Uint8Array[]): Uint8Array;
  hmacSha256(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array;
  /**
   * Noise's HKDF(chaining_key, input_key_material, 2) with SHA-256 (spec section 4.3), which is
   * RFC 5869's HKDF with the chaining key as salt, empty info and 64 bytes of output, split in two.
   */
  hkdf2(chainingKey: Uint8Array, inputKeyMaterial: Uint8Array): [Uint8Array, Uint8Array];
  randomBytes(length: number): Uint8Array;
}

export const DH_LEN = 32;
export const KEY_LEN = 32;
export const HASH_LEN = 32;
export const TAG_LEN = 16;
export const NONCE_LEN = 12;

/** Raised by `dh` for a public key whose shared secret is all zeros. */
export class InvalidPublicKey extends Error {
  override readonly name = 'InvalidPublicKey';
  constructor() {
    super('the peer sent an invalid (low-order) public key');
  }
}

export function isAllZero(bytes: Uint8Array): boolean {
  let acc = 0;
  for (const b of bytes) acc |= b;
  return acc === 0;
}
