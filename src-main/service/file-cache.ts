/** Decrypted image bytes kept in memory at most (the timeline asks again as rows scroll back). */
export const IMAGE_CACHE_MAX_BYTES = 50 * 1024 * 1024;

/** Where an image is: its host, room and message, and the file id (a new file is a new entry). */
export interface ImageKey {
  readonly hostId: string;
  readonly room: string;
  readonly seq: number;
  readonly fileId: string;
}

/**
 * Decrypted images, least recently used first out, at most `maxBytes` in all. Only in memory:
 * the plaintext of a file is never written to disk by Parley except where the user saves it.
 * A deleted message's image is dropped at once (`forgetMessage`), a host's when it leaves.
 */
export class ImageCache {
  readonly #maxBytes: number;
  /** In use order: the first entry is the least recently used. */
  readonly #entries = new Map<string, { key: ImageKey; bytes: Uint8Array }>();
  #size = 0;

  constructor(maxBytes = IMAGE_CACHE_MAX_BYTES) {
    this.#maxBytes = maxBytes;
  }

  get size(): number {
    return this.#size;
  }

  /** The bytes, to be used at once (not kept: they are wiped when the entry is dropped). */
  get(key: ImageKey): Uint8Array | undefined {
    const id = entryId(key);
    const entry = this.#entries.get(id);
    if (!entry) return undefined;
    this.#entries.delete(id);
    this.#entries.set(id, entry);
    return entry.bytes;
  }

  /**
   * Keeps a copy of `bytes` (unless larger than the whole cache), dropping the least recently
   * used. A copy: the caller's bytes are its own (a save may still be writing them).
   */
  set(key: ImageKey, bytes: Uint8Array): void {
    const id = entryId(key);
    this.#drop(id);
    if (bytes.length > this.#maxBytes) return;
    this.#entries.set(id, { key, bytes: bytes.slice() });
    this.#size += bytes.length;
    for (const oldest of this.#entries.keys()) {
      if (this.#size <= this.#maxBytes) break;
      this.#drop(oldest);
    }
  }

  /** A message was deleted (or its file is gone): its bytes leave memory. */
  forgetMessage(hostId: string, room: string, seq: number): void {
    this.#forgetWhere((k) => k.hostId === hostId && k.room === room && k.seq === seq);
  }

  /** A room's images (we left it, or its history was dropped). */
  forgetRoom(hostId: string, room: string): void {
    this.#forgetWhere((k) => k.hostId === hostId && k.room === room);
  }

  forgetHost(hostId: string): void {
    this.#forgetWhere((k) => k.hostId === hostId);
  }

  clear(): void {
    for (const { bytes } of this.#entries.values()) bytes.fill(0);
    this.#entries.clear();
    this.#size = 0;
  }

  #forgetWhere(match: (key: ImageKey) => boolean): void {
    for (const [id, entry] of [...this.#entries]) if (match(entry.key)) this.#drop(id);
  }

  #drop(id: string): void {
    const entry = this.#entries.get(id);
    if (!entry) return;
    this.#entries.delete(id);
    this.#size -= entry.bytes.length;
    // Overwritten, so a heap dump taken later does not hold the picture (best effort: the
    // renderer and Buffer pools may have copies of their own).
    entry.bytes.fill(0);
  }
}

function entryId(key: ImageKey): string {
  return `${key.hostId}\n${key.room}\n${String(key.seq)}\n${key.fileId}`;
}
