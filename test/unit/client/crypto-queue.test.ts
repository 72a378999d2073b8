import { describe, expect, it } from 'vitest';
import { CryptoQueue } from '../../../src-main/client/e2ee/crypto-queue.ts';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("an E2EE room's crypto queue", () => {
  it('finishes each item before the next starts, however long each one awaits', async () => {
    const queue = new CryptoQueue(() => undefined);
    const done: string[] = [];
    // A slow decryption, then a commit that takes no time, then a slower one: host order holds.
    queue.enqueue(async () => {
      await tick(30);
      done.push('msg 1');
    });
    queue.enqueue(() => {
      done.push('commit 2');
    });
    queue.enqueue(async () => {
      await tick(10);
      done.push('msg 3');
    });
    queue.enqueue(() => {
      done.push('synced');
    });
    expect(done).toEqual([]);
    await queue.idle();
    expect(done).toEqual(['msg 1', 'commit 2', 'msg 3', 'synced']);
  });

  it('runs a task that does not await at once when idle, like plaintext delivery', () => {
    const queue = new CryptoQueue(() => undefined);
    const done: number[] = [];
    queue.enqueue(() => {
      done.push(1);
    });
    expect(done).toEqual([1]);
    expect(queue.busy).toBe(false);
  });

  it('keeps going after a task fails, and reports the failure', async () => {
    const failures: unknown[] = [];
    const queue = new CryptoQueue((error) => failures.push(error));
    const done: number[] = [];
    queue.enqueue(async () => {
      await tick(1);
      throw new Error('undecryptable');
    });
    queue.enqueue(() => {
      done.push(2);
    });
    await queue.idle();
    expect(done).toEqual([2]);
    expect(failures).toHaveLength(1);
  });

  it('puts what a task enqueues after what was already waiting', async () => {
    const queue = new CryptoQueue(() => undefined);
    const done: string[] = [];
    queue.enqueue(async () => {
      await tick(5);
      queue.enqueue(() => {
        done.push('follow-up');
      });
      done.push('first');
    });
    queue.enqueue(() => {
      done.push('second');
    });
    await queue.idle();
    expect(done).toEqual(['first', 'second', 'follow-up']);
  });
});
