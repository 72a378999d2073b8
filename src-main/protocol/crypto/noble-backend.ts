import { x25519 } from '@noble/curves/ed25519.js';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { gcm } from '@noble/ciphers/aes.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { hmac } from '@noble/hashes/hmac.js';
import { randomBytes } from '@noble/hashes/utils.js';
import {
  type Aead,
  type CipherName,
  type CryptoBackend,
  type KeyPair,
  InvalidPublicKey,
  isAllZero,
} from './crypto-backend.ts';
import { concatBytes } from '../../../src-shared/bytes.ts';

/** The audited pure-JS backend: slower, but runs wherever JavaScript does (incl. BoringSSL builds). */
class NobleAead implements Aead {
  readonly #cipher: CipherName;
  readonly #key: Uint8Array;

  constructor(cipher: CipherName, key: Uint8Array) {
    this.#cipher = cipher;
    this.#key = key.slice();
  }

  #instance(nonce: Uint8Array, ad: Uint8Array) {
    return this.#cipher === 'ChaChaPoly'
      ? chacha20poly1305(this.#key, nonce, ad)
      : gcm(this.#key, nonce, ad);
  }

  seal(nonce: Uint8Array, ad: Uint8Array, plaintext: Uint8Array, headroom = 0): Uint8Array {
    const sealed = this.#instance(nonce, ad).encrypt(plaintext);
    if (headroom === 0) return sealed;
    const out = new Uint8Array(headroom + sealed.length);
    out.set(sealed, headroom);
    return out;
  }

  open(nonce: Uint8Array, ad: Uint8Array, ciphertext: Uint8Array): Uint8Array | null {
    try {
      return this.#instance(nonce, ad).decrypt(ciphertext);
    } catch {
      return null;
    }
  }
}

export const nobleBackend: CryptoBackend = {
  name: 'noble',

  generateKeyPair(): KeyPair {
    const privateKey = x25519.utils.randomSecretKey();
    return { privateKey, publicKey: x25519.getPublicKey(privateKey) };
  },

  publicKeyOf(privateKey: Uint8Array): Uint8Array {
    return x25519.getPublicKey(privateKey);
  },

  dh(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
    let shared: Uint8Array;
    try {
      shared = x25519.getSharedSecret(privateKey, publicKey);
    } catch {
      throw new InvalidPublicKey();
    }
    if (isAllZero(shared)) throw new InvalidPublicKey();
    return shared;
  },

  aead(cipher: CipherName, key: Uint8Array): Aead {
    return new NobleAead(cipher, key);
  },

  sha256(...parts: Uint8Array[]): Uint8Array {
    const h = sha256.create();
    for (const part of parts) h.update(part);
    return h.digest();
  },

  hmacSha256(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
    return hmac(sha256, key, parts.length === 1 && parts[0] ? parts[0] : concatBytes(...parts));
  },

  hkdf2(chainingKey: Uint8Array, inputKeyMaterial: Uint8Array): [Uint8Array, Uint8Array] {
    // The spec's three HMACs, as written in section 4.3.
    const tempKey = hmac(sha256, chainingKey, inputKeyMaterial);
    const output1 = hmac(sha256, tempKey, Uint8Array.of(0x01));
    const output2 = hmac(sha256, tempKey, concatBytes(output1, Uint8Array.of(0x02)));
    return [output1, output2];
  },

  randomBytes(length: number): Uint8Array {
    return randomBytes(length);
  },
};
