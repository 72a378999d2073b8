import { describe, expect, it } from 'vitest';
import { WalSync } from '../../../src-main/server/db/wal-sync.ts';
import { heldSync } from './held-sync.ts';

function walSync() {
  const held = heldSync();
  const failures: Error[] = [];
  const durable: number[] = [];
  const sync = new WalSync({ fd: -1, sync: held.sync, onFailure: (e) => failures.push(e) });
  sync.onDurable((group) => durable.push(group));
  return { held, failures, durable, sync };
}

describe('WalSync', () => {
  it('is clean until a commit, which starts a sync at once', () => {
    const { held, sync, durable } = walSync();
    expect(sync.barrier).toBe(0);
    sync.committed();
    expect(held.calls).toHaveLength(1);
    expect(sync.barrier).toBe(1);
    held.finish();
    expect(durable).toEqual([1]);
    expect(sync.barrier).toBe(0);
    expect(held.calls).toHaveLength(0);
  });

  it('groups the commits made while a sync runs into the next sync, which waits for it', () => {
    const { held, sync, durable } = walSync();
    sync.committed();
    // Output produced now depends only on the first commit: the running sync covers it.
    expect(sync.barrier).toBe(1);
    sync.committed();
    sync.committed();
    sync.committed();
    // These commits returned after the sync started: only the next one covers them.
    expect(sync.barrier).toBe(2);
    expect(held.calls).toHaveLength(1);
    held.finish();
    expect(durable).toEqual([1]);
    // Three commits, one more sync, started as soon as the first ended.
    expect(held.calls).toHaveLength(1);
    expect(sync.barrier).toBe(2);
    held.finish();
    expect(durable).toEqual([1, 2]);
    expect(held.calls).toHaveLength(0);
    expect(sync.barrier).toBe(0);
  });

  it('stops for good on a failed sync: no group completes after it, and it is reported once', () => {
    const { held, sync, durable, failures } = walSync();
    sync.committed();
    sync.committed();
    held.finish(Object.assign(new Error('EIO'), { code: 'EIO' }));
    expect(failures).toHaveLength(1);
    expect(sync.failed).toBe(true);
    // Nothing may leave any more, not even output that depends on no new commit.
    expect(sync.barrier).toBeGreaterThan(1_000_000);
    expect(durable).toEqual([]);
    // The commit made during the failed sync is never reported durable, nor any later one.
    expect(held.calls).toHaveLength(0);
    sync.committed();
    expect(held.calls).toHaveLength(0);
    expect(durable).toEqual([]);
    expect(failures).toHaveLength(1);
  });

  it('counts a group durable only after the work asked to follow its sync', async () => {
    const { held, sync, durable } = walSync();
    let finishWork: () => void = () => undefined;
    sync.afterNextSync(() => new Promise<void>((resolve) => (finishWork = resolve)));
    expect(held.calls).toHaveLength(1);
    held.finish();
    await new Promise((r) => setTimeout(r, 10));
    expect(durable).toEqual([]);
    finishWork();
    await new Promise((r) => setTimeout(r, 10));
    expect(durable).toEqual([1]);
  });

  it('idle() waits for the running sync', async () => {
    const { held, sync } = walSync();
    sync.committed();
    let idle = false;
    void sync.idle().then(() => (idle = true));
    await new Promise((r) => setTimeout(r, 10));
    expect(idle).toBe(false);
    held.finish();
    await new Promise((r) => setTimeout(r, 0));
    expect(idle).toBe(true);
  });
});
