import { randomBytes } from 'node:crypto';
import { sameKey } from '../protocol/host-key.ts';
import { FILE_CHUNK_BYTES } from '../protocol/wire/constants.ts';
import type { ClientMessage, HostErrorCode } from '../protocol/wire/messages.ts';
import type { ConnectedClient } from './connected-client.ts';
import { failureFields } from './failure-fields.ts';
import type { FileRecord } from './file-store.ts';
import { type DownloadRequest, FileDownloads } from './file-downloads.ts';
import { FileUploads, chunkSent, markChunk } from './file-uploads.ts';
import { FileWriteQueue } from './file-write-queue.ts';
import { MembershipHandler } from './membership-handler.ts';
import type { HostDatabase } from './host-database.ts';
import type { HostLimits } from './host-limits.ts';
import type { HostLog } from './host-log.ts';

type FileRequest = Extract<
  ClientMessage,
  { t: 'file-start' | 'file-chunk' | 'file-end' | 'file-cancel' | 'file-get' }
>;

/** A GCM tag: every chunk's ciphertext has one, so no chunk is shorter. */
const TAG_BYTES = 16;
const MAX_CHUNK_BYTES = FILE_CHUNK_BYTES + TAG_BYTES;
/**
 * Uploads one connection may have unfinished at once: a client sends a file or two at a time,
 * and each unfinished one holds its size of the quota and a little memory here.
 */
export const MAX_UPLOADS_PER_CONNECTION = 8;
const DAY_MS = 24 * 3600 * 1000;
/** After a storage fault, when a client should try again. */
const STORAGE_RETRY_MS = 1000;
/** Chunks kept encoded for the next member who asks (about 2.8 MB). */
const RECENT_CHUNKS = 64;
const CLOSE_DATA = Buffer.from('"}');

/**
 * Files (docs/protocol.md §13): uploads in chunks, stored as ciphertext the host cannot read
 * (the key travels in the message), within a quota and a retention period; downloads a chunk
 * at a time, for members of the file's room once a message has claimed the file. Every chunk
 * is one request, answered once stored, so a file interleaves with everything else and no file
 * is ever held in memory whole.
 */
export class FileHandler {
  readonly #db: HostDatabase;
  readonly #limits: HostLimits;
  readonly #log: HostLog;
  readonly #now: () => number;
  readonly #canSee: (client: ConnectedClient, room: string) => boolean;
  readonly #onClientFailure: (client: ConnectedClient, error: unknown) => void;
  readonly #uploads = new FileUploads();
  readonly #writes: FileWriteQueue;
  readonly #downloads = new FileDownloads((client, request) => this.#serve(client, request));
  /**
   * The last chunks served, as base64url: ids are random and never reused, and a file's chunks
   * never change, so an entry can only ever be what the store holds (the file and member checks
   * still run for every request).
   */
  readonly #recentChunks = new Map<string, Buffer>();

