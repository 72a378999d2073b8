import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import {
  type Aead,
  type CipherName,
  type CryptoBackend,
  type KeyPair,
  InvalidPublicKey,
  TAG_LEN,
  isAllZero,
} from './crypto-backend.ts';

// Raw X25519 keys wrapped in the fixed DER prefixes, since node:crypto imports only DER/PEM/JWK.
const PKCS8_X25519_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_X25519_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');

const OPENSSL_CIPHERS: Record<CipherName, 'chacha20-poly1305' | 'aes-256-gcm'> = {
  ChaChaPoly: 'chacha20-poly1305',
  AESGCM: 'aes-256-gcm',
};

/** Importing a private key costs more than the DH itself; statics are reused, so cache them. */
const privateKeyObjects = new WeakMap<Uint8Array, KeyObject>();

function privateKeyObject(raw: Uint8Array): KeyObject {
  let key = privateKeyObjects.get(raw);
  if (!key) {
    key = createPrivateKey({
      key: Buffer.concat([PKCS8_X25519_PREFIX, raw]),
      format: 'der',
      type: 'pkcs8',
    });
    privateKeyObjects.set(raw, key);
  }
  return key;
}

function publicKeyObject(raw: Uint8Array): KeyObject {
  return createPublicKey({
    key: Buffer.concat([SPKI_X25519_PREFIX, raw]),
    format: 'der',
    type: 'spki',
  });
}

function rawPublicKey(key: KeyObject): Uint8Array {
  const der = key.export({ format: 'der', type: 'spki' });
  return new Uint8Array(der.subarray(SPKI_X25519_PREFIX.length));
}

function toBytes(buf: Buffer): Uint8Array {
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

class NodeAead implements Aead {
  readonly #algorithm: 'chacha20-poly1305' | 'aes-256-gcm';
  readonly #key: Buffer;

  constructor(cipher: CipherName, key: Uint8Array) {
    this.#algorithm = OPENSSL_CIPHERS[cipher];
    this.#key = Buffer.from(key);
  }

  seal(nonce: Uint8Array, ad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    const options = { authTagLength: TAG_LEN };
    const cipher =
      this.#algorithm === 'aes-256-gcm'
        ? createCipheriv(this.#algorithm, this.#key, nonce, options)
        : createCipheriv(this.#algorithm, this.#key, nonce, options);
    cipher.setAAD(ad, { plaintextLength: plaintext.length });
    const out = Buffer.allocUnsafe(plaintext.length + TAG_LEN);
    const n = cipher.update(plaintext).copy(out, 0);
    cipher.final();
    cipher.getAuthTag().copy(out, n);
    return toBytes(out);
  }

  open(nonce: Uint8Array, ad: Uint8Array, ciphertext: Uint8Array): Uint8Array | null {
    if (ciphertext.length < TAG_LEN) return null;
    const body = ciphertext.subarray(0, ciphertext.length - TAG_LEN);
    const options = { authTagLength: TAG_LEN };
    const decipher =
      this.#algorithm === 'aes-256-gcm'
        ? createDecipheriv(this.#algorithm, this.#key, nonce, options)
        : createDecipheriv(this.#algorithm, this.#key, nonce, options);
    decipher.setAuthTag(ciphertext.subarray(ciphertext.length - TAG_LEN));
    decipher.setAAD(ad, { plaintextLength: body.length });
    const plaintext = decipher.update(body);
    try {
      decipher.final();
    } catch {
      return null;
    }
    return toBytes(plaintext);
  }
}

export const nodeBackend: CryptoBackend = {
  name: 'node',

  generateKeyPair(): KeyPair {
    const { privateKey } = generateKeyPairSync('x25519');
    const der = privateKey.export({ format: 'der', type: 'pkcs8' });
    const raw = new Uint8Array(der.subarray(PKCS8_X25519_PREFIX.length));
    privateKeyObjects.set(raw, privateKey);
    return { privateKey: raw, publicKey: rawPublicKey(createPublicKey(privateKey)) };
  },

  publicKeyOf(privateKey: Uint8Array): Uint8Array {
    return rawPublicKey(createPublicKey(privateKeyObject(privateKey)));
  },

  dh(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
    let shared: Buffer;
    try {
      shared = diffieHellman({
        privateKey: privateKeyObject(privateKey),
        publicKey: publicKeyObject(publicKey),
      });
    } catch {
      // OpenSSL refuses an all-zero result itself; report it the same way as noble.
      throw new InvalidPublicKey();
    }
    if (isAllZero(shared)) throw new InvalidPublicKey();
    return toBytes(shared);
  },

  aead(cipher: CipherName, key: Uint8Array): Aead {
    return new NodeAead(cipher, key);
  },

  sha256(...parts: Uint8Array[]): Uint8Array {
    const hash = createHash('sha256');
    for (const part of parts) hash.update(part);
    return toBytes(hash.digest());
  },

  hmacSha256(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
    const mac = createHmac('sha256', key);
    for (const part of parts) mac.update(part);
    return toBytes(mac.digest());
  },

  randomBytes(length: number): Uint8Array {
    return toBytes(randomBytes(length));
  },
};
