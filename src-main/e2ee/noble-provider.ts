import { randomBytes } from 'node:crypto';
import {
  AeadId,
  Dhkem,
  HkdfSha256Native,
  KemId,
  toArrayBuffer,
  toUint8Array,
  XCurveDhkemPrimitives,
  type AeadEncryptionContext,
  type AeadInterface,
  type MontgomeryECDH,
} from '@hpke/common';
import { CipherSuite } from '@hpke/core';
import { gcm } from '@noble/ciphers/aes.js';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { expand, extract } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import type { Ciphersuite, CiphersuiteImpl, CiphersuiteName, CryptoProvider } from 'ts-mls';
import { makeKdfImpl } from 'ts-mls/crypto/implementation/default/makeKdfImpl.js';
import { makeGenericHpke } from 'ts-mls/crypto/implementation/hpke.js';
import { makeHashImpl } from 'ts-mls/crypto/implementation/noble/makeHashImpl.js';
import type { Signature } from 'ts-mls/crypto/signature.js';

/**
 * A ts-mls CryptoProvider that never touches WebCrypto (`crypto.subtle`): the fallback for a
 * runtime whose X25519, Ed25519 or AES-GCM fails the probe in mls-suite.ts. ts-mls's own
 * `nobleCryptoProvider` is no such fallback: it signs with WebCrypto Ed25519 whenever
 * `crypto.subtle` exists, and its HPKE runs @hpke/core's X25519 KEM, HKDF and AES-GCM on WebCrypto.
 *
 * Assembled, not written: @noble/curves (Ed25519, X25519), @noble/hashes (SHA-256, HMAC, HKDF),
 * @noble/ciphers (AES-GCM), @hpke/core's CipherSuite and @hpke/common's DHKEM for RFC 9180, and
 * ts-mls's own pure adapters (hash, KDF, HPKE glue). Randomness is node:crypto's.
 */

/** The only suite this provider implements: RFC 9420's suite 1, the one Parley speaks. */
const ONLY_SUITE = 'MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519' satisfies CiphersuiteName;

export const pureNobleProvider: CryptoProvider = {
  getCiphersuiteImpl(cs: Ciphersuite): Promise<CiphersuiteImpl> {
    if (cs.name !== ONLY_SUITE) {
      return Promise.reject(
        new Error(`the pure noble provider implements only ${ONLY_SUITE}, not ${cs.name}`),
      );
    }
    return suiteOne(cs);
  },
};

async function suiteOne(cs: Ciphersuite): Promise<CiphersuiteImpl> {
  const hpkeSuite = new CipherSuite({
    kem: new NobleDhkemX25519(),
    kdf: new NobleHkdfSha256(),
    aead: aes128Gcm,
  });
  return {
    kdf: makeKdfImpl(new NobleHkdfSha256()),
    hash: makeHashImpl(cs.hash),
    signature: ed25519Signature,
    hpke: await makeGenericHpke(cs.hpke, aeadGcm, hpkeSuite),
    rng: { randomBytes: (n: number) => new Uint8Array(randomBytes(n)) },
    name: cs.name,
  };
}

/** RFC 9180's DHKEM(X25519, HKDF-SHA256): @hpke/common's DHKEM on @noble/curves' X25519. */
class NobleDhkemX25519 extends Dhkem {
  // The base class leaves these 0; DHKEM derives a secretSize-long shared secret from them.
  override readonly secretSize = 32;
  override readonly encSize = 32;
  override readonly publicKeySize = 32;
  override readonly privateKeySize = 32;

  constructor() {
    const kdf = new NobleHkdfSha256();
    super(
      KemId.DhkemX25519HkdfSha256,
      new XCurveDhkemPrimitives('X25519', 32, montgomeryX25519, kdf),
      kdf,
    );
  }
}

/**
 * @hpke/common's HKDF-SHA256 with WebCrypto's HMAC swapped for @noble/hashes. Only the two
 * primitives are replaced; the RFC 9180 labelling (buildLabeledIkm/Info) is inherited.
 */
