// BENCHMARK ONLY. Lives in bench/, which nothing in src-main may import (eslint.config.js), so
// the CLI, the app and the wire can never reach it.
//
// `npm run bench` measures the cost of security as a ratio: the same host code with and without
// transport encryption, side by side in one run. This is the "without": after a real Noise XX
// handshake, both directions use an AEAD that copies the plaintext and appends 16 zero bytes where
// the tag would be, so framing, record sizes, batching and fan-out are byte for byte the same.
// It provides NO confidentiality and NO integrity.
//
// It is handed to the handshakes as their `transportKeys` (in place of Noise's Split()) by
// bench/host-process.ts and bench/wire.ts alone; nothing on the wire negotiates it. A null-cipher
// peer talking to a real one fails the first record's authentication (`decrypt-failed`) in both
// directions, so it can never silently downgrade a real session.
import type {
  Aead,
  CipherName,
  CryptoBackend,
} from '../src-main/protocol/crypto/crypto-backend.ts';
import { TAG_LEN } from '../src-main/protocol/crypto/crypto-backend.ts';
import { CipherState } from '../src-main/protocol/noise/cipher-state.ts';
import type { TransportKeys } from '../src-main/protocol/transport-keys.ts';

const ZERO_TAG = new Uint8Array(TAG_LEN);

class NullAead implements Aead {
  seal(_nonce: Uint8Array, _ad: Uint8Array, plaintext: Uint8Array, headroom = 0): Uint8Array {
    const out = Buffer.allocUnsafe(headroom + plaintext.length + TAG_LEN);
    out.set(plaintext, headroom);
    out.set(ZERO_TAG, headroom + plaintext.length);
    return out;
  }

  open(_nonce: Uint8Array, _ad: Uint8Array, ciphertext: Uint8Array): Uint8Array | null {
    if (ciphertext.length < TAG_LEN) return null;
    for (let i = ciphertext.length - TAG_LEN; i < ciphertext.length; i++) {
      if (ciphertext[i] !== 0) return null;
    }
    return ciphertext.subarray(0, ciphertext.length - TAG_LEN);
  }
}

/** Only `aead` is used by a CipherState; the rest throws so nothing else can lean on this. */
function nullBackend(base: CryptoBackend): CryptoBackend {
  const refuse = (): never => {
    throw new Error('the benchmark null cipher only replaces transport encryption');
  };
  return {
    name: base.name,
    generateKeyPair: refuse,
    publicKeyOf: refuse,
    dh: refuse,
    aead: () => new NullAead(),
    sha256: refuse,
    hmacSha256: refuse,
    hkdf2: refuse,
    randomBytes: refuse,
  };
}

/**
 * BENCHMARK ONLY: transport CipherStates that do not encrypt, in place of `split()`'s output.
 * The nonces still count, so rekeying and nonce exhaustion behave as in a real session.
 */
export function insecureNullCipherStates(
  base: CryptoBackend,
  cipher: CipherName,
): [CipherState, CipherState] {
  const backend = nullBackend(base);
  const make = (): CipherState => {
    const state = new CipherState(backend, cipher);
    state.initializeKey(new Uint8Array(32));
    return state;
  };
  return [make(), make()];
}

/** BENCHMARK ONLY: the handshakes' `transportKeys` for the null cipher, on `base`'s name. */
export function insecureNullCipherKeys(base: CryptoBackend): TransportKeys {
  return (handshake) => insecureNullCipherStates(base, handshake.protocol.cipher);
}
