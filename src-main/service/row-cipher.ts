import {
  type KeyObject,
  createCipheriv,
  createDecipheriv,
  createHmac,
  createSecretKey,
  hkdfSync,
  randomBytes,
} from 'node:crypto';

/**
 * AES-256-GCM for one text field of one local-history row. Each row has its own random 96-bit
 * nonce, and the row's identity (host, room, sender, id — or the outbox entry's) is the
 * associated data: a ciphertext moved to another row, or another field, does not open. The
 * stored form is `v1.` + base64url(nonce ‖ ciphertext ‖ tag), so it stays a TEXT column.
 */
const PREFIX = 'v1.';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const INFO = 'parley local history v1';
const TAG_INFO = 'parley local history tag v1';

export class RowCipherError extends Error {
  override readonly name = 'RowCipherError';
}

export class RowCipher {
  /** KeyObjects, made once: a raw key would be imported again for every row (3× slower to open). */
  readonly #key: KeyObject;
  readonly #tagKey: KeyObject;

  constructor(atRestKey: Uint8Array) {
    if (atRestKey.length !== 32) throw new RowCipherError('the at-rest key must be 32 bytes');
    // Its own key, derived: the at-rest key also seals the E2EE store, and two uses of one
    // AES-GCM key would share its random-nonce budget and its fate.
    this.#key = createSecretKey(
      Buffer.from(hkdfSync('sha256', atRestKey, new Uint8Array(0), INFO, 32)),
    );
    this.#tagKey = createSecretKey(
      Buffer.from(hkdfSync('sha256', atRestKey, new Uint8Array(0), TAG_INFO, 32)),
    );
  }

  /**
   * A keyed name for a value that must be looked up without being readable (a reaction's
   * emoji as part of a primary key): HMAC-SHA-256 under its own derived key, 128 bits.
   */
  tag(value: string, context: readonly string[]): string {
    return createHmac('sha256', this.#tagKey)
      .update(associatedData([...context, value]))
      .digest()
      .subarray(0, 16)
      .toString('base64url');
  }

  seal(text: string, identity: readonly string[]): string {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(associatedData(identity));
    const body = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
    return PREFIX + Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64url');
  }

  /** Throws RowCipherError when the text was changed, moved to another row or is not ours. */
  open(sealed: string, identity: readonly string[]): string {
    if (!sealed.startsWith(PREFIX)) throw new RowCipherError('not a sealed row');
    const bytes = Buffer.from(sealed.slice(PREFIX.length), 'base64url');
    if (bytes.length < NONCE_BYTES + TAG_BYTES) throw new RowCipherError('a sealed row too short');
    const nonce = bytes.subarray(0, NONCE_BYTES);
    const tag = bytes.subarray(bytes.length - TAG_BYTES);
    const body = bytes.subarray(NONCE_BYTES, bytes.length - TAG_BYTES);
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, nonce, {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(associatedData(identity));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
    } catch {
      throw new RowCipherError('a sealed row does not open with this key');
    }
  }
}

/** Length-prefixed parts, so ("ab","c") and ("a","bc") are different associated data. */
function associatedData(parts: readonly string[]): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const bytes = Buffer.from(part, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    chunks.push(length, bytes);
  }
  return Buffer.concat(chunks);
}
