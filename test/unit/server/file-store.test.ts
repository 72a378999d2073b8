import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HostDatabase } from '../../../src-main/server/host-database.ts';
import { UNCLAIMED_FILE_MS } from '../../../src-main/server/file-store.ts';
import { T0, alice, fileId, message, upload, uploadStart } from './file-fixtures.ts';

// The host's file storage and the relations of messages to files (docs/protocol.md §13), on a
// real SQLite file: quotas, completion, claiming, the sweeps, and a file going with its message.

const bob = new Uint8Array(32).fill(0xb0);
const DAY = 24 * 3600 * 1000;

let dir: string;
let db: HostDatabase;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-files-'));
  db = HostDatabase.open(path.join(dir, 'host.db'), { historyLimit: 3 });
});

afterEach(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const uploaded = (owner = alice, chunks = 2, now = T0): string => upload(db, owner, chunks, now);

describe('the file store', () => {
  it('holds each key to its quota and the host to its own', () => {
    const start = (owner: Uint8Array, size: number) => ({
      op: 'start' as const,
      id: fileId(),
      room: 'lobby',
      owner,
      size,
      chunks: 1,
      now: T0,
      quotaBytes: 300,
      keyQuotaBytes: 200,
    });
    expect(db.files.write([start(alice, 150), start(alice, 60), start(bob, 140)])).toEqual([
      'ok',
      'key-quota',
      'ok',
    ]);
    expect(db.files.write([start(bob, 20), start(alice, 10)])).toEqual(['quota', 'ok']);
  });

  it('a chunk of a file dropped earlier in the batch is not stored', () => {
    const id = uploaded();
    const other = fileId();
    const results = db.files.write([
      { op: 'drop', id },
      { op: 'chunk', id: other, index: 0, data: new Uint8Array(20) },
      { op: 'end', id: other, now: T0 },
    ]);
    expect(results).toEqual(['ok', 'gone', 'gone']);
    expect(db.files.file(id)).toBeUndefined();
    expect(db.files.chunk(id, 0)).toBeUndefined();
  });

  it('a message claims a complete upload of its sender once; the file goes with the message', () => {
    const id = uploaded();
    const [byBob, claimed, again] = db.appendMessages([
      message({ senderKey: bob, file: id }),
      message({ file: id }),
      message({ file: id }),
    ]);
    expect(byBob?.refused?.code).toBe('no-such-file');
    expect(claimed?.message.file).toBe(id);
    expect(again?.refused?.code).toBe('no-such-file');
    expect(db.files.file(id)?.seq).toBe(claimed?.message.seq);
    expect(db.files.chunk(id, 1)).toEqual(new Uint8Array(20).fill(1));
    // History keeps 3 messages: three more trim the claiming one, and its file with it.
    db.appendMessages([message(), message(), message()]);
    expect(db.files.file(id)).toBeUndefined();
    expect(db.files.chunk(id, 0)).toBeUndefined();
  });

  it('sweeps files past retention and complete uploads nobody claimed', () => {
    const claimedId = uploaded(alice, 1, T0);
    db.appendMessages([message({ file: claimedId })]);
    const unclaimed = uploaded(alice, 1, T0);
    // Unfinished: not swept (its connection drops it), unless the host restarts.
    db.files.write([uploadStart('unfinished000000000000', bob, 1)]);
    expect(db.files.sweep(T0 + UNCLAIMED_FILE_MS - 1, DAY)).toBe(0);
    expect(db.files.sweep(T0 + UNCLAIMED_FILE_MS, DAY)).toBe(1);
    expect(db.files.file(unclaimed)).toBeUndefined();
    expect(db.files.sweep(T0 + DAY - 1, DAY)).toBe(0);
    expect(db.files.sweep(T0 + 100 * DAY, 0)).toBe(0); // 0: kept
    expect(db.files.sweep(T0 + DAY, DAY)).toBe(2);
    expect(db.files.file(claimedId)).toBeUndefined();
    expect(db.files.dropUnfinished()).toBe(0);
  });

  it('at start, unfinished uploads are dropped', () => {
    db.files.write([
      uploadStart('unfinished000000000000', bob, 1),
      { op: 'chunk', id: 'unfinished000000000000', index: 0, data: new Uint8Array(20) },
    ]);
    const kept = uploaded();
    expect(db.files.dropUnfinished()).toBe(1);
    expect(db.files.file('unfinished000000000000')).toBeUndefined();
    expect(db.files.file(kept)).toBeDefined();
  });

  it('deleting a message deletes its file, in the same transaction', () => {
    const id = uploaded();
    const [stored] = db.appendMessages([message({ file: id })]);
    const seq = stored?.message.seq ?? 0;
    const [deletion] = db.appendMessages([message({ rel: { t: 'delete', seq } })]);
    expect(deletion?.refused).toBeUndefined();
    expect(db.files.file(id)).toBeUndefined();
    expect(db.recentMessages('lobby', 5).find((m) => m.seq === seq)).toMatchObject({
      deleted: true,
      text: '',
    });
  });
});
