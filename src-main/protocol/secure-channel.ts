import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { TAG_LEN } from './crypto/crypto-backend.ts';
import { ProtocolError } from './errors.ts';
import { type Flushable, cancelFlush, scheduleFlush } from './flush-scheduler.ts';
import { FRAME_HEADER_LEN, type FrameReader } from './framing.ts';
import type { CipherState } from './noise/cipher-state.ts';
import type { GatedOutput, OutputGate } from './output-gate.ts';
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
/**
 * Records are assembled here and sealed at once. The AEAD copies its input, so one buffer serves
 * every channel: a flush allocates nothing per record or per message for the plaintext.
 */
const scratch = new Uint8Array(MAX_RECORD_LEN);

/** Each socket's channel, for the listeners all channels share (see the constructor). */
const channelOf = new WeakMap<Socket, SecureChannel>();

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

/** Items waiting for a durability group (see useOutputGate), not yet sealed. */
interface HeldItems {
  readonly group: number;
  readonly items: Uint8Array[];
}

/**
 * An established Noise transport over TCP. `send` queues; everything queued in one event-loop
 * turn leaves as one encrypted record and one write. Any record that fails authentication
 * closes the channel at once, and nothing from it is delivered.
 */
export class SecureChannel extends EventEmitter<ChannelEvents> implements Flushable, GatedOutput {
  readonly protocolName: string;
  readonly remoteStaticKey: Uint8Array;
  /**
   * The handshake hash followed by the peer's payload, in one array: a typed array and its
   * buffer are ~0.2 KB of heap each, and a host keeps every channel for its connection's life.
   */
  readonly #handshake: Uint8Array;
  readonly #hashLength: number;
  readonly #socket: Socket;
  readonly #sendCipher: CipherState;
  readonly #receiveCipher: CipherState;
  readonly #reader: FrameReader;
  readonly #rekeyInterval: number;
  #inbox: Uint8Array[];
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #flushQueued = false;
  #closeItem: Uint8Array | undefined;
  #started = false;
  #closed: CloseInfo | undefined;
  #gate: OutputGate | undefined;
  /** The group the queued items wait for (the gate's barrier when the newest was queued). */
  #pendingGroup = 0;
  #held: HeldItems[] = [];
  /** Bytes in #held, plus #pendingHeld: what the gate counts against its bounds. */
  #heldBytes = 0;
  /**
   * Queued bytes that were sent while a commit was not durable: they will be held at flush.
   * Counted when queued, not at flush, so the gate stops input in the turn that produced them.
   */
  #pendingHeld = 0;
  /** The end-of-session item, queued behind held items. */
  #heldClose: Uint8Array | undefined;
  /** close() was called while items were held: end the socket once they have left. */
  #endWhenReleased = false;
  /** The gate stopped our input (too much output held, or a slow disk): the socket stays paused. */
  #inputPaused = false;

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
    this.#hashLength = details.handshakeHash.length;
    this.#handshake = new Uint8Array(this.#hashLength + details.peerPayload.length);
    this.#handshake.set(details.handshakeHash);
    this.#handshake.set(details.peerPayload, this.#hashLength);
    socket.setNoDelay(true);
    // Listeners shared by every channel, which find theirs through the socket: four closures
    // and their context per connection were ~0.3 KB of a host's heap per idle connection.
    channelOf.set(socket, this);
    socket.on('data', SecureChannel.#onData);
    socket.on('end', SecureChannel.#onEnd);
    socket.on('close', SecureChannel.#onClose);
    socket.on('error', SecureChannel.#onError);
  }

  static #onData(this: Socket, chunk: Buffer): void {
    const channel = channelOf.get(this);
    if (channel) channel.#receive(chunk);
  }

  static #onEnd(this: Socket): void {
    const channel = channelOf.get(this);
    if (channel) channel.#lost('the peer hung up without saying goodbye');
  }

  static #onClose(this: Socket): void {
    const channel = channelOf.get(this);
    if (channel) channel.#lost('the connection closed without an end-of-session message');
  }

  static #onError(this: Socket, error: NodeJS.ErrnoException): void {
    const channel = channelOf.get(this);
    if (channel) channel.#lost(`network error${error.code ? ` (${error.code})` : ''}`);
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
    if (!this.#closed && !this.#inputPaused) this.#socket.resume();
    return this;
  }

  get handshakeHash(): Uint8Array {
    return this.#handshake.subarray(0, this.#hashLength);
  }

