import type { FileRef } from '../../protocol/wire/chat-event.ts';
import type { ClientMessage } from '../../protocol/wire/messages.ts';
import type { AnswerOf, MembershipError, RequestBody } from '../membership-requests.ts';
import { chunkCount, cipherSize, decryptChunk, encryptChunk, plainChunk } from './file-cipher.ts';

/**
 * Files to and from the host (docs/protocol.md §13): an upload is `file-start`, the chunks with
 * at most WINDOW unacknowledged, then `file-end`; a download asks for chunks with at most WINDOW
 * outstanding. A window, not a burst: the connection's other items (chat lines, other rooms)
 * go out between a file's chunks. A disconnect fails the transfer (no resume: the user retries).
 */
export const WINDOW = 4;
/**
 * Chunk requests outstanding over all downloads (a timeline loading many thumbnails at once):
 * well under the session's cap on requests in flight (MAX_PENDING_REQUESTS), so files never
 * crowd out membership and E2EE requests; downloads beyond it wait their turn.
 */
export const MAX_GETS = 24;
/** A chunk not acknowledged this long after the last progress: the host is stuck (reconnect). */
export const CHUNK_ACK_TIMEOUT_MS = 30_000;

export type FileTransferCode =
  | 'file-too-large'
  | 'quota-exceeded'
  | 'cancelled'
  | 'not-connected'
  | 'file-failed'
  | 'no-such-file';

export class FileTransferError extends Error {
  override readonly name = 'FileTransferError';
  readonly code: FileTransferCode;

  constructor(code: FileTransferCode, message: string) {
    super(message);
    this.code = code;
  }
}

export interface TransferOptions {
  /** Plaintext bytes done (acknowledged by the host, or received and opened) of `total`. */
  readonly onProgress?: (done: number, total: number) => void;
  readonly signal?: AbortSignal;
}

/** What transfers need of the session. */
export interface FilePort {
  /** A request with a rid (membership-requests.ts); rejects with a MembershipError. */
  request<R extends RequestBody>(request: R): Promise<AnswerOf<R['t']>>;
  /** Writes a `file-chunk`; false when there is no connection. */
  writeChunk(message: Extract<ClientMessage, { t: 'file-chunk' }>): boolean;
  /** Expects progress on `key` within `ms` (the session's deadlines: a stuck host is left). */
  expect(key: string, ms: number, what: string): void;
  settle(key: string): void;
}

interface Upload {
  readonly file: string;
  readonly inFlight: Set<number>;
  fail(error: FileTransferError): void;
  acked(index: number): void;
}

export class FileTransfers {
  readonly #port: FilePort;
  readonly #uploads = new Map<string, Upload>();
  /** Downloads in progress: failed at once by a disconnect. */
  readonly #downloads = new Set<(error: FileTransferError) => void>();
  /** file-get requests in flight (all downloads), and the downloads waiting for a slot. */
  #gets = 0;
  readonly #waiting = new Set<() => void>();

  constructor(port: FilePort) {
    this.#port = port;
  }

