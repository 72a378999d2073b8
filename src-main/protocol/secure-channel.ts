import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { TAG_LEN } from './crypto/crypto-backend.ts';
import { ProtocolError } from './errors.ts';
import { type Flushable, cancelFlush, scheduleFlush } from './flush-scheduler.ts';
import { FRAME_HEADER_LEN, type FrameReader } from './framing.ts';
import type { CipherState } from './noise/cipher-state.ts';
import {
  ITEM_HEADER_LEN,
  ItemType,
  MAX_ITEM_LEN,
  MAX_RECORD_LEN,
  decodeRecord,
  writeItemHeader,
} from './records.ts';

const EMPTY = new Uint8Array(0);
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Both sides rekey each direction after this many records; counters stay in step over TCP. */
export const DEFAULT_REKEY_INTERVAL = 1 << 20;
/** How long a closing channel waits for the peer to hang up before cutting the socket. */
const CLOSE_GRACE_MS = 2000;

export interface CloseInfo {
  /** `local`: we called close(); `peer`: it sent end-of-session; `error`: protocol or network failure. */
  readonly by: 'local' | 'peer' | 'error';
  /** A short token: the application's reason code, or a ProtocolErrorCode. */
  readonly code: string;
  readonly reason: string;
  readonly error?: ProtocolError;
}

export interface ChannelDetails {
  readonly protocolName: string;
  readonly remoteStaticKey: Uint8Array;
  readonly handshakeHash: Uint8Array;
  /** Optional payload of the handshake message the peer sent last (host info or hello). */
  readonly peerPayload: Uint8Array;
}

export interface ChannelOptions {
  readonly rekeyInterval?: number;
}

type ChannelEvents = { message: [Uint8Array]; close: [CloseInfo] };

/**
 * An established Noise transport over TCP. `send` queues; everything queued in one event-loop
 * turn leaves as one encrypted record and one write. Any record that fails authentication
 * closes the channel at once, and nothing from it is delivered.
 */
export class SecureChannel extends EventEmitter<ChannelEvents> implements Flushable {
  readonly protocolName: string;
  readonly remoteStaticKey: Uint8Array;
  readonly handshakeHash: Uint8Array;
  readonly peerPayload: Uint8Array;
  readonly #socket: Socket;
  readonly #sendCipher: CipherState;
  readonly #receiveCipher: CipherState;
  readonly #reader: FrameReader;
  readonly #rekeyInterval: number;
  #inbox: Uint8Array[];
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #closeItem: Uint8Array | undefined;
  #started = false;
  #closed: CloseInfo | undefined;

