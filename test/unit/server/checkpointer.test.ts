// The checkpointer when its worker cannot run (its file missing from a bundle): a deletion's erase
// answers false at once (HostDatabase then erases on its own thread), and routine checkpoints fall
// back to the caller's thread once the WAL has grown past 4 MiB — the WAL never grows for ever.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DatabaseSync } from 'node:sqlite';
import { Checkpointer } from '../../../src-main/server/db/checkpointer.ts';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-ckpt-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const missing = new URL('./no-such-worker.ts', import.meta.url);

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('Checkpointer without its worker', () => {
  it('answers an erase with false instead of waiting for ever', async () => {
    const file = path.join(dir, 'x.db');
    const checkpointer = new Checkpointer(file, -1, () => undefined, missing);
    expect(await checkpointer.erase()).toBe(false);
    expect(await checkpointer.erase()).toBe(false);
    await checkpointer.close();
  });

  it('checkpoints on the caller thread once the WAL has passed 4 MiB', async () => {
    const wal = path.join(dir, 'x.db-wal');
    fs.writeFileSync(wal, Buffer.alloc(5 * 1024 * 1024));
    const fd = fs.openSync(wal, 'r');
    try {
      let fallbacks = 0;
      const checkpointer = new Checkpointer(path.join(dir, 'x.db'), fd, () => fallbacks++, missing);
      await checkpointer.erase(); // finds out that the worker cannot run
      checkpointer.wrote();
      await until(() => fallbacks === 1);
      await checkpointer.close();
    } finally {
      fs.closeSync(fd);
    }
  });
});

describe('Checkpointer noticing a grown WAL', () => {
  // The WAL's size is looked at most every 250 ms: a write within that interval must not be
  // forgotten, or a burst that takes the WAL past 4 MiB and then stops is never checkpointed
  // until the next write (a flaky test showed it).
  it('looks again after the interval when a write came too soon to look', async () => {
    const wal = path.join(dir, 'x.db-wal');
    fs.writeFileSync(wal, Buffer.alloc(1024));
    const fd = fs.openSync(wal, 'r+');
    try {
      let fallbacks = 0;
      const checkpointer = new Checkpointer(path.join(dir, 'x.db'), fd, () => fallbacks++, missing);
      await checkpointer.erase(); // no worker here: a grown WAL is checkpointed by the fallback
      checkpointer.wrote(); // looks: small
      await new Promise((r) => setTimeout(r, 50));
      fs.writeSync(fd, Buffer.alloc(5 * 1024 * 1024), 0, 5 * 1024 * 1024, 0);
      checkpointer.wrote(); // too soon to look again; the last write of the burst
      await until(() => fallbacks === 1, 2000);
      await checkpointer.close();
    } finally {
      fs.closeSync(fd);
    }
  });
});

describe('Checkpointer in a host run with the shipped Node flags', () => {
  // A Worker refuses per-process V8 flags (ERR_WORKER_INVALID_EXEC_ARGV, thrown by its
  // constructor): a host started as shipped (--max-semi-space-size=2) once died at its first
  // checkpoint or deletion. Run in a process of its own with those flags.
  it('erases the WAL with its worker, and the process lives on', () => {
    const file = path.join(dir, 'x.db');
    const module = new URL('../../../src-main/server/db/checkpointer.ts', import.meta.url).href;
    const script = `
      import { DatabaseSync } from 'node:sqlite';
      import fs from 'node:fs';
      import { Checkpointer } from ${JSON.stringify(module)};
      const db = new DatabaseSync(${JSON.stringify(file)});
      db.exec('PRAGMA journal_mode = WAL');
      db.exec('CREATE TABLE t (x TEXT)');
      db.exec("INSERT INTO t VALUES ('row')");
      const fd = fs.openSync(${JSON.stringify(`${file}-wal`)}, 'r');
      const checkpointer = new Checkpointer(${JSON.stringify(file)}, fd, () => undefined);
      const erased = await checkpointer.erase();
      await checkpointer.close();
      console.log(JSON.stringify({ erased, walBytes: fs.fstatSync(fd).size }));
      db.close();
    `;
    const run = spawnSync(
      process.execPath,
      ['--max-semi-space-size=2', '--expose-gc', '--input-type=module', '-e', script],
      { encoding: 'utf8', timeout: 20_000 },
    );
    expect(run.stderr).not.toContain('ERR_WORKER_INVALID_EXEC_ARGV');
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout.trim())).toEqual({ erased: true, walBytes: 0 });
  });
});

describe('Checkpointer while another connection holds a read snapshot', () => {
  // A backup tool, an operator's sqlite3 shell or a `parley host` command reading: a deletion's
  // erase (TRUNCATE) cannot finish until it ends. It must give up soon (the deletion's group, and
  // so every answer of the host, waits for it), and must not keep the host's writer locked out
  // meanwhile (its commits would fail 'locked' after their 100 ms busy wait, on the event loop).
  it('gives up the erase soon, and the host keeps committing meanwhile', async () => {
    const file = path.join(dir, 'x.db');
    const host = new DatabaseSync(file, { timeout: 100 });
    host.exec('PRAGMA journal_mode = WAL');
    host.exec('CREATE TABLE t (x TEXT)');
    host.exec("INSERT INTO t VALUES ('before')");
    const reader = new DatabaseSync(file);
    reader.exec('BEGIN');
    reader.prepare('SELECT count(*) FROM t').get();
    host.exec("INSERT INTO t VALUES ('after the snapshot')");
    const fd = fs.openSync(`${file}-wal`, 'r');
    const checkpointer = new Checkpointer(file, fd, () => undefined);
    try {
      let settled: boolean | undefined;
      const erased = checkpointer.erase().then((done) => (settled = done));
      let refused = 0;
      const start = Date.now();
      while (settled === undefined && Date.now() - start < 5000) {
        try {
          host.exec("INSERT INTO t VALUES ('meanwhile')");
        } catch {
          refused++;
        }
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(settled).toBe(false);
      expect(refused).toBe(0);
      await erased;
    } finally {
      reader.exec('COMMIT');
      reader.close();
      await checkpointer.close();
      fs.closeSync(fd);
      host.close();
    }
  }, 15_000);
});
