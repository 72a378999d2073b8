import {
  type CryptoBackend,
  type KeyPair,
  DH_LEN,
  InvalidPublicKey,
  TAG_LEN,
} from '../crypto/crypto-backend.ts';
import { ProtocolError } from '../errors.ts';
import type { CipherState } from './cipher-state.ts';
import { type HandshakePattern, type Token, PATTERNS } from './patterns.ts';
import { type NoiseProtocol, parseProtocolName } from './protocol-name.ts';
import { SymmetricState } from './symmetric-state.ts';
import { concatBytes } from '../../../src-shared/bytes.ts';

/** Noise messages, like our frames, are at most 65535 bytes. */
export const MAX_MESSAGE_LEN = 65535;

/**
 * A client meets the same pinned host key on every connection. The backend caches its imported
 * form of a key per array (an X25519 public-key import costs about what a DH does), so the
 * initiator swaps a static key read from a handshake for the array last seen with the same bytes.
 * Bounded, least recently used out first; only this module holds these arrays (remoteStaticKey
 * returns copies). Not on the responder: a host answering faster for a key seen recently would
 * tell anyone who sends that public key (no private key needed) that its owner was just online.
 */
const RECENT_STATIC_KEYS = 64;
const recentStaticKeys = new Map<string, Uint8Array>();

function recurringStaticKey(bytes: Uint8Array): Uint8Array {
  const id = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  const known = recentStaticKeys.get(id);
  if (known) {
    recentStaticKeys.delete(id);
    recentStaticKeys.set(id, known);
    return known;
  }
  const key = bytes.slice();
  recentStaticKeys.set(id, key);
  if (recentStaticKeys.size > RECENT_STATIC_KEYS) {
    const oldest = recentStaticKeys.keys().next().value;
    if (oldest !== undefined) recentStaticKeys.delete(oldest);
  }
  return key;
}

export interface HandshakeOptions {
  readonly protocol: NoiseProtocol | string;
  readonly initiator: boolean;
  readonly prologue: Uint8Array;
  /** Our static key pair, when the pattern has one for our role. */
  readonly s?: KeyPair;
  /** The peer's static public key, when the pattern makes it known in advance. */
  readonly rs?: Uint8Array;
  /**
   * Ephemeral keys come from `backend.generateKeyPair()`. Tests reproduce the vectors by
   * passing a backend whose key generation is fixed; the channel API never takes a backend
   * object, only a backend name, so fixed ephemerals cannot reach production code.
   */
  readonly backend: CryptoBackend;
}

/** Noise spec section 5.3: runs one handshake pattern for one role. */
export class HandshakeState {
  readonly protocol: NoiseProtocol;
  readonly initiator: boolean;
  readonly #backend: CryptoBackend;
  readonly #pattern: HandshakePattern;
  readonly #symmetric: SymmetricState;
  #s: KeyPair | undefined;
  #e: KeyPair | undefined;
  #rs: Uint8Array | undefined;
  #re: Uint8Array | undefined;
  #index = 0;
  #failed = false;

  constructor(options: HandshakeOptions) {
    this.protocol =
      typeof options.protocol === 'string' ? parseProtocolName(options.protocol) : options.protocol;
    this.initiator = options.initiator;
    this.#backend = options.backend;
    this.#pattern = PATTERNS[this.protocol.pattern];
    this.#s = options.s;
    this.#rs = options.rs?.slice();
    this.#symmetric = new SymmetricState(options.backend, this.protocol.cipher, this.protocol.name);
    this.#symmetric.mixHash(options.prologue);
    // Pre-messages: the initiator's pre-keys are hashed first, then the responder's.
    this.#mixPreMessage(this.#pattern.initiatorPre, this.initiator ? this.#s?.publicKey : this.#rs);
    this.#mixPreMessage(this.#pattern.responderPre, this.initiator ? this.#rs : this.#s?.publicKey);
  }

  /** True once every handshake message has been written or read. */
  isComplete(): boolean {
    return this.#index >= this.#pattern.messages.length;
  }

