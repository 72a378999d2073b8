// Files in the chat: the one waiting to be sent (the attach dialog), uploads under way, the
// image viewer, the drop overlay, and the decrypted images the timeline shows (a small cache of
// Blobs; each thumbnail makes and revokes its own Blob URL).
import { SvelteMap } from 'svelte/reactivity';
import type { EventPayload } from '../../src-shared/ipc/contract.ts';
import type { ChatMessageView, FileView } from '../../src-shared/ipc/domain.ts';
import { base64ToBytes, formatBytes, isInlineImageType, sizeProblem } from '../lib/file-format.ts';
import { imageSize, nameOf, readBase64 } from '../lib/file-read.ts';
import type { Platform } from '../lib/platform.ts';
import type { ReplyTarget } from './drafts.svelte.ts';

/** Images larger than this are files, not thumbnails (main says the same in FileView.image). */
const INLINE_MAX_BYTES = 10 * 1024 * 1024;
/** Our own sent images kept as their files (the newest ones). */
const LOCAL_IMAGES = 24;
/** Decrypted images kept for rows that scroll back into view. */
const CACHE_MAX_BYTES = 48 * 1024 * 1024;

/** The file in the attach dialog, before anything is uploaded. */
export interface PendingFile {
  readonly file: File;
  readonly name: string;
  readonly mime: string;
  readonly size: number;
  readonly room: string;
  /** An image the browser can show: previewed in the dialog, sent with its size. */
  readonly image: boolean;
  width?: number | undefined;
  height?: number | undefined;
  /** Why it cannot go (over the host's limit, empty); null: it may. */
  readonly problem: string | null;
  /** More files came in the same drop or paste: only the first is taken. */
  readonly ignored: number;
  /** The message it answers (the composer's reply, when the file was attached). */
  readonly reply: ReplyTarget | null;
}

export type UploadState = EventPayload<'fileProgress'>['state'];

export interface Upload {
  readonly id: string;
  readonly hostId: string;
  readonly room: string;
  readonly name: string;
  readonly sent: number;
  readonly total: number;
  readonly state: UploadState;
  readonly error?: string | undefined;
}

/** What an upload needs to be tried again (kept until it is sent or dismissed). */
interface Source {
  readonly room: string;
  readonly file: File;
  readonly name: string;
  readonly mime: string;
  readonly caption: string;
  readonly width?: number | undefined;
  readonly height?: number | undefined;
  readonly reply: ReplyTarget | null;
}

/** The image the viewer shows. */
export interface ViewedImage {
  readonly room: string;
  readonly seq: number | undefined;
  /** The message id (own images not yet acknowledged are shown from the local file). */
  readonly id: string;
  readonly file: FileView;
}

/** What the files store needs from the rest of the app. */
export interface FileStoreDeps {
  /** The host on screen. */
  host: () => string;
  /** The host's limit (bytes, before encryption); undefined: not said. */
  maxFileBytes: () => number | undefined;
  /** Shows our own message at once (queued), as a text send does. */
  showOwn: (hostId: string, message: ChatMessageView) => void;
  /** Takes a dismissed upload's row away. */
  dropOwn: (hostId: string, room: string, id: string) => void;
  self: () => { nick: string; fp: string; key: string };
  now?: () => number;
}

export class FileStore {
  readonly #api: Platform;
  readonly #deps: FileStoreDeps;
  pending: PendingFile | null = $state(null);
  viewing: ViewedImage | null = $state.raw(null);
  /** Files are dragged over the room: the drop overlay shows. */
  dragging = $state(false);
  readonly uploads = new SvelteMap<string, Upload>();
  /** Our own images by message id: shown from the file itself, before and after the upload. */
  readonly #local = new SvelteMap<string, Blob>();
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- a cache, never rendered
  readonly #sources = new Map<string, Source>();
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- a cache, never rendered
  readonly #images = new Map<string, { blob: Promise<Blob>; size: number; ready?: Blob }>();
  #cached = 0;

  constructor(api: Platform, deps: FileStoreDeps) {
    this.#api = api;
    this.#deps = deps;
  }

