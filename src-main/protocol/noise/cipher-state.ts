import {
  type Aead,
  type CipherName,
  type CryptoBackend,
  KEY_LEN,
  NONCE_LEN,
} from '../crypto/crypto-backend.ts';
import { ProtocolError } from '../errors.ts';

const EMPTY = new Uint8Array(0);

/**
 * The spec reserves n = 2^64-1; a JavaScript number is exact up to 2^53-1, which no
 * connection reaches (at a million records a second it takes 285 years). Refusing past it
 * keeps the "never reuse a nonce" rule literally true.
 */
export const MAX_NONCE = Number.MAX_SAFE_INTEGER;

/**
 * The nonce is built here for each AEAD call and consumed by it synchronously, so one buffer
 * serves every CipherState (a host holds two per connection; see docs/benchmarks.md, memory).
 * Bytes 0–3 stay zero; every call writes bytes 4–11.
 */
const nonceBytes = new Uint8Array(NONCE_LEN);
const nonceView = new DataView(nonceBytes.buffer);

/**
 * Noise spec section 5.1: a key `k` and a counter nonce `n`. The nonce is 32 zero bits
 * followed by the 64-bit counter: little-endian for ChaChaPoly, big-endian for AESGCM.
 * `k` lives only inside the backend's Aead (imported once), not in a second copy here.
 */
export class CipherState {
  readonly #backend: CryptoBackend;
  readonly #cipher: CipherName;
  #aead: Aead | undefined;
  #n = 0;

  constructor(backend: CryptoBackend, cipher: CipherName) {
    this.#backend = backend;
    this.#cipher = cipher;
  }

  initializeKey(key: Uint8Array | undefined): void {
    this.#aead = key ? this.#backend.aead(this.#cipher, key) : undefined;
    this.#n = 0;
  }

  hasKey(): boolean {
    return this.#aead !== undefined;
  }

  /** How many messages this state has encrypted or decrypted under the current key. */
  get nonce(): number {
    return this.#n;
  }

  /** Spec SetNonce(): for resuming or testing the nonce limit; never moves backwards in use. */
  setNonce(n: number): void {
    this.#n = n;
  }

  /**
   * `headroom` bytes (default 0) precede the ciphertext in the result, for the caller's frame
   * header (see Aead.seal). Without a key the plaintext is returned as is, as the spec says.
   */
  encryptWithAd(ad: Uint8Array, plaintext: Uint8Array, headroom = 0): Uint8Array {
    if (!this.#aead) return headroom === 0 ? plaintext : withHeadroom(plaintext, headroom);
    const sealed = this.#aead.seal(this.#nonceFor(this.#n), ad, plaintext, headroom);
    this.#n++;
    return sealed;
  }

  /** Throws `decrypt-failed` when authentication fails; the nonce is not advanced then. */
  decryptWithAd(ad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    if (!this.#aead) return ciphertext;
    const plaintext = this.#aead.open(this.#nonceFor(this.#n), ad, ciphertext);
    if (!plaintext) throw new ProtocolError('decrypt-failed', 'message failed authentication');
    this.#n++;
    return plaintext;
  }

  /** Spec section 4.2: k = first 32 bytes of ENCRYPT(k, 2^64-1, empty, zeros). */
  rekey(): void {
    if (!this.#aead) return;
    const nonce = new Uint8Array(NONCE_LEN).fill(0xff, 4);
    const next = this.#aead.seal(nonce, EMPTY, new Uint8Array(KEY_LEN)).subarray(0, KEY_LEN);
    const n = this.#n;
    this.initializeKey(next);
    this.#n = n; // Rekey() keeps the nonce.
  }

  #nonceFor(n: number): Uint8Array {
    if (n >= MAX_NONCE) {
      throw new ProtocolError(
        'nonce-exhausted',
        'nonce space exhausted; a new handshake is needed',
      );
    }
    const low = n >>> 0;
    const high = Math.floor(n / 0x1_0000_0000);
    if (this.#cipher === 'ChaChaPoly') {
      nonceView.setUint32(4, low, true);
      nonceView.setUint32(8, high, true);
    } else {
      nonceView.setUint32(4, high, false);
      nonceView.setUint32(8, low, false);
    }
    return nonceBytes;
  }
}

function withHeadroom(bytes: Uint8Array, headroom: number): Uint8Array {
  const out = new Uint8Array(headroom + bytes.length);
  out.set(bytes, headroom);
  return out;
}
