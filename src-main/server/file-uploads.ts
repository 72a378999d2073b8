// Uploads in progress (docs/protocol.md §13), in memory: which connection started each, and which
// chunks it has sent. An upload belongs to its connection: only it may send the chunks, and
// when it goes the unfinished upload goes too (no resume), so nothing here outlives a connection.
import type { ConnectedClient } from './connected-client.ts';

export interface Upload {
  readonly id: string;
  readonly client: ConnectedClient;
  readonly room: string;
  /** Ciphertext bytes, and chunks, as `file-start` announced them. */
  readonly size: number;
  readonly chunks: number;
  /** A bit for each chunk sent (stored, or being stored): 4 KiB for the most chunks. */
  readonly received: Uint8Array;
  receivedCount: number;
  receivedBytes: number;
  /** `file-end` came: it is being completed, no more chunks. */
  ending: boolean;
}

/** Whether chunk `index` of the upload was sent. */
export function chunkSent(upload: Upload, index: number): boolean {
  return ((upload.received[index >> 3] ?? 0) & (1 << (index & 7))) !== 0;
}

/** Notes chunk `index` as sent (`sent`), or as not sent after all (its write failed). */
export function markChunk(upload: Upload, index: number, bytes: number, sent: boolean): void {
  const bit = 1 << (index & 7);
  const byte = upload.received[index >> 3] ?? 0;
  upload.received[index >> 3] = sent ? byte | bit : byte & ~bit;
  upload.receivedCount += sent ? 1 : -1;
  upload.receivedBytes += sent ? bytes : -bytes;
}

export class FileUploads {
  readonly #byId = new Map<string, Upload>();
  readonly #byClient = new Map<ConnectedClient, Set<string>>();

  add(upload: Omit<Upload, 'received' | 'receivedCount' | 'receivedBytes' | 'ending'>): void {
    this.#byId.set(upload.id, {
      ...upload,
      received: new Uint8Array(Math.ceil(upload.chunks / 8)),
      receivedCount: 0,
      receivedBytes: 0,
      ending: false,
    });
    let ids = this.#byClient.get(upload.client);
    if (!ids) {
      ids = new Set();
      this.#byClient.set(upload.client, ids);
    }
    ids.add(upload.id);
  }

  /** The upload, if `client` started it. */
  of(client: ConnectedClient, id: string): Upload | undefined {
    const upload = this.#byId.get(id);
    return upload?.client === client ? upload : undefined;
  }

  /** Uploads the connection has not finished. */
  count(client: ConnectedClient): number {
    return this.#byClient.get(client)?.size ?? 0;
  }

  delete(id: string): void {
    const upload = this.#byId.get(id);
    if (!upload) return;
    this.#byId.delete(id);
    const ids = this.#byClient.get(upload.client);
    ids?.delete(id);
    if (ids?.size === 0) this.#byClient.delete(upload.client);
  }

  /** Forgets the connection's unfinished uploads and returns their ids. */
  dropClient(client: ConnectedClient): string[] {
    const ids = [...(this.#byClient.get(client) ?? [])];
    for (const id of ids) this.delete(id);
    return ids;
  }
}
