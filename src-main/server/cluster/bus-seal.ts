// What a node publishes on NATS is encrypted and authenticated (ChaCha20-Poly1305) under a key
// only the cluster's nodes have: it is derived from the host's static private key, which every
// node loads from the same key file. Whoever else can reach the NATS server — a shared broker, a
// leaked NATS password, its operator — neither reads the entries (plaintext rooms' messages,
// who is where) nor makes a node apply or deliver anything: a message that does not open is
// dropped, and the node takes the entry from PostgreSQL instead.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** A nonce is 8 random bytes per sealer (new after 2^32 messages) and a 4-byte counter. */
const PREFIX_BYTES = 8;
const COUNTER_LIMIT = 0x1_0000_0000;

export class BusSeal {
  readonly #key: Buffer;
  #prefix = randomBytes(PREFIX_BYTES);
  #counter = 0;

  /** `cluster` (the log's id) salts the key: two clusters with one key file do not mix. */
  constructor(hostPrivateKey: Uint8Array, cluster: string) {
    this.#key = Buffer.from(
      hkdfSync('sha256', hostPrivateKey, cluster, 'parley cluster bus v1', KEY_BYTES),
    );
  }

  /** nonce ‖ ciphertext ‖ tag; `subject` is bound in, so a message cannot move subjects. */
  seal(subject: string, data: Uint8Array): Uint8Array {
    const nonce = this.#nextNonce();
    const cipher = createCipheriv('chacha20-poly1305', this.#key, nonce, {
      authTagLength: TAG_BYTES,
    });
    cipher.setAAD(Buffer.from(subject), { plaintextLength: data.length });
    const body = Buffer.concat([cipher.update(data), cipher.final()]);
    return Buffer.concat([nonce, body, cipher.getAuthTag()]);
  }

  /** The message's plaintext, or undefined when it was not sealed by this cluster. */
  open(subject: string, sealed: Uint8Array): Uint8Array | undefined {
    if (sealed.length < NONCE_BYTES + TAG_BYTES) return undefined;
    const nonce = sealed.subarray(0, NONCE_BYTES);
    const body = sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES);
    const tag = sealed.subarray(sealed.length - TAG_BYTES);
    try {
      const decipher = createDecipheriv('chacha20-poly1305', this.#key, nonce, {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(Buffer.from(subject), { plaintextLength: body.length });
      decipher.setAuthTag(tag);
      return new Uint8Array(Buffer.concat([decipher.update(body), decipher.final()]));
    } catch {
      return undefined; // the tag did not verify
    }
  }

  #nextNonce(): Buffer {
    if (this.#counter === COUNTER_LIMIT) {
      this.#prefix = randomBytes(PREFIX_BYTES);
      this.#counter = 0;
    }
    const nonce = Buffer.alloc(NONCE_BYTES);
    this.#prefix.copy(nonce, 0);
    nonce.writeUInt32BE(this.#counter++, PREFIX_BYTES);
    return nonce;
  }
}
