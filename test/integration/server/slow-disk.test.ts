// A slow disk slows everyone down alike; it drops no one (src-main/server/durability-gate.ts).
// The host syncs its WAL off the event loop and holds each channel's output until the sync
// covering it completes. Held output is the disk's doing, not the reader's: it does not count
// toward the 4 MiB slow-reader rule. Memory stays bounded because the host stops reading its
// clients while much output is held (or a sync has taken more than a second), and the idle
// sweep does not count that pause as the clients' silence.
import { describe, expect, it } from 'vitest';
import type { HostOptions } from '../../../src-main/server/host.ts';
import { startHeldSyncHost } from '../../support/held-sync-host.ts';
import type { WireClient } from '../../support/wire-client.ts';
import { cleanupsAfterEach } from '../../support/lifecycle.ts';

const cleanups = cleanupsAfterEach();
const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MIB = 1024 * 1024;
/** The rate limits out of the way: these tests are about bytes, not about flooding. */
const UNLIMITED = {
  messagesPerSecond: 1e6,
  messageBurst: 1e6,
  requestsPerSecond: 1e6,
  requestBurst: 1e6,
};

async function slowDiskHost(options: Partial<HostOptions> = {}) {
  const host = await startHeldSyncHost(cleanups, 'parley-slow-disk-', options);
  const left = () => host.logged.filter((e) => e.event === 'client-left').map((e) => e.fields);
  const storedCount = () =>
    host.readHistory((db) =>
      Number(db.prepare("SELECT count(*) AS n FROM messages WHERE room = 'lobby'").get()?.['n']),
    );
  return { ...host, left, storedCount };
}

const live = (c: WireClient) =>
  c
    .of('msg')
    .filter((m) => !m.history)
    .map((m) => m.id);

describe('a host whose disk is slow', () => {
  it('holds a busy room back while one sync takes seconds, drops no fast reader, and loses nothing', async () => {
    const { h, sync, member, left, storedCount } = await slowDiskHost({ limits: UNLIMITED });
    const sender = await member('sender');
    const readers = [await member('reader1'), await member('reader2'), await member('reader3')];
    const before = storedCount();
    sync.hold();

    // ~5 MiB for each reader: more than the 4 MiB a connection may have waiting to be written.
    const text = 'x'.repeat(16_000);
    const ids = Array.from({ length: 330 }, (_, i) => `burst-msg-${String(i).padStart(6, '0')}`);
    for (const id of ids) sender.send({ t: 'send', room: 'lobby', id, text });
    await settle(2000);
    // The disk has not answered: nothing acknowledged, nothing relayed, the host has stopped
    // taking more in (the sender's socket is no longer read) rather than buffer without bound.
    expect(sender.of('ack')).toEqual([]);
    for (const reader of readers) expect(live(reader)).toEqual([]);
    expect(h.backpressure.stalled).toBe(true);
    expect(h.backpressure.heldBytes).toBeGreaterThan(0);
    expect(storedCount() - before).toBeLessThan(ids.length);

    sync.release();
    const last = ids.at(-1) ?? '';
    await sender.waitFor('ack', (a) => a.id === last, 30_000);
    for (const reader of readers) await reader.waitFor('msg', (m) => m.id === last, 30_000);

    expect(left()).toEqual([]);
    expect(h.clientCount).toBe(4);
    expect(sender.of('ack').map((a) => a.id)).toEqual(ids);
    for (const reader of readers) expect(live(reader)).toEqual(ids);
    expect(storedCount() - before).toBe(ids.length);
    // Bounded: what was held at once never passed the host's bound, and it did stall for it.
    expect(h.backpressure.peakHeldBytes).toBeLessThanOrEqual(h.backpressure.maxHeldBytes);
    expect(h.backpressure.maxHeldBytes).toBeLessThanOrEqual(16 * MIB);
    expect(h.backpressure.stalls).toBeGreaterThan(0);
    expect(h.backpressure.stalled).toBe(false);
    expect(h.backpressure.heldBytes).toBe(0);
  }, 60_000);

  it('still drops a reader that stops reading, on a disk of normal speed, and keeps the room flowing', async () => {
    const { h, member, left } = await slowDiskHost({
      limits: { ...UNLIMITED, maxQueueBytes: 512 * 1024 },
    });
    const sender = await member('sender');
    const fast = await member('fast');
    const slow = await member('slow');
    slow.socket.pause(); // stops reading: the kernel's buffers fill, then the host's queue
    const text = 'y'.repeat(8000);
    let n = 0;
    let last = '';
    for (let round = 0; round < 500 && h.clientCount === 3; round++) {
      for (let i = 0; i < 20; i++) {
        last = `slow-msg-${String(n++).padStart(6, '0')}`;
        sender.send({ t: 'send', room: 'lobby', id: last, text });
      }
      await fast.waitFor('msg', (m) => m.id === last, 10_000);
    }
    expect(left()).toEqual([expect.objectContaining({ nick: 'slow', code: 'slow-reader' })]);
    expect(h.clientCount).toBe(2);
    const id = 'slow-msg-after';
    sender.send({ t: 'send', room: 'lobby', id, text: 'after the slow one left' });
    await fast.waitFor('msg', (m) => m.id === id);
    expect(live(fast)).toHaveLength(n + 1);
  }, 60_000);

  it('does not time out clients that were silent because the host stopped reading them', async () => {
    const { h, sync, member, left } = await slowDiskHost({
      limits: { pingAfterMs: 1000, idleTimeoutMs: 2500 },
    });
    const alice = await member('alice');
    const bob = await member('bob');
    // They answer every ping, as a real client does.
    for (const c of [alice, bob]) {
      c.channel.on('message', () => {
        const ping = c.received.at(-1);
        if (ping?.t === 'ping') c.send({ t: 'pong', n: ping.n });
      });
    }
    sync.hold();
    alice.send({ t: 'send', room: 'lobby', id: 'idle-msg-000001', text: 'the disk is slow' });
    // The sync takes 3.5 s, more than the 2.5 s after which a silent client is dropped: the
    // host stalls (it cannot tell who is silent while it does not read, and its pings wait).
    await settle(3500);
    expect(h.backpressure.stalled).toBe(true);
    sync.release();
    await bob.waitFor('msg', (m) => m.id === 'idle-msg-000001');
    await alice.waitFor('ack', (a) => a.id === 'idle-msg-000001');
    await settle(1500);
    expect(left()).toEqual([]);
    expect(h.clientCount).toBe(2);
    // And the sweep still works once the host serves again: a client that stops answering goes.
    bob.channel.removeAllListeners('message');
    expect(await bob.closed).toMatchObject({ by: 'peer', code: 'idle-timeout' });
  }, 30_000);
});