  constructor(deps: {
    db: HostDatabase;
    limits: HostLimits;
    log: HostLog;
    now: () => number;
    /** Whether the key may see the room (a member, or an open room): else it is unknown. */
    canSee: (client: ConnectedClient, room: string) => boolean;
    onClientFailure: (client: ConnectedClient, error: unknown) => void;
  }) {
    this.#db = deps.db;
    this.#limits = deps.limits;
    this.#log = deps.log;
    this.#now = deps.now;
    this.#canSee = deps.canSee;
    this.#onClientFailure = deps.onClientFailure;
    this.#writes = new FileWriteQueue(
      () => deps.db.files,
      (error) => deps.log('error', 'file-answer-failed', failureFields(error)),
    );
  }

  handle(client: ConnectedClient, request: FileRequest, now: number): void {
    switch (request.t) {
      case 'file-start':
        return this.#start(client, request, now);
      case 'file-chunk':
        return this.#chunk(client, request);
      case 'file-end':
        return this.#end(client, request);
      case 'file-cancel':
        return this.#cancel(client, request);
      case 'file-get':
        return this.#get(client, request);
    }
  }

  /** Stores what is pending (on shutdown, before the database closes). */
  flush(): void {
    this.#writes.flush();
  }

  /** A connection ended: its unfinished uploads are dropped (a client starts again). */
  disconnected(client: ConnectedClient): void {
    this.#downloads.dropClient(client);
    for (const id of this.#uploads.dropClient(client)) this.#writes.enqueue({ op: 'drop', id });
  }

  #start(
    client: ConnectedClient,
    request: Extract<FileRequest, { t: 'file-start' }>,
    now: number,
  ): void {
    const { rid, room, size, chunks } = request;
    // The room first: one the key may not see is answered as one that does not exist.
    if (!client.rooms.has(room)) {
      const visible = this.#read(client, rid, () => this.#canSee(client, room));
      if (visible === undefined) return;
      if (visible) this.#refuse(client, rid, 'not-in-room', `join "${room}" first`, room);
      else this.#refuse(client, rid, 'unknown-room', MembershipHandler.unknownRoom(room), room);
      return;
    }
    const max = this.#limits.maxFileBytes;
    if (max === 0) {
      this.#refuse(client, rid, 'file-too-large', 'this host stores no files', room);
      return;
    }
    if (size > max) {
      this.#refuse(client, rid, 'file-too-large', `a file holds at most ${max} bytes here`, room);
      return;
    }
    if (size < chunks * TAG_BYTES || size > chunks * MAX_CHUNK_BYTES) {
      this.#refuse(
        client,
        rid,
        'bad-request',
        `${chunks} chunks hold ${chunks * TAG_BYTES} to ${chunks * MAX_CHUNK_BYTES} bytes`,
        room,
      );
      return;
    }
    if (this.#uploads.count(client) >= MAX_UPLOADS_PER_CONNECTION) {
      this.#refuse(
        client,
        rid,
        'quota-exceeded',
        `at most ${MAX_UPLOADS_PER_CONNECTION} uploads at once; finish or cancel one first`,
        room,
      );
      return;
    }
    // Each upload is a durable write: it spends the key's budget for membership requests.
    if (!client.budget.manage.take(now)) {
      client.budget.refused.manage++;
      this.#refuse(client, rid, 'rate-limited', 'too many uploads; wait a moment', room, {
        retryAfterMs: Math.max(1, client.budget.manage.waitMs(now)),
      });
      return;
    }
    const id = randomBytes(16).toString('base64url');
    const quota = this.#limits.fileQuotaBytes;
    this.#writes.enqueue(
      {
        op: 'start',
        id,
        room,
        owner: client.key,
        size,
        chunks,
        now,
        quotaBytes: quota,
        keyQuotaBytes: Math.floor(quota / 4),
      },
      (result) =>
        this.#answer(client, () => {
          if (result === 'ok') {
            if (!client.open) {
              this.#writes.enqueue({ op: 'drop', id });
              return;
            }
            this.#uploads.add({ id, client, room, size, chunks });
            client.send({ t: 'file-started', rid, file: id });
          } else if (result === 'key-quota') {
            this.#refuse(
              client,
              rid,
              'quota-exceeded',
              `your files here may take ${Math.floor(quota / 4)} bytes in all; ` +
                'older ones must expire or be deleted first',
              room,
            );
          } else {
            this.#refuse(client, rid, 'quota-exceeded', "the host's file storage is full", room);
          }
        }),
      (error) => this.#storageFailed(client, rid, 'file-start', error),
    );
  }

  #chunk(client: ConnectedClient, request: Extract<FileRequest, { t: 'file-chunk' }>): void {
    const { file, index } = request;
    const upload = this.#uploads.of(client, file);
    const refuse = (code: HostErrorCode, message: string) =>
      client.send({ t: 'error', code, message, ref: file });
    if (!upload) {
      refuse('no-such-file', 'no upload of this connection has that id');
      return;
    }
    if (upload.ending) {
      refuse('bad-request', 'that upload has ended');
      return;
    }
    if (index >= upload.chunks) {
      refuse('bad-request', `chunk ${index} is beyond the file's ${upload.chunks} chunks`);
      return;
    }
    if (chunkSent(upload, index)) {
      refuse('bad-request', `chunk ${index} was sent already`);
      return;
    }
    const data = Buffer.from(request.data, 'base64url');
    if (data.toString('base64url') !== request.data) {
      refuse('bad-request', 'the chunk is not canonical base64url');
      return;
    }
    if (data.length < TAG_BYTES || data.length > MAX_CHUNK_BYTES) {
      refuse('bad-request', `a chunk holds ${TAG_BYTES} to ${MAX_CHUNK_BYTES} bytes`);
      return;
    }
    if (upload.receivedBytes + data.length > upload.size) {
      refuse('bad-request', `the chunks hold more than the file's ${upload.size} bytes`);
      return;
    }
    markChunk(upload, index, data.length, true);
    const undo = () => markChunk(upload, index, data.length, false);
    this.#writes.enqueue(
      { op: 'chunk', id: file, index, data },
      (result) =>
        this.#answer(client, () => {
          if (result === 'ok') {
            client.send({ t: 'file-ack', file, index });
          } else {
            this.#uploads.delete(file);
            refuse('no-such-file', 'that upload is gone (cancelled or expired)');
          }
        }),
      (error) =>
        this.#answer(client, () => {
          undo();
          this.#log('error', 'storage-failed', {
            operation: 'file-chunk',
            fp: client.fingerprint,
            ...failureFields(error),
          });
          client.send({
            t: 'error',
            code: 'internal',
            message: 'the host could not store this chunk; send it again',
            ref: file,
            retryAfterMs: STORAGE_RETRY_MS,
          });
        }),
    );
  }

  #end(client: ConnectedClient, request: Extract<FileRequest, { t: 'file-end' }>): void {
    const { rid, file } = request;
    const upload = this.#uploads.of(client, file);
    if (!upload || upload.ending) {
      this.#refuse(client, rid, 'no-such-file', 'no upload of this connection has that id', file);
      return;
    }
    if (upload.receivedCount !== upload.chunks) {
      this.#refuse(
        client,
        rid,
        'bad-request',
        `${upload.receivedCount} of the file's ${upload.chunks} chunks were sent`,
        file,
      );
      return;
    }
    if (upload.receivedBytes !== upload.size) {
      this.#refuse(
        client,
        rid,
        'bad-request',
        `the chunks hold ${upload.receivedBytes} bytes, not the file's size ${upload.size}`,
        file,
      );
      return;
    }
    upload.ending = true;
    this.#writes.enqueue(
      { op: 'end', id: file, now: this.#now() },
      (result) =>
        this.#answer(client, () => {
          this.#uploads.delete(file);
          if (result === 'ok') client.send({ t: 'done', rid });
          else this.#refuse(client, rid, 'no-such-file', 'that upload is gone', file);
        }),
      (error) => {
        upload.ending = false;
        this.#storageFailed(client, rid, 'file-end', error);
      },
    );
  }

  /** An unfinished upload of this connection, or a complete file of this key no message claimed. */
  #cancel(client: ConnectedClient, request: Extract<FileRequest, { t: 'file-cancel' }>): void {
    const { rid, file } = request;
    const upload = this.#uploads.of(client, file);
    if (upload === undefined) {
      const record = this.#read(client, rid, () => this.#db.files.file(file));
      if (record === undefined) return;
      if (
        record === null ||
        !record.complete ||
        record.seq !== null ||
        !sameKey(record.ownerKey, client.key)
      ) {
        this.#refuse(
          client,
          rid,
          'no-such-file',
          'there is no unused file of yours with that id',
          file,
        );
        return;
      }
    }
    this.#uploads.delete(file);
    this.#writes.enqueue(
      { op: 'drop', id: file },
      () => this.#answer(client, () => client.send({ t: 'done', rid })),
      (error) => this.#storageFailed(client, rid, 'file-cancel', error),
    );
  }

  #get(client: ConnectedClient, request: Extract<FileRequest, { t: 'file-get' }>): void {
    if (!this.#downloads.enqueue(client, request)) {
      this.#refuse(
        client,
        request.rid,
        'rate-limited',
        'too many chunks asked for at once',
        request.file,
        {
          retryAfterMs: 100,
        },
      );
    }
  }

  /** Answers one `file-get` (in its turn, file-downloads.ts); returns the chunk bytes sent. */
  #serve(client: ConnectedClient, request: DownloadRequest): number {
    const { rid, file, index } = request;
    let sent = 0;
    this.#answer(client, () => {
      const now = this.#now();
      const found = this.#read(client, rid, () => {
        const record = this.#db.files.file(file) ?? null;
        if (record === null || !this.#readable(record, client, now)) return null;
        if (index >= record.chunks) return 'beyond' as const;
        return this.#chunkText(file, index) ?? null;
      });
      if (found === undefined) return;
      if (found === null) {
        this.#refuse(
          client,
          rid,
          'no-such-file',
          'there is no such file (or it has expired)',
          file,
        );
      } else if (found === 'beyond') {
        this.#refuse(
          client,
          rid,
          'bad-request',
          `chunk ${index} is beyond the file's chunks`,
          file,
        );
      } else {
        // The item by hand: its data is base64url, which JSON needs no escaping for, and the
        // same chunk goes to every member of the room — no JSON.stringify of 44 KB each time.
        client.deliver(
          Buffer.concat([
            Buffer.from(`{"t":"file-data","rid":${rid},"file":"${file}","index":${index},"data":"`),
            found,
            CLOSE_DATA,
          ]),
        );
        sent = found.length;
      }
    });
    return sent;
  }

  /** A chunk as base64url bytes, from the cache of recent ones (a room fetches the same file). */
  #chunkText(file: string, index: number): Buffer | undefined {
    const key = `${file}/${index}`;
    const cached = this.#recentChunks.get(key);
    if (cached) return cached;
    const data = this.#db.files.chunk(file, index);
    if (data === undefined) return undefined;
    const text = Buffer.from(Buffer.from(data).toString('base64url'), 'latin1');
    if (this.#recentChunks.size >= RECENT_CHUNKS) {
      const oldest = this.#recentChunks.keys().next();
      if (!oldest.done) this.#recentChunks.delete(oldest.value);
    }
    this.#recentChunks.set(key, text);
    return text;
  }

  /** Claimed by a message, within retention, of a room the key is a member of. */
  #readable(record: FileRecord, client: ConnectedClient, now: number): boolean {
    if (!record.complete || record.seq === null) return false;
    const days = this.#limits.fileRetentionDays;
    if (days > 0 && record.createdAt <= now - days * DAY_MS) return false;
    return this.#db.rooms.member(record.room, client.key) !== undefined;
  }

  /** A read of the store; undefined (and `internal` sent) when it failed. */
  #read<T>(client: ConnectedClient, rid: number, body: () => T): T | null | undefined {
    try {
      return body() ?? null;
    } catch (error) {
      this.#storageFailed(client, rid, 'file', error);
      return undefined;
    }
  }

  #answer(client: ConnectedClient, body: () => void): void {
    try {
      body();
    } catch (error) {
      this.#onClientFailure(client, error);
    }
  }

  #storageFailed(client: ConnectedClient, rid: number, operation: string, error: unknown): void {
    this.#log('error', 'storage-failed', {
      operation,
      fp: client.fingerprint,
      ...failureFields(error),
    });
    this.#answer(client, () =>
      this.#refuse(
        client,
        rid,
        'internal',
        'the host could not do this now; try again',
        undefined,
        {
          retryAfterMs: STORAGE_RETRY_MS,
        },
      ),
    );
  }

  #refuse(
    client: ConnectedClient,
    rid: number,
    code: HostErrorCode,
    message: string,
    ref?: string,
    extra: { retryAfterMs?: number } = {},
  ): void {
    client.send({
      t: 'error',
      code,
      message,
      rid,
      ...(ref === undefined ? {} : { ref }),
      ...extra,
    });
  }
}
