// A lean wire-level client for the load generator. It speaks the real protocol with the project's
// own Noise code (HandshakeState, CipherState, FrameReader, records), and really decrypts every
// record it receives, but it skips what a chat client adds on top (JSON parsing, schemas, events),
// so the load side stays cheaper than the host it measures. It is not ChatSession.
import net, { type Socket } from 'node:net';
import { once } from 'node:events';
import type { CryptoBackend, KeyPair } from '../src-main/protocol/crypto/crypto-backend.ts';
import { insecureNullCipherStates } from './null-cipher.ts';
import {
  type Flushable,
  cancelFlush,
  scheduleFlush,
} from '../src-main/protocol/flush-scheduler.ts';
import { FRAME_HEADER_LEN, FrameReader, encodeFrame } from '../src-main/protocol/framing.ts';
import type { CipherState } from '../src-main/protocol/noise/cipher-state.ts';
import { HandshakeState } from '../src-main/protocol/noise/handshake-state.ts';
import { LineReader, encodePreface, parseStatusLine } from '../src-main/protocol/preface.ts';
import {
  ITEM_HEADER_LEN,
  ItemType,
  MAX_RECORD_LEN,
  writeItemHeader,
} from '../src-main/protocol/records.ts';
import { DEFAULT_REKEY_INTERVAL } from '../src-main/protocol/secure-channel.ts';
import { WIRE_VERSION } from '../src-main/protocol/wire/messages.ts';

const EMPTY = new Uint8Array(0);
const encoder = new TextEncoder();

export type BenchCipher = 'chachapoly' | 'aesgcm' | 'null';

export function suiteFor(cipher: BenchCipher): string {
  return cipher === 'aesgcm' ? 'Noise_XX_25519_AESGCM_SHA256' : 'Noise_XX_25519_ChaChaPoly_SHA256';
}

/** Called for every data item: the record and the item body's range in it (no copy). */
export type ItemHandler = (record: Uint8Array, start: number, end: number) => void;

/**
 * Sockets read straight into this buffer (`onread`), one per thread: no stream machinery and no
 * allocation per read on the load side. Safe because every read is handled synchronously before
 * the next one; anything kept for later (a partial frame, a handshake message) is copied.
 */
const readBuffer = Buffer.allocUnsafe(256 * 1024);

type DataHandler = (chunk: Uint8Array) => void;

/** An established session: queue items during a turn, one record and one write at its end. */
export class BenchConnection implements Flushable {
  readonly socket: Socket;
  readonly #send: CipherState;
  readonly #receive: CipherState;
  readonly #reader: FrameReader;
  #out = Buffer.allocUnsafe(1024);
  #used = 0;
  #closed = false;
  onItem: ItemHandler = () => undefined;
  /** Called after each chunk of data has been handled (a sender refills its window there). */
  afterData: () => void = () => undefined;
  onClose: (reason: string) => void = () => undefined;
  records = 0;