  /** Optional payload of the handshake message the peer sent last (host info or hello). */
  get peerPayload(): Uint8Array {
    return this.#handshake.subarray(this.#hashLength);
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

  /**
   * Bytes waiting for the peer to read them: queued items and what the socket has not yet
   * written. Output the durability gate holds is not counted: it waits for the host's disk, not
   * for the reader (the slow-reader rule must not drop a reader for a slow disk; the gate bounds
   * held output for all channels together instead).
   */
  get bufferedBytes(): number {
    return this.#pendingBytes + this.#socket.writableLength;
  }

  /**
   * Bytes the output gate holds until the sync covering them completes (not yet sealed), and
   * those queued this turn that will be.
   */
  get heldBytes(): number {
    return this.#heldBytes;
  }

  /** Stops reading the peer until resumeInput() (the host's gate, when it holds too much). */
  pauseInput(): void {
    if (this.#inputPaused) return;
    this.#inputPaused = true;
    // Before start() the socket is still paused from the handshake; start() leaves it so.
    if (this.#started) this.#socket.pause();
  }

  resumeInput(): void {
    if (!this.#inputPaused) return;
    this.#inputPaused = false;
    if (this.#started && !this.#closed) this.#socket.resume();
  }

  /**
   * The host's durability gate: from now on, nothing this channel sends leaves the socket before
   * the commits made before it was queued are durable. What must wait is held unsealed, in
   * order (everything after it waits too), and sealed when its group completes: all a sync group
   * covers leaves in as few records as fit. (Sealing each turn's output at once, to overlap the
   * sync, made more and smaller records once the loop no longer stalls in fsync: measured +12 to
   * +39 % host CPU per delivery in the fan-out bench.)
   */
  useOutputGate(gate: OutputGate): void {
    this.#gate = gate;
    gate.attach(this);
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
    const bytes = ITEM_HEADER_LEN + message.length;
    this.#pending.push(message);
    this.#pendingBytes += bytes;
    if (this.#gate) {
      const barrier = this.#gate.barrier;
      if (barrier !== 0) {
        if (barrier > this.#pendingGroup) this.#pendingGroup = barrier;
        this.#pendingHeld += bytes;
        this.#setHeld(this.#heldBytes + bytes);
      }
    }
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      scheduleFlush(this);
    }
    return true;
  }

  /**
   * Sends end-of-session with a reason after anything still queued, then hangs up.
   * `discardPending` drops what is queued first: for a peer that is not reading anyway.
   * `discardHeld` also drops what the output gate holds, and the goodbye leaves at once: for a
   * host whose storage failed, where nothing held may ever leave (no later sync proves it
   * stored) but clients should still hear why. Its reason must report no commit.
   */
  close(
    code: string,
    reason: string,
    options: { discardPending?: boolean; discardHeld?: boolean } = {},
  ): void {
    if (this.#closed) return;
    if (options.discardPending || options.discardHeld) this.#dropPending();
    if (options.discardHeld) {
      // Never sealed, so dropping them leaves no gap in the nonces.
      this.#dropHeld();
      this.#pendingGroup = 0;
    }
    this.#closeItem = encoder.encode(`${code} ${reason}`.slice(0, 1000));
    this.#pendingBytes += ITEM_HEADER_LEN + this.#closeItem.length;
    // The reason may report a commit (a ban, say): it waits like any other output.
    if (this.#gate && !options.discardHeld) {
      this.#pendingGroup = Math.max(this.#pendingGroup, this.#gate.barrier);
    }
    this.#finish({ by: 'local', code, reason });
    this.flush();
    if (this.#held.length > 0) {
      this.#endWhenReleased = true;
      return;
    }
    this.#end();
  }

  #end(): void {
    this.#socket.end();
    setTimeout(() => this.#socket.destroy(), CLOSE_GRACE_MS).unref();
  }

  /** Seals and writes the held items whose group is durable, in order; true when none is held. */
  release(durable: number): boolean {
    if (this.#socket.destroyed) {
      this.#dropHeld();
      return true;
    }
    let count = 0;
    while (count < this.#held.length && (this.#held[count]?.group ?? 0) <= durable) count++;
    // Nothing ready; or nothing held any more (dropped when the peer left): let the gate forget us.
    if (count === 0) return this.#held.length === 0;
    const ready = this.#held.splice(0, count);
    let items = ready[0]?.items ?? [];
    for (let i = 1; i < ready.length; i++) items = items.concat(ready[i]?.items ?? []);
    let close: Uint8Array | undefined;
    if (this.#held.length === 0) {
      close = this.#heldClose;
      this.#heldClose = undefined;
      this.#setHeld(this.#pendingHeld);
    } else {
      let left = this.#heldBytes;
      for (const item of items) left -= ITEM_HEADER_LEN + item.length;
      this.#setHeld(left);
    }
    if (!this.#sealAndWrite(items, close)) return true;
    if (this.#held.length > 0) return false;
    if (this.#endWhenReleased) {
      this.#endWhenReleased = false;
      this.#end();
    }
    return true;
  }

  #dropPending(): void {
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#setHeld(this.#heldBytes - this.#pendingHeld);
    this.#pendingHeld = 0;
  }

  #dropHeld(): void {
    this.#held = [];
    this.#setHeld(this.#pendingHeld);
    this.#heldClose = undefined;
    this.#endWhenReleased = false;
  }

  /** Every change of the held bytes goes through here: the gate bounds their total. */
  #setHeld(bytes: number): void {
    const before = this.#heldBytes;
    if (before === bytes) return;
    this.#heldBytes = bytes;
    this.#gate?.heldChanged(before, bytes);
  }

  /** Encrypts everything queued into as few records as fit, and writes them at once. */
  flush(): void {
    cancelFlush(this);
    this.#flushQueued = false;
    if (this.#pendingBytes === 0) return;
    if (this.#socket.destroyed) {
      this.#dropPending();
      return;
    }
    const items = this.#pending;
    const close = this.#closeItem;
    const group = this.#pendingGroup;
    const bytes = this.#pendingBytes;
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#closeItem = undefined;
    this.#pendingGroup = 0;
    // Counted as held since send(); now held for real, or (its group completed meanwhile) not.
    const counted = this.#pendingHeld;
    this.#pendingHeld = 0;
    if (this.#gate && (this.#held.length > 0 || group > this.#gate.durable)) {
      // Not durable yet (or older items still wait): held in order, sealed on release.
      const last = this.#held.at(-1);
      if (last?.group === group) for (const item of items) last.items.push(item);
      else this.#held.push({ group, items });
      if (close) this.#heldClose = close;
      this.#gate.hold(this);
      this.#setHeld(this.#heldBytes - counted + bytes);
      return;
    }
    this.#setHeld(this.#heldBytes - counted);
    this.#sealAndWrite(items, close);
  }

  /** Seals the items (and the close item) into as few records as fit and writes them at once. */
  #sealAndWrite(items: readonly Uint8Array[], close: Uint8Array | undefined): boolean {
    const frames: Uint8Array[] = [];
    let used = 0;
    try {
      for (const message of items) used = this.#append(frames, used, ItemType.data, message);
      if (close) used = this.#append(frames, used, ItemType.close, close);
      if (used > 0) frames.push(this.#seal(scratch.subarray(0, used)));
    } catch (error) {
      this.#dropHeld();
      this.#fail(error);
      return false;
    }
    if (frames.length === 1) {
      this.#socket.write(frames[0] ?? EMPTY);
    } else {
      // More than 64 KiB queued: still one syscall (writev), without copying the frames together.
      this.#socket.cork();
      for (const frame of frames) this.#socket.write(frame);
      this.#socket.uncork();
    }
    return true;
  }

  /** Adds one item to the record being built in `scratch`, sealing it first if it is full. */
  #append(frames: Uint8Array[], used: number, type: number, body: Uint8Array): number {
    let at = used;
    if (at + ITEM_HEADER_LEN + body.length > MAX_RECORD_LEN) {
      frames.push(this.#seal(scratch.subarray(0, at)));
      at = 0;
    }
    writeItemHeader(scratch, at, type, body.length);
    scratch.set(body, at + ITEM_HEADER_LEN);
    return at + ITEM_HEADER_LEN + body.length;
  }

  /** Drops the connection at once with no goodbye (used on protocol violations). */
  destroy(error: ProtocolError): void {
    this.#fail(error);
  }

  #seal(plaintext: Uint8Array): Uint8Array {
    // Sealed straight behind room for the frame header: one buffer per record, no second copy.
    const frame = this.#sendCipher.encryptWithAd(EMPTY, plaintext, FRAME_HEADER_LEN);
    if (this.#sendCipher.nonce % this.#rekeyInterval === 0) this.#sendCipher.rekey();
    const length = frame.length - FRAME_HEADER_LEN;
    frame[0] = length >>> 8;
    frame[1] = length & 0xff;
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
    // Tell the peer why (our sending direction is still sound), then cut the connection. Items
    // held for durability are dropped (they were never sealed: the nonces have no gap).
    this.#dropHeld();
    this.#dropPending();
    if (!this.#socket.destroyed && protocolError.code !== 'nonce-exhausted') {
      try {
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
    this.#gate?.detach(this);
    // Lost or failed: what is held can no longer leave. (A local close keeps it: it leaves first.)
    if (info.by !== 'local') this.#dropHeld();
    this.emit('close', info);
  }
}
