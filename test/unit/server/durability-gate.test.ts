// The host's output gate on real channels over TCP: what a channel sends while a commit is not
// yet durable reaches the peer only once the sync covering that commit has completed, in order.
import { afterEach, describe, expect, it } from 'vitest';
import { WalSync } from '../../../src-main/server/db/wal-sync.ts';
import { DurabilityGate } from '../../../src-main/server/durability-gate.ts';
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

async function gated() {
  const held = heldSync();
  const failures: Error[] = [];
  const sync = new WalSync({ fd: -1, sync: held.sync, onFailure: (e) => failures.push(e) });
  const gate = new DurabilityGate(sync);
  const host = await startTestHost();
  hosts.push(host);
  const accepted = host.nextChannel();
  const peer = await connectTestClient(host.port);
  const client = collect(peer);
  const channel: SecureChannel = await accepted;
  channel.useOutputGate(gate);
  channel.start();
  const say = (text: string) => channel.send(encoder.encode(text));
  return { held, sync, gate, channel, client, peer, say, failures };
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
    // Held bytes count as buffered (the slow-reader limit sees them).
    expect(channel.bufferedBytes).toBeGreaterThan(0);
    held.finish();
    expect(await client.waitFor(2, 1000)).toEqual(['ack 1', 'msg 1']);
    expect(gate.holding).toBe(0);
    expect(channel.bufferedBytes).toBe(0);
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
