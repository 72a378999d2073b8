// The checkpointer when its worker cannot run (its file missing from a bundle): a deletion's erase
// answers false at once (HostDatabase then erases on its own thread), and routine checkpoints fall
// back to the caller's thread once the WAL has grown past 4 MiB — the WAL never grows for ever.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
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
