import { randomBytes } from 'node:crypto';
import {
  formatBytes,
  isInlineImage,
  sanitizeFileName,
  sendableMime,
} from '../../src-shared/files.ts';
import type { ChatMessageView, HostId } from '../../src-shared/ipc/domain.ts';
import type { ParsedInput } from './dispatch.ts';
import { type FileRequestsDeps, transferCode, uploadFailureText } from './file-ports.ts';
import { ServiceError } from './service-error.ts';
import { errorName } from './service-log.ts';

/** `fileProgress` while sending: at most ten a second (a 25 MiB file acks 800 chunks). */
export const PROGRESS_INTERVAL_MS = 100;

interface Upload {
  readonly room: string;
  readonly name: string;
  readonly controller: AbortController;
}

/**
 * Files on their way to a host: `sendFile` checks the file (base64, the host's limit), shows it
 * at once as our own queued message, and starts the upload; the session encrypts and sends it
 * in chunks while `fileProgress` tells how far it got, then queues the message that carries the
 * file's key like any other (it is then kept in local history). `cancelFile` stops one. Several
 * go at once, each on its own; a lost connection fails an upload (the user sends it again).
 */
export class FileUploads {
  readonly #deps: FileRequestsDeps;
  /** Uploads under way, by host and message id. */
  readonly #uploads = new Map<string, Upload>();

  constructor(deps: FileRequestsDeps) {
    this.#deps = deps;
  }

  /** Starts an upload; resolves with its message id as soon as it is under way. */
  start(input: ParsedInput<'sendFile'>): { id: string } {
    const deps = this.#deps;
    const { hostId, room } = input;
    const session = deps.session(hostId);
    if (!session.rooms.includes(room)) {
      throw new ServiceError('not-found', `join #${room} before sending files there`);
    }
    if (session.state !== 'connected') {
      // Away, the host's limit is not known (and the upload could not start anyway).
      throw new ServiceError(
        'not-connected',
        'Not connected to the host now: send the file once it is back.',
      );
    }
    const size = decodedLength(input.data);
    const max = session.maxFileBytes;
    if (max <= 0) throw new ServiceError('refused', 'This host does not take files.');
    if (size > max) throw new ServiceError('too-large', tooLargeText(size, max));
    if (size === 0) throw new ServiceError('invalid-request', 'The file is empty.');
    const bytes = decodeBase64(input.data);
    const name = sanitizeFileName(input.name);
    const mime = sendableMime(input.mime);
    const image = isInlineImage(mime, bytes.length);
    // Pixel sizes belong to images shown inline; on anything else they would mean nothing.
    const dimensions =
      image && input.width !== undefined && input.height !== undefined
        ? { width: input.width, height: input.height }
        : {};
    const caption = input.caption !== undefined && input.caption.length > 0 ? input.caption : '';
    const id = randomBytes(16).toString('base64url');
    const view: ChatMessageView = {
      room,
      id,
      from: session.nick,
      fp: deps.self.fp,
      key: deps.self.key,
      text: caption,
      ts: deps.now(),
      own: true,
      status: 'queued',
      file: { name, mime, size: bytes.length, image, ...dimensions },
    };
    const controller = new AbortController();
    const upload: Upload = { room, name, controller };
    const key = uploadKey(hostId, id);
    this.#uploads.set(key, upload);
    deps.emit('message', { ...view, hostId });
    const progress = this.#progress(hostId, id, upload);
    progress('sending', 0, bytes.length);
    let last = -Infinity;
    const sending = session.sendFile(
      room,
      {
        bytes,
        name,
        mime,
        ...dimensions,
        ...(caption ? { text: caption } : {}),
        ...(input.replyTo !== undefined ? { reply: input.replyTo } : {}),
      },
      {
        id,
        signal: controller.signal,
        onProgress: (done, total) => {
          const now = deps.now();
          if (done < total && now - last < PROGRESS_INTERVAL_MS) return;
          last = now;
          if (!controller.signal.aborted) progress('sending', done, total);
        },
      },
    );
    void sending.then(
      (sent) => {
        this.#uploads.delete(key);
        if (sent.id !== id) deps.log('error', 'file-upload-id-mismatch', {});
        // In the outbox now, as a text send is when `send` returns: kept like one.
        deps.keepQueued(hostId, view, {
          ...(sent.file ? { file: sent.file } : {}),
          ...(input.replyTo !== undefined ? { reply: input.replyTo } : {}),
        });
        progress('sent', bytes.length, bytes.length);
      },
      (error: unknown) => {
        this.#uploads.delete(key);
        if (controller.signal.aborted || transferCode(error) === 'cancelled') {
          progress('cancelled', 0, bytes.length);
          return;
        }
        deps.log('warn', 'file-upload-failed', {
          code: transferCode(error) ?? 'unknown',
          error: errorName(error).slice(0, 160),
        });
        progress('failed', 0, bytes.length, uploadFailureText(error, max));
      },
    );
    return { id };
  }

  /** Stops an upload under way: its message is not sent. */
  cancel(hostId: HostId, id: string): void {
    const upload = this.#uploads.get(uploadKey(hostId, id));
    if (!upload) {
      throw new ServiceError('not-found', 'That upload is not under way (it ended already).');
    }
    upload.controller.abort();
  }

  /** Every upload stops (the app quits). */
  close(): void {
    for (const upload of this.#uploads.values()) upload.controller.abort();
    this.#uploads.clear();
  }

  #progress(hostId: HostId, id: string, upload: Upload) {
    return (
      state: 'sending' | 'sent' | 'failed' | 'cancelled',
      sent: number,
      total: number,
      error?: string,
    ): void =>
      this.#deps.emit('fileProgress', {
        hostId,
        room: upload.room,
        id,
        name: upload.name,
        sent,
        total,
        state,
        ...(error !== undefined ? { error } : {}),
      });
  }
}

function uploadKey(hostId: HostId, id: string): string {
  return `${hostId}\n${id}`;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** The bytes standard base64 `data` stands for, from its length alone (checked when decoded). */
function decodedLength(data: string): number {
  if (data.length % 4 !== 0) throw notBase64();
  const padding = data.endsWith('==') ? 2 : data.endsWith('=') ? 1 : 0;
  return (data.length / 4) * 3 - padding;
}

/** Strict standard base64 (Buffer's decoder skips what it does not know: a cut file would pass). */
function decodeBase64(data: string): Uint8Array {
  if (!BASE64.test(data)) throw notBase64();
  const bytes = Buffer.from(data, 'base64');
  if (bytes.length !== decodedLength(data)) throw notBase64();
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}

function notBase64(): ServiceError {
  return new ServiceError('invalid-request', "The file's data is not base64.");
}

/** "The file is 30 MB; this host takes files of up to 25 MB." (exact bytes when they round alike) */
function tooLargeText(size: number, max: number): string {
  const [file, limit] = [formatBytes(size), formatBytes(max)];
  return file === limit
    ? `The file is ${size} bytes; this host takes files of up to ${max} bytes (${limit}).`
    : `The file is ${file}; this host takes files of up to ${limit}.`;
}
