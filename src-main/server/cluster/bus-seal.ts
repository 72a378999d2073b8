// What a node publishes on NATS is tagged with an HMAC under a key only the cluster's nodes
// have: it is derived from the host's static private key, which every node loads from the same
// key file. Anyone else who can publish on the NATS server (a shared broker, a leaked NATS
// password) cannot make a node apply an entry or deliver a message: an untagged or mistagged
// message is dropped, and the node takes the entry from PostgreSQL instead.
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

const TAG_BYTES = 32;

export class BusSeal {
  readonly #key: Buffer;

  /** `cluster` (the log's id) salts the key: two clusters with one key file do not mix. */
  constructor(hostPrivateKey: Uint8Array, cluster: string) {
    this.#key = Buffer.from(
      hkdfSync('sha256', hostPrivateKey, cluster, 'parley cluster bus v1', TAG_BYTES),
    );
  }

  /** The message with its tag appended; `subject` is bound in, so a tag cannot move subjects. */
  seal(subject: string, data: Uint8Array): Uint8Array {
    const out = new Uint8Array(data.length + TAG_BYTES);
    out.set(data);
    out.set(this.#tag(subject, data), data.length);
    return out;
  }

  /** The message without its tag, or undefined when the tag is not this cluster's. */
  open(subject: string, sealed: Uint8Array): Uint8Array | undefined {
    if (sealed.length < TAG_BYTES) return undefined;
    const data = sealed.subarray(0, sealed.length - TAG_BYTES);
    const tag = sealed.subarray(sealed.length - TAG_BYTES);
    return timingSafeEqual(tag, this.#tag(subject, data)) ? data : undefined;
  }

  #tag(subject: string, data: Uint8Array): Buffer {
    return createHmac('sha256', this.#key).update(subject).update('\n').update(data).digest();
  }
}
