// The host's output gate on real channels over TCP: what a channel sends while a commit is not
// yet durable reaches the peer only once the sync covering that commit has completed, in order.
import { afterEach, describe, expect, it } from 'vitest';
import { WalSync } from '../../../src-main/server/db/wal-sync.ts';
import {
  DurabilityGate,
  type DurabilityGateOptions,
} from '../../../src-main/server/durability-gate.ts';
import type { SecureChannel } from '../../../src-main/protocol/secure-channel.ts';
import {
  collect,
  connectTestClient,
  encoder,
  startTestHost,
  type TestHost,
} from '../../support/loopback.ts';
import { heldSync } from './held-sync.ts';

const hosts: TestHost[] = [];
afterEach(async () => {
  for (const host of hosts.splice(0)) await host.close();
});

const settle = (ms = 60) => new Promise((r) => setTimeout(r, ms));

async function gated(options: DurabilityGateOptions = {}) {
  const held = heldSync();
  const failures: Error[] = [];
  const sync = new WalSync({ fd: -1, sync: held.sync, onFailure: (e) => failures.push(e) });
  const gate = new DurabilityGate(sync, options);
  const host = await startTestHost();
  hosts.push(host);
  const accepted = host.nextChannel();
  const peer = await connectTestClient(host.port);
  const client = collect(peer);
  const channel: SecureChannel = await accepted;
  channel.useOutputGate(gate);
  const heard = collect(channel); // what the host side reads from its peer
  channel.start();
  const say = (text: string) => channel.send(encoder.encode(text));
  return { held, sync, gate, channel, client, peer, say, failures, heard };
}

describe('the durability gate', () => {
  it('lets output leave at once while every commit is durable', async () => {
    const { client, say } = await gated();
    say('ping');
    expect(await client.waitFor(1, 1000)).toEqual(['ping']);
  });

  it('holds what was sent after a commit until its sync completes, then sends it in order', async () => {
    const { held, sync, gate, client, say, channel } = await gated();
    sync.committed();
    say('ack 1');
    say('msg 1');
    await settle();
    expect(client.messages).toEqual([]);
    expect(gate.holding).toBe(1);
    // Held bytes wait for the disk, not for the reader: they are not its backlog (the
    // slow-reader limit does not see them); the gate counts them instead.
    expect(channel.heldBytes).toBeGreaterThan(0);
    expect(gate.state.heldBytes).toBe(channel.heldBytes);
    expect(channel.bufferedBytes).toBe(0);
    held.finish();
    expect(await client.waitFor(2, 1000)).toEqual(['ack 1', 'msg 1']);
    expect(gate.holding).toBe(0);
    expect(channel.heldBytes).toBe(0);
    expect(gate.state.heldBytes).toBe(0);
  });

  it('makes what a commit during a running sync produced wait for the next sync', async () => {
    const { held, sync, client, say } = await gated();
    sync.committed();
    say('first');
    await settle(10); // sealed and held for group 1
    sync.committed(); // returns while group 1 is syncing: group 2 covers it
    say('second');
    await settle();
    held.finish(); // group 1 durable: 'first' may go, 'second' may not
    await client.waitFor(1, 1000);
    await settle();
    expect(client.messages).toEqual(['first']);
    held.finish();
    expect(await client.waitFor(2, 1000)).toEqual(['first', 'second']);
  });

  it('keeps order: output with no commit behind it waits behind held output', async () => {
    const { held, sync, client, say } = await gated();
    sync.committed();
    say('stored');
    await settle(10);
    held.finish();
    sync.committed();
    say('stored 2');
    await settle(10);
    // Group 2 runs; a ping queued now depends on group 2 as well (barrier), and even one queued
    // once the host is clean must not overtake what is held.
    say('pong');
    await settle();
    expect(client.messages).toEqual(['stored']);
    held.finish();
    expect(await client.waitFor(3, 1000)).toEqual(['stored', 'stored 2', 'pong']);
  });

  it('closes after held output has left, with the reason last', async () => {
    const { held, sync, client, say, channel } = await gated();
    sync.committed();
    say('you were removed');
    channel.close('removed', 'by the owner');
    await settle();
    expect(client.messages).toEqual([]);
    held.finish();
    const info = await client.closed;
    expect(client.messages).toEqual(['you were removed']);
    expect(info).toMatchObject({ by: 'peer', code: 'removed' });
  });

  it('forgets a channel whose peer left while its output was held', async () => {
    const { held, sync, gate, say, peer } = await gated();
    sync.committed();
    say('for nobody');
    await settle(10);
    expect(gate.holding).toBe(1);
    peer.close('bye', 'leaving');
    await settle(100);
    held.finish();
    expect(gate.holding).toBe(0);
  });

  it('sends nothing held after a failed sync (fail-stop)', async () => {
    const { held, sync, client, say, failures } = await gated();
    sync.committed();
    say('never durable');
    await settle(10);
    held.finish(new Error('EIO'));
    expect(failures).toHaveLength(1);
    sync.committed();
    say('later');
    await settle(100);
    expect(client.messages).toEqual([]);
  });
});

