import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UNCLAIMED_FILE_MS } from '../../../src-main/server/file-store.ts';
import { FileSweep } from '../../../src-main/server/file-sweep.ts';
import { HostDatabase } from '../../../src-main/server/host-database.ts';
import { T0, fileId, upload, uploadStart } from './file-fixtures.ts';

// The file sweep's serialization seam (#19): a cluster node runs database work only inside a
// turn holding the cluster's write lock, so the sweep's start and ticks run through the
// `serialize` it is given, on a real SQLite file.

let dir: string;
let db: HostDatabase;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-sweep-'));
  db = HostDatabase.open(path.join(dir, 'host.db'), { historyLimit: 3 });
});

afterEach(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A serialize that queues: the work runs when the test says (a cluster node's next turn). */
function queue() {
  const works: (() => void)[] = [];
  return {
    works,
    serialize: (work: () => void) => void works.push(work),
    run: () => {
      for (const work of works.splice(0)) work();
    },
  };
}

describe('FileSweep', () => {
  it('sweeps at start and on each tick through the serialize it was given, only then', async () => {
    const unclaimed = upload(db);
    const unfinished = fileId();
    expect(db.files.write([uploadStart(unfinished, new Uint8Array(32), 2)])).toEqual(['ok']);
    const turns = queue();
    const sweep = new FileSweep({
      files: () => db.files,
      retentionDays: 30,
      now: () => T0 + UNCLAIMED_FILE_MS + 1,
      log: () => {},
      intervalMs: 5,
      serialize: turns.serialize,
    });
    sweep.start();
    try {
      // Nothing touched the database yet: the work waits for its turn.
      expect(db.files.file(unclaimed)).toBeDefined();
      expect(db.files.file(unfinished)).toBeDefined();
      turns.run();
      expect(db.files.file(unclaimed)).toBeUndefined();
      expect(db.files.file(unfinished)).toBeUndefined();
      // A tick queues its sweep, and runs nothing itself.
      const late = upload(db);
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(turns.works.length).toBeGreaterThan(0);
      expect(db.files.file(late)).toBeDefined();
      turns.run();
      expect(db.files.file(late)).toBeUndefined();
    } finally {
      sweep.stop();
    }
  });

  it('runs its work at once without a serialize (the single process)', () => {
    const unclaimed = upload(db);
    const sweep = new FileSweep({
      files: () => db.files,
      retentionDays: 30,
      now: () => T0 + UNCLAIMED_FILE_MS + 1,
      log: () => {},
    });
    sweep.start();
    sweep.stop();
    expect(db.files.file(unclaimed)).toBeUndefined();
  });
});
