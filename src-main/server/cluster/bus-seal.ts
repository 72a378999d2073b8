// What a node publishes on NATS is encrypted and authenticated (ChaCha20-Poly1305) under a key
// only the cluster's nodes have: it is derived from the host's static private key, which every
// node loads from the same key file. Whoever else can reach the NATS server — a shared broker, a
// leaked NATS password, its operator — neither reads the entries (plaintext rooms' messages,
// who is where) nor makes a node apply or deliver anything: a message that does not open is
// dropped, and the node takes the entry from PostgreSQL instead. Nor can they replay a genuine
// message: each sender's nonces rise (a random prefix per process, then a counter), a receiver
// takes a nonce only above the last it took from that prefix on that subject, and a message
// stamped more than a minute away from the receiver's clock is refused (its prefix may have
// been forgotten by then).
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** A nonce is 8 random bytes per sealer (new after 2^32 messages) and a 4-byte counter. */
const PREFIX_BYTES = 8;
const COUNTER_LIMIT = 0x1_0000_0000;
/** A message stamped further than this from the receiver's clock is refused. */
const MAX_AGE_MS = 60_000;
/** Prefixes not heard from for this long are forgotten (their messages are stale by then). */
const FORGET_AFTER_MS = 2 * MAX_AGE_MS;
const STAMP_BYTES = 8;

export class BusSeal {
  readonly #key: Buffer;
  #prefix = randomBytes(PREFIX_BYTES);
  #counter = 0;
  readonly #now: () => number;
  /** subject + prefix → the last counter taken, and when. */
  readonly #taken = new Map<string, { counter: number; at: number }>();
  #lastPrune = 0;

  /** `cluster` (the log's id) salts the key: two clusters with one key file do not mix. */
  constructor(hostPrivateKey: Uint8Array, cluster: string, now: () => number = Date.now) {
    this.#now = now;
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
    const stamp = Buffer.alloc(STAMP_BYTES);
    stamp.writeDoubleBE(this.#now());
    cipher.setAAD(Buffer.from(subject), { plaintextLength: STAMP_BYTES + data.length });
    const body = Buffer.concat([cipher.update(stamp), cipher.update(data), cipher.final()]);
    return Buffer.concat([nonce, body, cipher.getAuthTag()]);
  }

  /**
   * The message's plaintext, or undefined when it was not sealed by this cluster, or was taken
   * already, or is stale.
   */
  open(subject: string, sealed: Uint8Array): Uint8Array | undefined {
    if (sealed.length < NONCE_BYTES + STAMP_BYTES + TAG_BYTES) return undefined;
    const nonce = sealed.subarray(0, NONCE_BYTES);
    const body = sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES);
    const tag = sealed.subarray(sealed.length - TAG_BYTES);
    try {
      const decipher = createDecipheriv('chacha20-poly1305', this.#key, nonce, {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(Buffer.from(subject), { plaintextLength: body.length });
      decipher.setAuthTag(tag);
      const plain = Buffer.concat([decipher.update(body), decipher.final()]);
      return this.#fresh(subject, nonce, plain.readDoubleBE(0))
        ? new Uint8Array(plain.subarray(STAMP_BYTES))
        : undefined;
    } catch {
      return undefined; // the tag did not verify
    }
  }

  /** Within a minute of now, and above the last counter taken from its prefix on the subject. */
  #fresh(subject: string, nonce: Uint8Array, stamp: number): boolean {
    const now = this.#now();
    if (!(Math.abs(now - stamp) <= MAX_AGE_MS)) return false;
    const id = `${subject}\n${Buffer.from(nonce.subarray(0, PREFIX_BYTES)).toString('hex')}`;
    const counter = Buffer.from(nonce).readUInt32BE(PREFIX_BYTES);
    const last = this.#taken.get(id);
    if (last && counter <= last.counter) return false;
    this.#taken.set(id, { counter, at: now });
    if (now - this.#lastPrune > FORGET_AFTER_MS) {
      this.#lastPrune = now;
      for (const [key, seen] of this.#taken) {
        if (now - seen.at > FORGET_AFTER_MS) this.#taken.delete(key);
      }
    }
    return true;
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