  constructor(
    socket: Socket,
    route: { handler: DataHandler },
    send: CipherState,
    receive: CipherState,
    reader: FrameReader,
  ) {
    this.socket = socket;
    this.#send = send;
    this.#receive = receive;
    this.#reader = reader;
    route.handler = (chunk) => this.#data(chunk);
    socket.on('close', () => this.#end('connection closed'));
    socket.on('error', () => this.#end('network error'));
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Queues one application message given as a JSON string (ASCII expected). */
  queueJson(json: string): void {
    if (this.#closed) return;
    const room = ITEM_HEADER_LEN + json.length * 3;
    if (this.#used + room > MAX_RECORD_LEN) this.flush();
    if (this.#used + room > this.#out.length) {
      const grown = Buffer.allocUnsafe(Math.min(MAX_RECORD_LEN, 2 * (this.#used + room)));
      grown.set(this.#out.subarray(0, this.#used));
      this.#out = grown;
    }
    const { written } = encoder.encodeInto(json, this.#out.subarray(this.#used + ITEM_HEADER_LEN));
    writeItemHeader(this.#out, this.#used, ItemType.data, written);
    this.#used += ITEM_HEADER_LEN + written;
    scheduleFlush(this);
  }

  flush(): void {
    cancelFlush(this);
    if (this.#used === 0 || this.socket.destroyed) return;
    this.socket.write(this.#seal(this.#out.subarray(0, this.#used)));
    this.#used = 0;
  }

  /** Says goodbye with a close item, as a real client does, and hangs up. */
  close(): void {
    if (this.#closed) return;
    this.flush();
    const body = encoder.encode('bye benchmark done');
    const record = new Uint8Array(ITEM_HEADER_LEN + body.length);
    writeItemHeader(record, 0, ItemType.close, body.length);
    record.set(body, ITEM_HEADER_LEN);
    this.#closed = true;
    this.socket.end(this.#seal(record));
    setTimeout(() => this.socket.destroy(), 2000).unref();
  }

  #seal(plaintext: Uint8Array): Uint8Array {
    const frame = this.#send.encryptWithAd(EMPTY, plaintext, FRAME_HEADER_LEN);
    if (this.#send.nonce % DEFAULT_REKEY_INTERVAL === 0) this.#send.rekey();
    const length = frame.length - FRAME_HEADER_LEN;
    frame[0] = length >>> 8;
    frame[1] = length & 0xff;
    return frame;
  }

  #data(chunk: Uint8Array): void {
    if (this.#closed) return;
    for (const frame of this.#reader.push(chunk)) this.#record(frame);
    this.afterData();
  }

  #record(frame: Uint8Array): void {
    if (this.#closed) return;
    const record = this.#receive.decryptWithAd(EMPTY, frame); // throws on a bad tag: a bench bug
    if (this.#receive.nonce % DEFAULT_REKEY_INTERVAL === 0) this.#receive.rekey();
    this.records++;
    let offset = 0;
    while (offset + ITEM_HEADER_LEN <= record.length) {
      const type = record[offset];
      const length = ((record[offset + 1] ?? 0) << 8) | (record[offset + 2] ?? 0);
      const start = offset + ITEM_HEADER_LEN;
      offset = start + length;
      if (type === ItemType.data) this.onItem(record, start, offset);
      else {
        this.#end(`host closed: ${Buffer.from(record.subarray(start, offset)).toString()}`);
        return;
      }
    }
  }

  #end(reason: string): void {
    if (this.#closed) {
      this.socket.destroy();
      return;
    }
    this.#closed = true;
    this.socket.destroy();
    this.onClose(reason);
  }
}

export interface ConnectOptions {
  readonly port: number;
  readonly hostKey: Uint8Array;
  readonly keyPair: KeyPair;
  readonly nick: string;
  readonly cipher: BenchCipher;
  readonly backend: CryptoBackend;
}

/** Connects and runs Noise XX as the initiator (preface + message 1 in one write, pin check). */
export async function connectBench(options: ConnectOptions): Promise<BenchConnection> {
  const route: { handler: DataHandler } = { handler: () => undefined };
  const socket = net.connect({
    port: options.port,
    host: '127.0.0.1',
    noDelay: true,
    onread: {
      buffer: readBuffer,
      callback: (length: number, buffer: Uint8Array): boolean => {
        // A plain Uint8Array, not a Buffer: FrameReader copies what it keeps with slice(), and
        // Buffer#slice would return a view of this reused memory instead of a copy.
        route.handler(new Uint8Array(buffer.buffer, buffer.byteOffset, length));
        return true;
      },
    },
  });
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  const preface = encodePreface(suiteFor(options.cipher));
  const handshake = new HandshakeState({
    protocol: suiteFor(options.cipher),
    initiator: true,
    prologue: preface,
    s: options.keyPair,
    backend: options.backend,
  });
  const message1 = encodeFrame(handshake.writeMessage(EMPTY));
  socket.write(Buffer.concat([preface, message1]));

  const lines = new LineReader();
  const reader = new FrameReader();
  let statusSeen = false;
  const frames: Uint8Array[] = [];
  const message2 = await new Promise<Uint8Array>((resolve, reject) => {
    const onData = (chunk: Uint8Array): void => {
      try {
        let data: Uint8Array = chunk;
        if (!statusSeen) {
          const line = lines.push(data);
          if (!line) return;
          parseStatusLine(line.text);
          statusSeen = true;
          data = line.rest;
        }
        // Copied: the read buffer is reused as soon as this callback returns.
        for (const frame of reader.push(data)) frames.push(frame.slice());
        const first = frames.shift();
        if (first) {
          cleanup();
          resolve(first);
        }
      } catch (error) {
        cleanup();
        reject(error as Error);
      }
    };
    const onClose = (): void => {
      cleanup();
      reject(new Error('the host closed the connection during the handshake'));
    };
    const cleanup = (): void => {
      route.handler = () => undefined;
      socket.off('close', onClose);
    };
    route.handler = onData;
    socket.on('close', onClose);
  });
  const hostInfo = handshake.readMessage(message2);
  const hostKey = handshake.remoteStaticKey;
  if (!hostKey || Buffer.compare(hostKey, options.hostKey) !== 0) {
    socket.destroy();
    throw new Error('the host key does not match the pinned key');
  }
  // The load speaks whatever wire version the host announces (the bench reads no field that
  // changed between versions), so one load generator drives an older checkout's host too
  // (PARLEY_BENCH_HOST_SCRIPT, for before/after figures).
  const hello = encoder.encode(
    JSON.stringify({ v: announcedVersion(hostInfo), nick: options.nick, software: 'bench' }),
  );
  socket.write(encodeFrame(handshake.writeMessage(hello)));
  const split = handshake.split();
  const [send, receive] =
    options.cipher === 'null'
      ? insecureNullCipherStates(options.backend, handshake.protocol.cipher)
      : split;
  // The host says nothing between message 2 and reading message 3.
  if (frames.length > 0) throw new Error('unexpected frames behind handshake message 2');
  return new BenchConnection(socket, route, send, receive, reader);
}

const decoder = new TextDecoder();
/** The last host info read and its version: a load thread meets the same host info every time. */
let lastHostInfo: { bytes: Uint8Array; v: number } | undefined;

/** The `v` of the host info (message 2's payload); the current version if it cannot be read. */
function announcedVersion(payload: Uint8Array): number {
  // Compared byte for byte, so a host that changed its info is read again (never a stale v).
  if (lastHostInfo && Buffer.compare(lastHostInfo.bytes, payload) === 0) return lastHostInfo.v;
  let v: unknown;
  try {
    v = (JSON.parse(decoder.decode(payload)) as { v?: unknown }).v;
  } catch {
    v = undefined;
  }
  const version = typeof v === 'number' && Number.isInteger(v) ? v : WIRE_VERSION;
  lastHostInfo = { bytes: payload.slice(), v: version };
  return version;
}