describe('the durability gate under a slow disk', () => {
  it('stops reading while one channel holds more than its bound, and reads again once it is released', async () => {
    const { held, sync, gate, client, say, peer, heard } = await gated({
      backpressure: { maxHeldPerChannel: 1000, maxHeldBytes: 1_000_000, maxSyncWaitMs: 60_000 },
    });
    sync.committed();
    say('small');
    expect(gate.stalled).toBe(false);
    say('x'.repeat(2000)); // counted as it is queued: the stall begins in this very turn
    expect(gate.stalled).toBe(true);
    peer.send(encoder.encode('from the peer'));
    await settle(100);
    expect(heard.messages).toEqual([]); // not read while the host holds too much
    held.finish();
    expect(gate.stalled).toBe(false);
    expect(await heard.waitFor(1, 1000)).toEqual(['from the peer']);
    expect(await client.waitFor(2, 1000)).toEqual(['small', 'x'.repeat(2000)]);
    expect(gate.state).toMatchObject({ heldBytes: 0, stalls: 1, stalled: false });
    expect(gate.state.peakHeldBytes).toBeGreaterThan(2000);
  });

  it('stops reading while all channels together hold more than the total bound', async () => {
    const { held, sync, gate, say, peer, heard } = await gated({
      backpressure: { maxHeldPerChannel: 1_000_000, maxHeldBytes: 1000, maxSyncWaitMs: 60_000 },
    });
    sync.committed();
    say('y'.repeat(1500));
    expect(gate.stalled).toBe(true);
    peer.send(encoder.encode('waits'));
    await settle(100);
    expect(heard.messages).toEqual([]);
    held.finish();
    expect(await heard.waitFor(1, 1000)).toEqual(['waits']);
  });

  it('stops reading while a sync runs longer than maxSyncWaitMs, and says for how long', async () => {
    const stalls: [number, number][] = [];
    const { held, sync, gate, say, peer, heard } = await gated({
      backpressure: { maxSyncWaitMs: 100 },
      onResumed: (from, to) => stalls.push([from, to]),
    });
    const started = Date.now();
    sync.committed();
    say('ack'); // a little output, held for the sync
    await settle(50);
    expect(gate.stalled).toBe(false);
    await settle(200);
    expect(gate.stalled).toBe(true);
    peer.send(encoder.encode('unread'));
    await settle(50);
    expect(heard.messages).toEqual([]);
    held.finish();
    const ended = Date.now();
    expect(await heard.waitFor(1, 1000)).toEqual(['unread']);
    // Counted from the sync's start: the clients' silence since then is the host's doing.
    expect(stalls).toHaveLength(1);
    const [from, to] = stalls[0] ?? [0, 0];
    expect(from).toBeGreaterThanOrEqual(started - 5);
    expect(from).toBeLessThan(started + 50);
    expect(to).toBeGreaterThanOrEqual(ended - 5);
  });

  it('gives a channel that arrives during a stall a paused input, released with the rest', async () => {
    const { held, sync, gate, say } = await gated({
      backpressure: { maxHeldPerChannel: 10, maxSyncWaitMs: 60_000 },
    });
    sync.committed();
    say('more than ten bytes');
    expect(gate.stalled).toBe(true);
    const paused: string[] = [];
    gate.attach({
      release: () => true,
      pauseInput: () => paused.push('pause'),
      resumeInput: () => paused.push('resume'),
    });
    expect(paused).toEqual(['pause']);
    held.finish();
    await settle(20);
    expect(paused).toEqual(['pause', 'resume']);
  });
});