class NobleHkdfSha256 extends HkdfSha256Native {
  override extract(salt: Bytesish, ikm: Bytesish): Promise<ArrayBuffer> {
    // An empty salt is HMAC with an all-zero key either way (RFC 5869 §2.2).
    return settle(() => extract(sha256, toUint8Array(ikm), toUint8Array(salt)));
  }
  override expand(prk: Bytesish, info: Bytesish, len: number): Promise<ArrayBuffer> {
    return settle(() => expand(sha256, toUint8Array(prk), toUint8Array(info), len));
  }
  override extractAndExpand(
    salt: Bytesish,
    ikm: Bytesish,
    info: Bytesish,
    len: number,
  ): Promise<ArrayBuffer> {
    return settle(() =>
      expand(
        sha256,
        extract(sha256, toUint8Array(ikm), toUint8Array(salt)),
        toUint8Array(info),
        len,
      ),
    );
  }
}

type Bytesish = ArrayBufferLike | ArrayBufferView;

function settle(run: () => Uint8Array): Promise<ArrayBuffer> {
  try {
    return Promise.resolve(toArrayBuffer(run()));
  } catch (e) {
    return Promise.reject(e instanceof Error ? e : new Error('HKDF failed'));
  }
}

/** @noble/curves' X25519 in the shape @hpke/common's DHKEM expects (its keygen is async). */
const montgomeryX25519: MontgomeryECDH = {
  ...x25519,
  utils: { randomSecretKey: () => Promise.resolve(new Uint8Array(randomBytes(32))) },
};

/** AES-128-GCM on @noble/ciphers, for MLS (ts-mls's Aead) and for HPKE (@hpke's AeadInterface). */
const aeadGcm = {
  encrypt: (key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array) =>
    Promise.resolve(gcm(key, nonce, aad).encrypt(plaintext)),
  decrypt: async (key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array) =>
    gcm(key, nonce, aad).decrypt(ciphertext),
};

const aes128Gcm: AeadInterface = {
  id: AeadId.Aes128Gcm,
  keySize: 16,
  nonceSize: 12,
  tagSize: 16,
  createEncryptionContext(key: Bytesish): AeadEncryptionContext {
    const k = toUint8Array(key);
    return {
      seal: async (iv, data, aad) =>
        toArrayBuffer(gcm(k, toUint8Array(iv), toUint8Array(aad)).encrypt(toUint8Array(data))),
      open: async (iv, data, aad) =>
        toArrayBuffer(gcm(k, toUint8Array(iv), toUint8Array(aad)).decrypt(toUint8Array(data))),
    };
  },
};

/** DER prefix of a PKCS#8 Ed25519 key: what ts-mls's WebCrypto keygen hands out (48 bytes). */
const PKCS8_ED25519 = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);

/** A 32-byte seed from a raw seed or a PKCS#8 key, so keys made under either provider sign here. */
function seedOf(signKey: Uint8Array): Uint8Array {
  if (signKey.length === 32) return signKey;
  const prefix = signKey.subarray(0, PKCS8_ED25519.length);
  if (signKey.length === 48 && prefix.every((b, i) => b === PKCS8_ED25519[i])) {
    return signKey.subarray(PKCS8_ED25519.length);
  }
  throw new Error('not an Ed25519 signing key');
}

const ed25519Signature: Signature = {
  sign: async (signKey, message) => ed25519.sign(message, seedOf(signKey)),
  verify: async (publicKey, message, signature) => {
    try {
      // Members on different providers must accept and reject the same signatures, or a crafted
      // one splits the group. Strict RFC 8032 decoding (noble defaults to the laxer ZIP-215), and:
      // noble checks the cofactored equation, OpenSSL/BoringSSL the cofactorless one; they agree
      // whenever R and A have no small-order component, so such R and A are refused here.
      return (
        ed25519.verify(signature, message, publicKey, { zip215: false }) &&
        torsionFree(signature.subarray(0, 32)) &&
        torsionFree(publicKey)
      );
    } catch {
      return false; // a malformed key or signature is simply not a valid signature
    }
  },
  keygen: async () => {
    const signKey = new Uint8Array(randomBytes(32));
    return { signKey, publicKey: ed25519.getPublicKey(signKey) };
  },
};

/**
 * Whether a point has no small-order component. Costs a scalar multiplication, so points already
 * found clean are remembered: public keys repeat with every message, and a leaf's signature (its
 * R) is checked again whenever the tree is validated.
 */
function torsionFree(point: Uint8Array): boolean {
  const text = Buffer.from(point).toString('hex');
  if (clean.has(text)) return true;
  if (!ed25519.Point.fromBytes(point).isTorsionFree()) return false;
  if (clean.size >= 8192) clean.clear();
  clean.add(text);
  return true;
}

const clean = new Set<string>();