  /** Whether the next message is ours to write. */
  isMyTurn(): boolean {
    return (this.#index % 2 === 0) === this.initiator;
  }

  get remoteStaticKey(): Uint8Array | undefined {
    return this.#rs?.slice();
  }

  getHandshakeHash(): Uint8Array {
    return this.#symmetric.getHandshakeHash();
  }

  writeMessage(payload: Uint8Array): Uint8Array {
    const tokens = this.#nextTokens(true);
    const parts: Uint8Array[] = [];
    try {
      for (const token of tokens) {
        switch (token) {
          case 'e': {
            this.#e = this.#backend.generateKeyPair();
            parts.push(this.#e.publicKey);
            this.#symmetric.mixHash(this.#e.publicKey);
            break;
          }
          case 's': {
            if (!this.#s) throw new Error('this pattern needs a local static key');
            parts.push(this.#symmetric.encryptAndHash(this.#s.publicKey));
            break;
          }
          default:
            this.#mixDh(token);
        }
      }
      parts.push(this.#symmetric.encryptAndHash(payload));
    } catch (error) {
      throw this.#fail(error);
    }
    const message = concatBytes(...parts);
    if (message.length > MAX_MESSAGE_LEN) {
      throw this.#fail(
        new ProtocolError('frame-too-large', 'handshake message exceeds 65535 bytes'),
      );
    }
    this.#index++;
    return message;
  }

  readMessage(message: Uint8Array): Uint8Array {
    const tokens = this.#nextTokens(false);
    let offset = 0;
    const take = (length: number): Uint8Array => {
      if (offset + length > message.length) {
        throw new ProtocolError('handshake-failed', 'handshake message is too short');
      }
      const bytes = message.subarray(offset, offset + length);
      offset += length;
      return bytes;
    };
    let payload: Uint8Array;
    try {
      if (message.length > MAX_MESSAGE_LEN) {
        throw new ProtocolError('frame-too-large', 'handshake message exceeds 65535 bytes');
      }
      for (const token of tokens) {
        switch (token) {
          case 'e': {
            this.#re = take(DH_LEN).slice();
            this.#symmetric.mixHash(this.#re);
            break;
          }
          case 's': {
            const length = DH_LEN + (this.#symmetric.cipherState.hasKey() ? TAG_LEN : 0);
            const rs = this.#symmetric.decryptAndHash(take(length));
            this.#rs = this.initiator ? recurringStaticKey(rs) : rs.slice();
            break;
          }
          default:
            this.#mixDh(token);
        }
      }
      payload = this.#symmetric.decryptAndHash(message.subarray(offset));
    } catch (error) {
      throw this.#fail(error);
    }
    this.#index++;
    return payload;
  }

  /** Spec section 5.2 Split(): [initiator → responder, responder → initiator]. */
  split(): [CipherState, CipherState] {
    if (!this.isComplete() || this.#failed) {
      throw new ProtocolError('handshake-failed', 'split() before the handshake completed');
    }
    return this.#symmetric.split();
  }

  #nextTokens(writing: boolean): readonly Token[] {
    if (this.#failed) throw new ProtocolError('handshake-failed', 'the handshake already failed');
    const tokens = this.#pattern.messages[this.#index];
    if (!tokens) throw new ProtocolError('handshake-failed', 'the handshake is already complete');
    if (this.isMyTurn() !== writing) {
      throw new ProtocolError(
        'handshake-failed',
        writing ? 'it is the peer’s turn to send' : 'it is our turn to send',
      );
    }
    return tokens;
  }

  #mixPreMessage(tokens: readonly Token[], key: Uint8Array | undefined): void {
    for (const token of tokens) {
      if (token !== 's' || !key) throw new Error(`pattern needs a pre-shared "${token}" key`);
      this.#symmetric.mixHash(key);
    }
  }

  /** ee, es, se, ss: the first letter is the initiator's key, the second the responder's. */
  #mixDh(token: Exclude<Token, 'e' | 's'>): void {
    const initiatorKey = token[0] === 'e' ? 'e' : 's';
    const responderKey = token[1] === 'e' ? 'e' : 's';
    const localKind = this.initiator ? initiatorKey : responderKey;
    const remoteKind = this.initiator ? responderKey : initiatorKey;
    const local = localKind === 'e' ? this.#e : this.#s;
    const remote = remoteKind === 'e' ? this.#re : this.#rs;
    if (!local || !remote) throw new ProtocolError('handshake-failed', `missing key for ${token}`);
    this.#symmetric.mixKey(this.#backend.dh(local.privateKey, remote));
  }

  #fail(error: unknown): ProtocolError {
    this.#failed = true;
    // A handshake message that fails authentication is a failed handshake (the documented
    // code), not the transport-level `decrypt-failed` the CipherState reports.
    if (error instanceof ProtocolError && error.code === 'decrypt-failed') {
      return new ProtocolError('handshake-failed', 'a handshake message failed authentication', {
        cause: error,
      });
    }
    if (error instanceof ProtocolError) return error;
    if (error instanceof InvalidPublicKey) {
      return new ProtocolError('invalid-key', error.message);
    }
    return new ProtocolError('handshake-failed', 'handshake failed', { cause: error });
  }
}
