import { type CipherName, type CryptoBackend, HASH_LEN } from '../crypto/crypto-backend.ts';
import { CipherState } from './cipher-state.ts';

const EMPTY = new Uint8Array(0);
const encoder = new TextEncoder();

/** Noise spec section 5.2: the chaining key `ck`, the handshake hash `h` and a CipherState. */
export class SymmetricState {
  readonly #backend: CryptoBackend;
  readonly #cipher: CipherName;
  readonly cipherState: CipherState;
  #ck: Uint8Array;
  #h: Uint8Array;

  /** InitializeSymmetric(protocol_name). */
  constructor(backend: CryptoBackend, cipher: CipherName, protocolName: string) {
    this.#backend = backend;
    this.#cipher = cipher;
    const name = encoder.encode(protocolName);
    if (name.length <= HASH_LEN) {
      this.#h = new Uint8Array(HASH_LEN);
      this.#h.set(name);
    } else {
      this.#h = backend.sha256(name);
    }
    this.#ck = this.#h.slice();
    this.cipherState = new CipherState(backend, cipher);
  }

  mixKey(inputKeyMaterial: Uint8Array): void {
    const [ck, tempK] = this.#hkdf2(inputKeyMaterial);
    this.#ck = ck;
    this.cipherState.initializeKey(tempK);
  }

  mixHash(data: Uint8Array): void {
    this.#h = this.#backend.sha256(this.#h, data);
  }

  encryptAndHash(plaintext: Uint8Array): Uint8Array {
    const ciphertext = this.cipherState.encryptWithAd(this.#h, plaintext);
    this.mixHash(ciphertext);
    return ciphertext;
  }

  decryptAndHash(ciphertext: Uint8Array): Uint8Array {
    const plaintext = this.cipherState.decryptWithAd(this.#h, ciphertext);
    this.mixHash(ciphertext);
    return plaintext;
  }

  /** The first CipherState carries initiator → responder traffic. */
  split(): [CipherState, CipherState] {
    const [k1, k2] = this.#hkdf2(EMPTY);
    const c1 = new CipherState(this.#backend, this.#cipher);
    const c2 = new CipherState(this.#backend, this.#cipher);
    c1.initializeKey(k1);
    c2.initializeKey(k2);
    return [c1, c2];
  }

  getHandshakeHash(): Uint8Array {
    return this.#h.slice();
  }

  /** HKDF(ck, ikm, 2) from spec section 4.3, with HMAC-SHA256. */
  #hkdf2(inputKeyMaterial: Uint8Array): [Uint8Array, Uint8Array] {
    return this.#backend.hkdf2(this.#ck, inputKeyMaterial);
  }
}