  /**
   * Uploads `bytes` sealed with `key` for `room`; resolves with the host's file id once every
   * chunk is stored and the upload ended (the file may then be claimed by a message).
   */
  async upload(
    room: string,
    key: Uint8Array,
    bytes: Uint8Array,
    options: TransferOptions = {},
  ): Promise<string> {
    const { signal, onProgress } = options;
    if (signal?.aborted) throw cancelled();
    const chunks = chunkCount(bytes.length);
    let started;
    try {
      started = await this.#port.request({
        t: 'file-start',
        room,
        size: cipherSize(bytes.length),
        chunks,
      });
    } catch (error) {
      throw transferError(error);
    }
    const file = started.file;
    if (signal?.aborted) {
      this.#cancel(file);
      throw cancelled();
    }
    await new Promise<void>((resolve, reject) => {
      let next = 0;
      let done = 0;
      let ackedCount = 0;
      let settled = false;
      const deadline = `file-ack:${file}`;
      const finish = (error?: FileTransferError) => {
        if (settled) return;
        settled = true;
        this.#uploads.delete(file);
        this.#port.settle(deadline);
        signal?.removeEventListener('abort', onAbort);
        if (error) reject(error);
        else resolve();
      };
      const onAbort = () => {
        if (settled) return;
        this.#cancel(file);
        finish(cancelled());
      };
      const fill = () => {
        while (!settled && upload.inFlight.size < WINDOW && next < chunks) {
          const index = next++;
          const last = index === chunks - 1;
          const sealed = encryptChunk(key, index, last, plainChunk(bytes, index));
          upload.inFlight.add(index);
          const data = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.length).toString(
            'base64url',
          );
          if (!this.#port.writeChunk({ t: 'file-chunk', file, index, data })) {
            return finish(notConnected());
          }
        }
        if (upload.inFlight.size > 0) {
          this.#port.expect(deadline, CHUNK_ACK_TIMEOUT_MS, 'acknowledge a file chunk');
        }
      };
      const upload: Upload = {
        file,
        inFlight: new Set(),
        fail: finish,
        acked: (index) => {
          if (settled || !upload.inFlight.delete(index)) return; // not one we are waiting for
          ackedCount++;
          done += plainChunk(bytes, index).length;
          onProgress?.(done, bytes.length);
          this.#port.settle(deadline);
          if (ackedCount < chunks) return fill();
          this.#port.request({ t: 'file-end', file }).then(
            () => finish(),
            (error: unknown) => finish(transferError(error)),
          );
        },
      };
      this.#uploads.set(file, upload);
      signal?.addEventListener('abort', onAbort, { once: true });
      onProgress?.(0, bytes.length);
      fill();
    });
    return file;
  }

  /** Downloads and opens `ref`: exactly its chunks, the last sealed as last, its size in all. */
  async download(ref: FileRef, options: TransferOptions = {}): Promise<Uint8Array> {
    const { signal, onProgress } = options;
    if (signal?.aborted) throw cancelled();
    const key = Buffer.from(ref.key, 'base64url');
    const parts: Uint8Array[] = new Array<Uint8Array>(ref.chunks);
    return new Promise<Uint8Array>((resolve, reject) => {
      let next = 0;
      let received = 0;
      let done = 0;
      let outstanding = 0;
      let settled = false;
      const finish = (error?: FileTransferError) => {
        if (settled) return;
        settled = true;
        this.#downloads.delete(finish);
        this.#waiting.delete(ask);
        signal?.removeEventListener('abort', onAbort);
        if (error) return reject(error);
        const out = new Uint8Array(done);
        let offset = 0;
        for (const part of parts) {
          out.set(part, offset);
          offset += part.length;
        }
        resolve(out);
      };
      const onAbort = () => finish(cancelled());
      const got = (index: number, data: string) => {
        if (settled) return;
        let plain: Uint8Array;
        try {
          plain = decryptChunk(
            key,
            index,
            index === ref.chunks - 1,
            Buffer.from(data, 'base64url'),
          );
        } catch {
          // FileCipherError: altered, moved, cut short, or under another key.
          return finish(failed('the file does not open'));
        }
        parts[index] = plain;
        done += plain.length;
        received++;
        if (done > ref.size) return finish(failed('the file is larger than it claims'));
        onProgress?.(done, ref.size);
        if (received === ref.chunks) {
          return done === ref.size
            ? finish()
            : finish(failed('the file is not the size it claims'));
        }
        ask();
      };
      const answered = () => {
        outstanding--;
        this.#gets--;
        this.#wake();
      };
      const ask = () => {
        this.#waiting.delete(ask);
        while (!settled && outstanding < WINDOW && next < ref.chunks) {
          if (this.#gets >= MAX_GETS) {
            this.#waiting.add(ask);
            return;
          }
          const index = next++;
          outstanding++;
          this.#gets++;
          this.#port.request({ t: 'file-get', file: ref.id, index }).then(
            (answer) => {
              answered();
              if (answer.file !== ref.id || answer.index !== index) {
                return finish(failed('the host sent another chunk than the one asked for'));
              }
              got(index, answer.data);
            },
            (error: unknown) => {
              answered();
              finish(transferError(error));
            },
          );
        }
      };
      this.#downloads.add(finish);
      signal?.addEventListener('abort', onAbort, { once: true });
      onProgress?.(0, ref.size);
      ask();
    });
  }

  /** A chunk request was answered: a download waiting for a slot may ask now. */
  #wake(): void {
    const next = this.#waiting.values().next();
    if (!next.done) next.value();
  }

  /** The host stored chunk `index` of upload `file`. */
  acked(file: string, index: number): void {
    this.#uploads.get(file)?.acked(index);
  }

  /**
   * The host refused a chunk of upload `file` (an `error` whose ref is the file id): the upload
   * fails and is cancelled — a chunk the host did not store leaves a hole no resend can fill in
   * order (the user retries). Returns whether `file` was an upload in progress.
   */
  refused(file: string, code: string, message: string): boolean {
    const upload = this.#uploads.get(file);
    if (!upload) return false;
    this.#cancel(file);
    upload.fail(transferError({ code, message }));
    return true;
  }

  /** The connection ended: every transfer fails (the user retries; there is no resume). */
  disconnected(): void {
    const error = notConnected();
    for (const upload of [...this.#uploads.values()]) upload.fail(error);
    for (const fail of [...this.#downloads]) fail(error);
  }

  #cancel(file: string): void {
    // The host drops the chunks; if the connection is gone, it drops them after 10 minutes.
    this.#port.request({ t: 'file-cancel', file }).catch(() => undefined);
  }
}

function cancelled(): FileTransferError {
  return new FileTransferError('cancelled', 'the transfer was cancelled');
}

function notConnected(): FileTransferError {
  return new FileTransferError('not-connected', 'the connection to the host ended');
}

function failed(message: string): FileTransferError {
  return new FileTransferError('file-failed', message);
}

/** A request's failure as the transfer's. */
function transferError(error: unknown): FileTransferError {
  if (error instanceof FileTransferError) return error;
  const code = (error as Partial<MembershipError> | null)?.code;
  const said = (error as { message?: unknown } | null)?.message;
  const message = typeof said === 'string' ? said : 'the transfer failed';
  switch (code) {
    case 'file-too-large':
    case 'quota-exceeded':
    case 'no-such-file':
      return new FileTransferError(code, message);
    case 'offline':
    case 'disconnected':
    case 'stopped':
      return new FileTransferError('not-connected', message);
    default:
      return new FileTransferError('file-failed', message);
  }
}