  constructor(
    socket: Socket,
    ciphers: { send: CipherState; receive: CipherState },
    details: ChannelDetails,
    handover: { reader: FrameReader; frames: Uint8Array[] },
    options: ChannelOptions = {},
  ) {
    super();
    this.#socket = socket;
    this.#sendCipher = ciphers.send;
    this.#receiveCipher = ciphers.receive;
    this.#reader = handover.reader;
    this.#inbox = handover.frames;
    this.#rekeyInterval = options.rekeyInterval ?? DEFAULT_REKEY_INTERVAL;
    this.protocolName = details.protocolName;
    this.remoteStaticKey = details.remoteStaticKey;
    this.handshakeHash = details.handshakeHash;
    this.peerPayload = details.peerPayload;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#receive(chunk));
    socket.on('end', () => this.#lost('the peer hung up without saying goodbye'));
    socket.on('close', () => this.#lost('the connection closed without an end-of-session message'));
    socket.on('error', (error: NodeJS.ErrnoException) =>
      this.#lost(`network error${error.code ? ` (${error.code})` : ''}`),
    );
  }

  /** Starts delivering messages; call once the 'message' and 'close' listeners are attached. */
  start(): this {
    if (this.#started) return this;
    this.#started = true;
    const early = this.#inbox;
    this.#inbox = [];
    for (const frame of early) {
      if (this.#closed) break;
      this.#receiveFrame(frame);
    }
    if (!this.#closed) this.#socket.resume();
    return this;
  }

  get closed(): boolean {
    return this.#closed !== undefined;
  }

  get closeInfo(): CloseInfo | undefined {
    return this.#closed;
  }

  get remoteAddress(): string | undefined {
    return this.#socket.remoteAddress;
  }

  /** Bytes waiting to leave: queued items plus what the socket has not yet written. */
  get bufferedBytes(): number {
    return this.#pendingBytes + this.#socket.writableLength;
  }

  /** Queues one application message (≤ 65516 bytes). Returns false if the channel is closed. */
  send(message: Uint8Array): boolean {
    if (this.#closed) return false;
    if (message.length > MAX_ITEM_LEN) {
      throw new ProtocolError(
        'frame-too-large',
        `an application message holds at most ${MAX_ITEM_LEN} bytes`,
      );
    }
    this.#pending.push(message);
    this.#pendingBytes += ITEM_HEADER_LEN + message.length;
    scheduleFlush(this);
    return true;
  }

  /**
   * Sends end-of-session with a reason after anything still queued, then hangs up.
   * `discardPending` drops what is queued first: for a peer that is not reading anyway.
   */
  close(code: string, reason: string, options: { discardPending?: boolean } = {}): void {
    if (this.#closed) return;
    if (options.discardPending) {
      this.#pending = [];
      this.#pendingBytes = 0;
    }
    this.#closeItem = encoder.encode(`${code} ${reason}`.slice(0, 1000));
    this.#pendingBytes += ITEM_HEADER_LEN + this.#closeItem.length;
    this.#finish({ by: 'local', code, reason });
    this.flush();
    this.#socket.end();
    setTimeout(() => this.#socket.destroy(), CLOSE_GRACE_MS).unref();
  }

  /** Encrypts everything queued into as few records as fit, and writes them at once. */
  flush(): void {
    cancelFlush(this);
    if (this.#pendingBytes === 0 || this.#socket.destroyed) return;
    const records: Uint8Array[] = [];
    let record = new Uint8Array(Math.min(this.#pendingBytes, MAX_RECORD_LEN));
    let used = 0;
    let remaining = this.#pendingBytes;
    const append = (type: number, body: Uint8Array): void => {
      if (used + ITEM_HEADER_LEN + body.length > record.length) {
        records.push(this.#seal(record.subarray(0, used)));
        record = new Uint8Array(Math.min(remaining, MAX_RECORD_LEN));
        used = 0;
      }
      writeItemHeader(record, used, type, body.length);
      record.set(body, used + ITEM_HEADER_LEN);
      used += ITEM_HEADER_LEN + body.length;
      remaining -= ITEM_HEADER_LEN + body.length;
    };
    try {
      for (const message of this.#pending) append(ItemType.data, message);
      if (this.#closeItem) append(ItemType.close, this.#closeItem);
      if (used > 0) records.push(this.#seal(record.subarray(0, used)));
    } catch (error) {
      this.#pending = [];
      this.#pendingBytes = 0;
      this.#fail(error);
      return;
    }
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#closeItem = undefined;
    this.#socket.write(records.length === 1 ? (records[0] ?? EMPTY) : concat(records));
  }

  /** Drops the connection at once with no goodbye (used on protocol violations). */
  destroy(error: ProtocolError): void {
    this.#fail(error);
  }

  #seal(plaintext: Uint8Array): Uint8Array {
    const ciphertext = this.#sendCipher.encryptWithAd(EMPTY, plaintext);
    if (this.#sendCipher.nonce % this.#rekeyInterval === 0) this.#sendCipher.rekey();
    const frame = new Uint8Array(FRAME_HEADER_LEN + ciphertext.length);
    frame[0] = ciphertext.length >>> 8;
    frame[1] = ciphertext.length & 0xff;
    frame.set(ciphertext, FRAME_HEADER_LEN);
    return frame;
  }

  #receive(chunk: Uint8Array): void {
    if (this.#closed) return;
    for (const frame of this.#reader.push(chunk)) {
      if (this.#closed) return;
      if (this.#started) this.#receiveFrame(frame);
      else this.#inbox.push(frame);
    }
  }

  #receiveFrame(frame: Uint8Array): void {
    let items;
    try {
      if (frame.length < TAG_LEN)
        throw new ProtocolError('bad-frame', 'frame too short for a transport message');
      const record = this.#receiveCipher.decryptWithAd(EMPTY, frame);
      if (this.#receiveCipher.nonce % this.#rekeyInterval === 0) this.#receiveCipher.rekey();
      items = decodeRecord(record);
    } catch (error) {
      this.#fail(error);
      return;
    }
    for (const item of items) {
      if (this.#closed) return;
      if (item.type === ItemType.data) {
        this.emit('message', item.body);
      } else {
        const text = decoder.decode(item.body);
        const space = text.indexOf(' ');
        const code = (space === -1 ? text : text.slice(0, space)) || 'closed';
        const reason = space === -1 ? '' : text.slice(space + 1);
        this.#finish({ by: 'peer', code, reason });
        this.#socket.end();
        return;
      }
    }
  }

  #lost(reason: string): void {
    if (this.#closed) return;
    this.#finish({
      by: 'error',
      code: 'connection-lost',
      reason,
      error: new ProtocolError('connection-lost', reason),
    });
    this.#socket.destroy();
  }

  #fail(error: unknown): void {
    if (this.#closed) return;
    const protocolError =
      error instanceof ProtocolError
        ? error
        : new ProtocolError('bad-record', 'internal channel error', { cause: error });
    // Tell the peer why (our sending direction is still sound), then cut the connection.
    if (!this.#socket.destroyed && protocolError.code !== 'nonce-exhausted') {
      try {
        this.#pending = [];
        this.#pendingBytes = 0;
        const body = encoder.encode(`${protocolError.code} ${protocolError.message}`);
        const record = new Uint8Array(ITEM_HEADER_LEN + body.length);
        writeItemHeader(record, 0, ItemType.close, body.length);
        record.set(body, ITEM_HEADER_LEN);
        this.#socket.end(this.#seal(record));
      } catch {
        // Nothing more to say: the socket is destroyed below.
      }
    }
    this.#finish({
      by: 'error',
      code: protocolError.code,
      reason: protocolError.message,
      error: protocolError,
    });
    setTimeout(() => this.#socket.destroy(), 50).unref();
  }

  #finish(info: CloseInfo): void {
    if (this.#closed) return;
    this.#closed = info;
    this.#inbox = [];
    this.emit('close', info);
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = Buffer.allocUnsafe(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
