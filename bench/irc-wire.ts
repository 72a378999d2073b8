// A lean IRC client for the load generator, the counterpart of bench/wire.ts for ngircd: it
// registers (NICK/USER), joins a channel, sends PRIVMSGs and answers PINGs, and hands every line
// it receives to its owner as a byte range (no string per line on the hot path), so the load side
// stays as cheap against ngircd as it is against Parley. Lines end in CRLF (a lone LF is accepted,
// as every IRC client does); the server never sends more than 512 bytes a line (RFC 2812 §2.3).
import net, { type Socket } from 'node:net';
import { once } from 'node:events';
import { z } from 'zod';

/** Called for every complete line: the bytes in [start, end), without CR/LF (valid until return). */
export type LineHandler = (buffer: Uint8Array, start: number, end: number) => void;

const CR = 0x0d;
const LF = 0x0a;
const SPACE = 0x20;
const COLON = 0x3a;
/** RFC 2812 allows 512 bytes with CRLF; a longer partial line is a broken peer, not a slow one. */
export const MAX_IRC_LINE = 8192;

/**
 * Splits a byte stream into lines. Complete lines are handed out as views of the chunk (no copy);
 * only a line split across reads is copied, because the chunk's memory is reused afterwards.
 */
export class IrcLineReader {
  #partial: Uint8Array | null = null;
  readonly #onLine: LineHandler;
  readonly #maxLine: number;

  constructor(onLine: LineHandler, maxLine = MAX_IRC_LINE) {
    this.#onLine = onLine;
    this.#maxLine = maxLine;
  }

