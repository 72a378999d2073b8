import { randomBytes } from 'node:crypto';
import { rename, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { imageTypeOf, isInlineImage, sanitizeFileName } from '../../src-shared/files.ts';
import type { HostId } from '../../src-shared/ipc/domain.ts';
import type { FileRef } from '../protocol/wire/chat-event.ts';
import type { ParsedInput } from './dispatch.ts';
import { ImageCache, type ImageKey } from './file-cache.ts';
import { type FileRequestsDeps, downloadFailure } from './file-ports.ts';
import { ServiceError } from './service-error.ts';
import { errorName } from './service-log.ts';

type MessageInput = ParsedInput<'getFile'>;

/**
 * Files of messages, fetched from the host and opened with the key their message carries:
 * `getFile` gives an image to show (only the raster types shown inline, checked by their bytes,
 * kept a while in memory), `saveFile` writes any file where the user chose in a save dialog.
 * Parley never opens or runs a file, and writes a file's plaintext nowhere else.
 */
export class FileDownloads {
  readonly #deps: FileRequestsDeps;
  readonly #images: ImageCache;
  /** Downloads under way: a second ask for the same file waits for the first. */
  readonly #fetching = new Map<string, Promise<Uint8Array>>();

  constructor(deps: FileRequestsDeps, images = new ImageCache()) {
    this.#deps = deps;
    this.#images = images;
  }

  get images(): ImageCache {
    return this.#images;
  }

  /** A message's image, decrypted, as base64 with its real type and its sanitised name. */
  async getFile(input: MessageInput): Promise<{ data: string; mime: string; name: string }> {
    const ref = this.#fileOf(input);
    if (!isInlineImage(ref.mime, ref.size)) {
      throw new ServiceError(
        'refused',
        'Only images are shown in Parley; save this file to open it with another program.',
      );
    }
    const key: ImageKey = { ...input, fileId: ref.id };
    const name = sanitizeFileName(ref.name);
    const cached = this.#images.get(key);
    if (cached) return { data: toBase64(cached), mime: imageMime(cached), name };
    const bytes = await this.#download(input, ref);
    const mime = imageMime(bytes);
    // Deleted while it came: it is not shown, nor kept.
    this.#stillThere(input, ref);
    this.#images.set(key, bytes);
    return { data: toBase64(bytes), mime, name };
  }

  /** Downloads a message's file, asks where to save it, and writes it there. */
  async saveFile(input: ParsedInput<'saveFile'>): Promise<{ saved: boolean }> {
    const choose = this.#deps.chooseSavePath;
    if (!choose) throw new ServiceError('refused', 'Files cannot be saved here.');
    const ref = this.#fileOf(input);
    const bytes = await this.#download(input, ref);
    this.#stillThere(input, ref);
    const path = await choose(sanitizeFileName(ref.name));
    if (path === undefined) return { saved: false };
    if (!isAbsolute(path)) throw new ServiceError('invalid-request', 'Not a place to save to.');
    await writeSaved(path, bytes, this.#deps);
    return { saved: true };
  }

  /** A message was deleted: its image leaves memory. */
  forgetMessage(hostId: HostId, room: string, seq: number): void {
    this.#images.forgetMessage(hostId, room, seq);
  }

  close(): void {
    this.#images.clear();
  }

  #fileOf(input: MessageInput): FileRef {
    const ref = this.#deps.fileOf(input.hostId, input.room, input.seq);
    if (!ref) {
      throw new ServiceError(
        'not-found',
        'That message has no file here (it was deleted, or is not in this history).',
      );
    }
    return ref;
  }

  #stillThere(input: MessageInput, ref: FileRef): void {
    if (this.#deps.fileOf(input.hostId, input.room, input.seq)?.id !== ref.id) {
      throw new ServiceError('not-found', 'That message was deleted.');
    }
  }

  #download(input: MessageInput, ref: FileRef): Promise<Uint8Array> {
    const id = `${input.hostId}\n${input.room}\n${String(input.seq)}\n${ref.id}`;
    const under = this.#fetching.get(id);
    if (under) return under;
    const session = this.#deps.session(input.hostId);
    const fetching = (async () => {
      try {
        return await session.fetchFile(input.room, ref);
      } catch (error) {
        this.#deps.log('warn', 'file-download-failed', { error: errorName(error).slice(0, 120) });
        throw downloadFailure(error);
      } finally {
        this.#fetching.delete(id);
      }
    })();
    this.#fetching.set(id, fetching);
    return fetching;
  }
}

/** The type the image's bytes show (the sender's type is only a claim); refused if none. */
function imageMime(bytes: Uint8Array): string {
  const mime = imageTypeOf(bytes);
  if (!mime) {
    throw new ServiceError('refused', 'This file is not an image that can be shown.');
  }
  return mime;
}

function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64');
}

/**
 * Writes the file beside its place first, then moves it there: a failed write leaves no half
 * file, and an existing file is replaced only as a whole (the save dialog asked about that).
 */
async function writeSaved(
  path: string,
  bytes: Uint8Array,
  deps: Pick<FileRequestsDeps, 'log'>,
): Promise<void> {
  const partial = join(
    dirname(path),
    `.${basename(path)}.${randomBytes(6).toString('hex')}.parley-part`,
  );
  try {
    await writeFile(partial, bytes, { flag: 'wx' });
    await rename(partial, path);
  } catch (error) {
    await unlink(partial).catch(() => undefined);
    // The code only: a file system error's message holds the path, and so the file's name.
    deps.log('warn', 'file-save-failed', { error: fsCode(error) });
    throw new ServiceError('refused', `The file could not be saved there: ${writeReason(error)}.`);
  }
}

function fsCode(error: unknown): string {
  return error instanceof Error && 'code' in error ? String(error.code).slice(0, 40) : 'unknown';
}

function writeReason(error: unknown): string {
  const code = error instanceof Error && 'code' in error ? String(error.code) : '';
  switch (code) {
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return 'Parley may not write in that folder';
    case 'ENOSPC':
    case 'EDQUOT':
      return 'the disk is full';
    case 'ENOENT':
    case 'ENOTDIR':
      return 'that folder is not there';
    case 'EISDIR':
      return 'a folder has that name';
    default:
      return 'the system refused to write it';
  }
}