  listen(): () => void {
    const offs = [
      this.#api.onFileProgress((event) => this.#progress(event)),
      // A deleted message's image goes from memory with it.
      this.#api.onMessage((message) => {
        if (message.deleted && message.seq !== undefined) {
          this.#forget(cacheKey(message.hostId, message.room, message.seq));
        }
      }),
    ];
    return () => offs.forEach((off) => off());
  }

  /** Files picked, dropped or pasted: the first goes to the attach dialog. */
  async choose(
    room: string,
    files: readonly File[],
    reply: ReplyTarget | null = null,
  ): Promise<void> {
    const [file] = files;
    if (!file) return;
    const mime = file.type || 'application/octet-stream';
    const image = isInlineImageType(mime) && file.size <= INLINE_MAX_BYTES;
    const pending: PendingFile = {
      file,
      name: nameOf(file),
      mime,
      size: file.size,
      room,
      image,
      problem: sizeProblem(file.size, this.#deps.maxFileBytes()),
      ignored: files.length - 1,
      reply,
    };
    this.pending = pending;
    if (!image) return;
    const size = await imageSize(file);
    // Still the same file in the dialog: fill in its size.
    if (size && this.pending?.file === file) {
      this.pending.width = size.width;
      this.pending.height = size.height;
    }
  }

  closePending(): void {
    this.pending = null;
  }

  /** Sends the dialog's file; resolves with an error message, or null once the upload started. */
  async sendPending(caption: string): Promise<string | null> {
    const pending = this.pending;
    if (!pending) return null;
    if (pending.problem) return pending.problem;
    const failure = await this.#start({
      room: pending.room,
      file: pending.file,
      name: pending.name,
      mime: pending.mime,
      caption: caption.trim(),
      width: pending.width,
      height: pending.height,
      reply: pending.reply,
    });
    if (!failure && this.pending === pending) this.pending = null;
    return failure;
  }

  async cancel(id: string): Promise<void> {
    const upload = this.uploads.get(id);
    if (!upload || upload.state !== 'sending') return;
    // Shown at once; main's `cancelled` follows.
    this.uploads.set(id, { ...upload, state: 'cancelled' });
    const result = await this.#api.cancelFile({ hostId: upload.hostId, id });
    if (result.ok || this.uploads.get(id)?.state !== 'cancelled') return;
    // Too late (it ended already): what main says next about it stands, not our guess.
    if (result.error.code === 'not-found') this.uploads.set(id, upload);
    else this.uploads.set(id, { ...upload, state: 'failed', error: result.error.message });
  }

  /** A failed or cancelled upload, sent again from the start (as a new message). */
  async retry(id: string): Promise<string | null> {
    const source = this.#sources.get(id);
    if (!source) return 'The file is no longer here: attach it again.';
    const failure = await this.#start(source);
    const upload = this.uploads.get(id);
    if (!failure) this.dismiss(id);
    // Said in its row: the row is where Try again was pressed.
    else if (upload) this.uploads.set(id, { ...upload, state: 'failed', error: failure });
    return failure;
  }

  canRetry(id: string): boolean {
    return this.#sources.has(id);
  }

  /** A failed or cancelled upload's row goes away. */
  dismiss(id: string): void {
    const upload = this.uploads.get(id);
    this.uploads.delete(id);
    this.#sources.delete(id);
    this.#local.delete(id);
    if (upload) this.#deps.dropOwn(upload.hostId, upload.room, id);
  }

  /** Our own file message whose upload has not ended well: its row shows the upload instead. */
  uploadShown(message: ChatMessageView): boolean {
    if (!message.own || !message.file) return false;
    const state = this.uploads.get(message.id)?.state;
    return state !== undefined && state !== 'sent';
  }

  /** Our own image by message id, from the file itself. */
  localImage(id: string): Blob | undefined {
    return this.#local.get(id);
  }

  /** An image to show: our own from its file, else the message's (its seq) from main. */
  imageOf(image: ViewedImage): Promise<Blob> {
    const local = this.#local.get(image.id);
    if (local) return Promise.resolve(local);
    if (image.seq === undefined) return Promise.reject(new Error('It is not on the host yet.'));
    return this.image(image.room, image.seq, image.file);
  }

  /** An image already loaded (own, or decrypted and kept), without waiting. */
  peekImage(image: ViewedImage): Blob | undefined {
    const local = this.#local.get(image.id);
    if (local) return local;
    if (image.seq === undefined) return undefined;
    return this.#images.get(cacheKey(this.#deps.host(), image.room, image.seq))?.ready;
  }

  /** A message's image, decrypted by main (kept for a while: rows come and go as they scroll). */
  image(room: string, seq: number, file: FileView): Promise<Blob> {
    const hostId = this.#deps.host();
    const key = cacheKey(hostId, room, seq);
    const hit = this.#images.get(key);
    if (hit) {
      // Most recently used last.
      this.#images.delete(key);
      this.#images.set(key, hit);
      return hit.blob;
    }
    const blob = this.#api.getFile({ hostId, room, seq }).then((result) => {
      if (!result.ok) throw new Error(result.error.message);
      // Only the raster types a browser shows safely; never what the sender claimed beyond that.
      const mime = isInlineImageType(result.value.mime) ? result.value.mime : file.mime;
      if (!isInlineImageType(mime)) throw new Error('Not an image that can be shown.');
      return new Blob([base64ToBytes(result.value.data)], { type: mime.toLowerCase() });
    });
    const entry: { blob: Promise<Blob>; size: number; ready?: Blob } = { blob, size: file.size };
    void blob.then((ready) => (entry.ready = ready)).catch(() => {});
    this.#images.set(key, entry);
    this.#cached += file.size;
    // A failure is not kept: the next row that shows it asks again.
    blob.catch(() => {
      if (this.#images.get(key) === entry) this.#forget(key);
    });
    this.#evict();
    return blob;
  }

  /** Saves a message's file where the user chooses; an error message, or null. */
  async save(room: string, seq: number): Promise<{ saved: boolean; error?: string }> {
    const result = await this.#api.saveFile({ hostId: this.#deps.host(), room, seq });
    if (!result.ok) return { saved: false, error: result.error.message };
    return { saved: result.value.saved };
  }

  view(image: ViewedImage): void {
    this.viewing = image;
  }

  closeViewer(): void {
    this.viewing = null;
  }

  async #start(source: Source): Promise<string | null> {
    const hostId = this.#deps.host();
    const problem = sizeProblem(source.file.size, this.#deps.maxFileBytes());
    if (problem) return problem;
    let data: string;
    try {
      data = await readBase64(source.file);
    } catch {
      return `Could not read ${source.name}.`;
    }
    const result = await this.#api.sendFile({
      hostId,
      room: source.room,
      name: source.name,
      mime: source.mime,
      data,
      ...(source.caption ? { caption: source.caption } : {}),
      ...(source.width && source.height ? { width: source.width, height: source.height } : {}),
      ...(source.reply ? { replyTo: source.reply.seq } : {}),
    });
    if (!result.ok) return result.error.message;
    const { id } = result.value;
    this.#sources.set(id, source);
    const image = isInlineImageType(source.mime) && source.file.size <= INLINE_MAX_BYTES;
    if (image) this.#keepLocal(id, source.file);
    // Progress may have overtaken the answer: keep what it said.
    if (!this.uploads.has(id)) {
      this.uploads.set(id, {
        id,
        hostId,
        room: source.room,
        name: source.name,
        sent: 0,
        total: source.file.size,
        state: 'sending',
      });
    } else if (this.uploads.get(id)?.state === 'sent') {
      this.#sources.delete(id);
    }
    const self = this.#deps.self();
    this.#deps.showOwn(hostId, {
      room: source.room,
      id,
      from: self.nick,
      fp: self.fp,
      key: self.key,
      text: source.caption,
      ts: (this.#deps.now ?? Date.now)(),
      own: true,
      status: 'queued',
      ...(source.reply
        ? {
            replyTo: {
              seq: source.reply.seq,
              from: source.reply.from,
              text: source.reply.text,
              ...(source.reply.file ? { file: source.reply.file } : {}),
            },
          }
        : {}),
      file: {
        name: source.name,
        mime: source.mime,
        size: source.file.size,
        image,
        ...(source.width && source.height ? { width: source.width, height: source.height } : {}),
      },
    });
    return null;
  }

  #progress(event: EventPayload<'fileProgress'>): void {
    const before = this.uploads.get(event.id);
    // A cancel shown at once is not undone by progress that was already on its way.
    if (before?.state === 'cancelled' && event.state === 'sending') return;
    this.uploads.set(event.id, {
      id: event.id,
      hostId: event.hostId,
      room: event.room,
      name: event.name,
      sent: event.sent,
      total: event.total,
      state: event.state,
      error: event.error,
    });
    // Sent: nothing to try again; the bytes of the file are let go.
    if (event.state === 'sent') this.#sources.delete(event.id);
  }

  /** Our newest images stay at hand; older ones are asked of main again (by seq) if shown. */
  #keepLocal(id: string, file: Blob): void {
    this.#local.set(id, file);
    for (const old of this.#local.keys()) {
      if (this.#local.size <= LOCAL_IMAGES) break;
      if (!this.#sources.has(old)) this.#local.delete(old);
    }
  }

  #forget(key: string): void {
    const entry = this.#images.get(key);
    if (!entry) return;
    this.#images.delete(key);
    this.#cached -= entry.size;
  }

  #evict(): void {
    for (const key of this.#images.keys()) {
      if (this.#cached <= CACHE_MAX_BYTES || this.#images.size <= 1) break;
      this.#forget(key);
    }
  }
}

const cacheKey = (hostId: string, room: string, seq: number): string =>
  `${hostId}\n${room}\n${String(seq)}`;

/** "45 %": how far an upload is, for its bar and its words. */
export function percentOf(upload: Pick<Upload, 'sent' | 'total'>): number {
  if (upload.total <= 0) return 0;
  return Math.min(100, Math.floor((upload.sent / upload.total) * 100));
}

/** "1.2 MB of 3.4 MB". */
export function progressWords(upload: Pick<Upload, 'sent' | 'total'>): string {
  return `${formatBytes(upload.sent)} of ${formatBytes(upload.total)}`;
}