  push(input: Uint8Array): void {
    // A Buffer view of the same memory (no copy): Buffer#indexOf is native, 2–3× faster per line
    // than Uint8Array#indexOf here, and the load side must stay cheaper than the server it drives.
    const chunk = Buffer.isBuffer(input)
      ? input
      : Buffer.from(input.buffer, input.byteOffset, input.length);
    let from = 0;
    if (this.#partial) {
      const lf = chunk.indexOf(LF);
      if (lf < 0) {
        this.#keep(chunk, 0);
        return;
      }
      const joined = new Uint8Array(this.#partial.length + lf);
      joined.set(this.#partial);
      joined.set(chunk.subarray(0, lf), this.#partial.length);
      this.#partial = null;
      this.#emit(joined, 0, joined.length);
      from = lf + 1;
    }
    for (;;) {
      const lf = chunk.indexOf(LF, from);
      if (lf < 0) break;
      this.#emit(chunk, from, lf);
      from = lf + 1;
    }
    if (from < chunk.length) this.#keep(chunk, from);
  }

  /** Bytes of an unfinished line held since the last read. */
  get pending(): number {
    return this.#partial?.length ?? 0;
  }

  #keep(chunk: Uint8Array, from: number): void {
    const tail = chunk.subarray(from);
    const before = this.#partial;
    const size = (before?.length ?? 0) + tail.length;
    if (size > this.#maxLine) throw new Error(`IRC line longer than ${this.#maxLine} bytes`);
    const kept = new Uint8Array(size);
    if (before) kept.set(before);
    kept.set(tail, before?.length ?? 0);
    this.#partial = kept;
  }

  #emit(buffer: Uint8Array, start: number, end: number): void {
    if (end > start && buffer[end - 1] === CR) end--;
    if (end > start) this.#onLine(buffer, start, end);
  }
}

/** Where the command starts: after the `:prefix ` if there is one; -1 if the line has no command. */
export function commandStart(buffer: Uint8Array, start: number, end: number): number {
  if (buffer[start] !== COLON) return start;
  const space = buffer.indexOf(SPACE, start);
  return space < 0 || space + 1 >= end ? -1 : space + 1;
}

/** True when the line's command is `command` (ASCII, as written: `PRIVMSG`, `PING`, `001`). */
export function commandIs(
  buffer: Uint8Array,
  start: number,
  end: number,
  command: Uint8Array,
): boolean {
  const at = commandStart(buffer, start, end);
  if (at < 0 || at + command.length > end) return false;
  for (let i = 0; i < command.length; i++) if (buffer[at + i] !== command[i]) return false;
  return at + command.length === end || buffer[at + command.length] === SPACE;
}

/** The first byte of the trailing parameter (after ` :` behind the command), or -1. */
export function trailingStart(buffer: Uint8Array, start: number, end: number): number {
  const at = commandStart(buffer, start, end);
  if (at < 0) return -1;
  for (let i = at; i + 1 < end; i++) {
    if (buffer[i] === SPACE && buffer[i + 1] === COLON) return i + 2;
  }
  return -1;
}

export const ascii = (text: string): Uint8Array => Buffer.from(text, 'latin1');
export const PRIVMSG = ascii('PRIVMSG');
const PING = ascii('PING');

/** One IRC message, for the registration phase and tests (the hot path never builds one). */
export interface IrcMessage {
  readonly prefix: string | null;
  readonly command: string;
  readonly params: string[];
}

const ircMessageSchema = z.object({
  prefix: z.string().min(1).max(512).nullable(),
  command: z.string().regex(/^(?:[A-Za-z]+|\d{3})$/),
  params: z.array(z.string().max(512)).max(15),
});

/** Parses one line (without CRLF) per RFC 2812 §2.3.1; throws on a line that is not a message. */
export function parseIrcLine(line: string): IrcMessage {
  let rest = line;
  let prefix: string | null = null;
  if (rest.startsWith(':')) {
    const space = rest.indexOf(' ');
    if (space < 0) throw new Error('IRC line with a prefix and no command');
    prefix = rest.slice(1, space);
    rest = rest.slice(space + 1).replace(/^ +/, '');
  }
  const params: string[] = [];
  const trailing = rest.indexOf(' :');
  const middle = trailing < 0 ? rest : rest.slice(0, trailing);
  const words = middle.split(' ').filter((w) => w.length > 0);
  const command = words.shift() ?? '';
  params.push(...words);
  if (trailing >= 0) params.push(rest.slice(trailing + 2));
  return ircMessageSchema.parse({ prefix, command, params });
}

/**
 * Sockets read straight into this buffer (`onread`), one per thread, as in bench/wire.ts: every
 * read is handled synchronously, and IrcLineReader copies what it keeps.
 */
const readBuffer = Buffer.allocUnsafe(256 * 1024);

/** Everything queued during a turn leaves in one write at its end (one setImmediate per thread). */
const dirty = new Set<IrcConnection>();
let flushScheduled = false;
function flushAll(): void {
  flushScheduled = false;
  for (const connection of dirty) connection.flush();
  dirty.clear();
}

export class IrcConnection {
  readonly socket: Socket;
  readonly nick: string;
  #out = Buffer.allocUnsafe(4096);
  #used = 0;
  #closed = false;
  readonly #reader: IrcLineReader;
  /** Every line received after registration, ping lines included (they are answered first). */
  onLine: LineHandler = () => undefined;
  /** Called after each read has been handled (a sender refills its window there). */
  afterData: () => void = () => undefined;
  onClose: (reason: string) => void = () => undefined;
  /** Reads handled: the IRC counterpart of a Parley record (lines per read = batching seen). */
  records = 0;

  constructor(socket: Socket, nick: string, route: { handler: (chunk: Uint8Array) => void }) {
    this.socket = socket;
    this.nick = nick;
    this.#reader = new IrcLineReader((buffer, start, end) => this.#line(buffer, start, end));
    route.handler = (chunk) => {
      if (this.#closed) return;
      this.records++;
      try {
        this.#reader.push(chunk);
      } catch (error) {
        this.#end((error as Error).message);
        return;
      }
      this.afterData();
    };
    socket.on('close', () => this.#end('connection closed'));
    socket.on('error', () => this.#end('network error'));
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Queues one line (ASCII; CRLF is added) to leave at the end of this turn. */
  queueLine(line: string): void {
    if (this.#closed) return;
    const room = line.length + 2;
    if (this.#used + room > this.#out.length) {
      const grown = Buffer.allocUnsafe(Math.max(2 * this.#out.length, this.#used + room));
      this.#out.copy(grown, 0, 0, this.#used);
      this.#out = grown;
    }
    this.#used += this.#out.write(line, this.#used, 'latin1');
    this.#out[this.#used++] = CR;
    this.#out[this.#used++] = LF;
    dirty.add(this);
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flushAll);
    }
  }

  flush(): void {
    dirty.delete(this);
    if (this.#used === 0 || this.socket.destroyed) return;
    // A copy: the socket may hold the buffer until the kernel takes it, and #out is reused.
    this.socket.write(Buffer.from(this.#out.subarray(0, this.#used)));
    this.#used = 0;
  }

  /** Says QUIT, as a client leaving does, and hangs up. */
  close(): void {
    if (this.#closed) return;
    this.queueLine('QUIT :bench done');
    this.flush();
    this.#closed = true;
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 2000).unref();
  }

  #line(buffer: Uint8Array, start: number, end: number): void {
    if (commandIs(buffer, start, end, PING)) {
      const token = Buffer.from(buffer.subarray(commandStart(buffer, start, end) + 4, end));
      this.queueLine(`PONG${token.toString('latin1')}`);
      return;
    }
    this.onLine(buffer, start, end);
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

const text = (buffer: Uint8Array, start: number, end: number): string =>
  Buffer.from(buffer.buffer, buffer.byteOffset + start, end - start).toString('latin1');

/**
 * Waits for the first line `accept` says ends the exchange; `ERROR` and error numerics (400–599)
 * reject with the server's words (a bench server's replies carry no secrets).
 */
function awaitReply(
  connection: IrcConnection,
  what: string,
  accept: (message: IrcMessage) => boolean,
  timeoutMs: number,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`no reply to ${what}`)), timeoutMs);
    const finish = (error?: Error): void => {
      clearTimeout(timer);
      connection.onLine = () => undefined;
      connection.onClose = () => undefined;
      if (error) reject(error);
      else resolve();
    };
    connection.onClose = (reason) => finish(new Error(`${what}: ${reason}`));
    connection.onLine = (buffer, start, end) => {
      let message: IrcMessage;
      try {
        message = parseIrcLine(text(buffer, start, end));
      } catch (error) {
        finish(new Error(`${what}: ${(error as Error).message}`));
        return;
      }
      const numeric = /^\d{3}$/.test(message.command) ? Number(message.command) : 0;
      if (message.command === 'ERROR' || (numeric >= 400 && numeric < 600)) {
        finish(new Error(`${what}: ${message.command} ${message.params.slice(1).join(' ')}`));
      } else if (accept(message)) finish();
    };
  });
}

export interface IrcConnectOptions {
  readonly port: number;
  readonly nick: string;
  readonly host?: string;
  readonly timeoutMs?: number;
}

/** Connects with TCP_NODELAY and registers (NICK + USER); resolves on RPL_WELCOME (001). */
export async function connectIrc(options: IrcConnectOptions): Promise<IrcConnection> {
  const route: { handler: (chunk: Uint8Array) => void } = { handler: () => undefined };
  const socket = net.connect({
    port: options.port,
    host: options.host ?? '127.0.0.1',
    noDelay: true,
    onread: {
      buffer: readBuffer,
      callback: (length: number, buffer: Uint8Array): boolean => {
        route.handler(new Uint8Array(buffer.buffer, buffer.byteOffset, length));
        return true;
      },
    },
  });
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  socket.setNoDelay(true);
  const connection = new IrcConnection(socket, options.nick, route);
  const welcomed = awaitReply(
    connection,
    'registration',
    (m) => m.command === '001',
    options.timeoutMs ?? 30_000,
  );
  connection.queueLine(`NICK ${options.nick}`);
  connection.queueLine(`USER ${options.nick} 0 * :Parley bench`);
  try {
    await welcomed;
  } catch (error) {
    socket.destroy();
    throw error;
  }
  return connection;
}

/** Joins `channel` and resolves once its member list has been sent (RPL_ENDOFNAMES, 366). */
export async function joinIrc(
  connection: IrcConnection,
  channel: string,
  timeoutMs = 60_000,
): Promise<void> {
  const joined = awaitReply(
    connection,
    `JOIN ${channel}`,
    (m) => m.command === '366' && m.params[1] === channel,
    timeoutMs,
  );
  connection.queueLine(`JOIN ${channel}`);
  await joined;
}

/** Asks LUSERS and returns the local user count (RPL_LOCALUSERS, 265), this connection included. */
export async function localUsers(connection: IrcConnection, timeoutMs = 10_000): Promise<number> {
  let count = NaN;
  const answered = awaitReply(
    connection,
    'LUSERS',
    (m) => {
      if (m.command === '265') {
        // `265 <nick> <current> <max> :Current local users: …` (older servers: trailing text only).
        const words = /Current local users: (\d+)/.exec(m.params[m.params.length - 1] ?? '');
        count = m.params.length >= 4 ? Number(m.params[1]) : Number(words?.[1] ?? NaN);
        return true;
      }
      return false;
    },
    timeoutMs,
  );
  connection.queueLine('LUSERS');
  await answered;
  return count;
}
