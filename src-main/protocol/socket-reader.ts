import type { Socket } from 'node:net';
import { ProtocolError } from './errors.ts';
import { FrameReader } from './framing.ts';
import { LineReader } from './preface.ts';

/**
 * Lets the handshake code `await` the next line or frame from a socket. After the handshake,
 * `detach()` hands over the frame reader and any frames that already arrived (a client may
 * send transport data right behind message 3), with the socket paused so nothing is lost.
 */
export class SocketReader {
  readonly #socket: Socket;
  readonly #lines = new LineReader();
  readonly #frames = new FrameReader();
  readonly #queue: Uint8Array[] = [];
  #mode: 'line' | 'frames' = 'line';
  #line: { text: string; line: Uint8Array } | undefined;
  #error: ProtocolError | undefined;
  #wake: (() => void) | undefined;
  readonly #onData = (chunk: Buffer): void => this.#receive(chunk);
  readonly #onEnd = (): void =>
    this.#failWith(
      new ProtocolError('connection-lost', 'the peer closed the connection during the handshake'),
    );
  // The socket's error (ECONNREFUSED, EHOSTUNREACH…) travels as the cause, so the client can
  // say what went wrong (close-policy.ts words it).
  readonly #onError = (error: Error): void =>
    this.#failWith(
      new ProtocolError('connection-lost', 'the connection failed during the handshake', {
        cause: error,
      }),
    );

  constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('close', this.#onEnd);
    socket.on('error', this.#onError);
  }

  /** Fails any pending read (used for timeouts and aborts). */
  fail(error: ProtocolError): void {
    this.#failWith(error);
  }

  async readLine(): Promise<{ text: string; line: Uint8Array }> {
    for (;;) {
      if (this.#error) throw this.#error;
      if (this.#line) {
        const line = this.#line;
        this.#line = undefined;
        return line;
      }
      await this.#waitForData();
    }
  }

  async readFrame(): Promise<Uint8Array> {
    this.#mode = 'frames';
    for (;;) {
      if (this.#error) throw this.#error;
      const frame = this.#queue.shift();
      if (frame) return frame;
      await this.#waitForData();
    }
  }

  detach(): { reader: FrameReader; frames: Uint8Array[] } {
    this.#socket.pause();
    this.#socket.off('data', this.#onData);
    this.#socket.off('end', this.#onEnd);
    this.#socket.off('close', this.#onEnd);
    this.#socket.off('error', this.#onError);
    return { reader: this.#frames, frames: this.#queue.splice(0) };
  }

  #receive(chunk: Uint8Array): void {
    try {
      let data = chunk;
      if (this.#mode === 'line' && !this.#line) {
        const result = this.#lines.push(data);
        if (!result) return;
        this.#line = { text: result.text, line: result.line.slice() };
        this.#mode = 'frames';
        data = result.rest;
      }
      if (data.length > 0) this.#queue.push(...this.#frames.push(data));
    } catch (error) {
      this.#failWith(
        error instanceof ProtocolError ? error : new ProtocolError('bad-frame', 'unreadable data'),
      );
    }
    this.#wake?.();
  }

  #failWith(error: ProtocolError): void {
    this.#error ??= error;
    this.#wake?.();
  }

  #waitForData(): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = () => {
        this.#wake = undefined;
        resolve();
      };
    });
  }
}

/** A listener that keeps a socket 'error' from being an uncaught exception; the close follows. */
export function ignoreSocketError(): void {}
