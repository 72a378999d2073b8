// "Acknowledged means stored, delivered only once stored", with the WAL synced off the event loop
// (src-main/server/db/wal-sync.ts): a real host whose sync is held keeps reading and committing,
// but no ack and no message leaves until the sync covering their commits has completed.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type HostOptions, startHost } from '../../../src-main/server/host.ts';
import { startHeldSyncHost } from '../../support/held-sync-host.ts';
import { connectWireClient } from '../../support/wire-client.ts';
import { cleanupsAfterEach } from '../../support/lifecycle.ts';
import { heldSync } from '../../unit/server/held-sync.ts';

const cleanups = cleanupsAfterEach();
const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function heldHost(options: Partial<HostOptions> = {}) {
  const host = await startHeldSyncHost(cleanups, 'parley-durability-', options);
  /** Rows in the host's file, read by another connection: what the host has committed. */
  const storedTexts = () =>
    host.readHistory((db) =>
      db
        .prepare("SELECT text FROM messages WHERE room = 'lobby' AND text != '' ORDER BY seq")
        .all()
        .map((row) => row['text']),
    );
  return { ...host, storedTexts };
}

describe('the host with its WAL sync held', () => {
  it('commits and keeps serving, but acks and relays nothing until the sync completes, then all of it in order', async () => {
    const { sync, member, storedTexts } = await heldHost();
    const alice = await member('alice');
    const bob = await member('bob');
    sync.hold();

    const fromAlice = Array.from({ length: 5 }, (_, i) => ({
      id: `alice-msg-00000${i}`,
      text: `alice ${i}`,
    }));
    for (const m of fromAlice) alice.send({ t: 'send', room: 'lobby', ...m });
    await settle(200);
    // Stored (another connection reads them) and a sync runs, but nothing left the host.
    expect(storedTexts()).toEqual(fromAlice.map((m) => m.text));
    expect(sync.calls.length).toBeGreaterThan(0);
    expect(alice.of('ack')).toEqual([]);
    expect(bob.of('msg').filter((m) => !m.history)).toEqual([]);

    // The event loop is not blocked: the host reads and commits bob's messages meanwhile.
    const fromBob = Array.from({ length: 3 }, (_, i) => ({
      id: `bob-msg-00000${i}`,
      text: `bob ${i}`,
    }));
    for (const m of fromBob) bob.send({ t: 'send', room: 'lobby', ...m });
    await settle(200);
    expect(storedTexts()).toEqual([...fromAlice, ...fromBob].map((m) => m.text));
    expect(bob.of('ack')).toEqual([]);
    expect(alice.of('msg').filter((m) => !m.history)).toEqual([]);

    sync.release();
    await alice.waitFor('ack', (a) => a.id === 'alice-msg-000004');
    await bob.waitFor('ack', (a) => a.id === 'bob-msg-000002');
    await bob.waitFor('msg', (m) => m.id === 'alice-msg-000004');
    await alice.waitFor('msg', (m) => m.id === 'bob-msg-000002');
    expect(alice.of('ack').map((a) => a.id)).toEqual(fromAlice.map((m) => m.id));
    expect(bob.of('ack').map((a) => a.id)).toEqual(fromBob.map((m) => m.id));
    expect(
      bob
        .of('msg')
        .filter((m) => !m.history)
        .map((m) => m.id),
    ).toEqual(fromAlice.map((m) => m.id));
    expect(
      alice
        .of('msg')
        .filter((m) => !m.history)
        .map((m) => m.id),
    ).toEqual(fromBob.map((m) => m.id));
  });

  it('answers a history page that reads a row not yet durable only once it is', async () => {
    const { sync, member } = await heldHost();
    const alice = await member('alice');
    const bob = await member('bob');
    sync.hold();
    alice.send({ t: 'send', room: 'lobby', id: 'alice-msg-000009', text: 'not yet on disk' });
    await settle(200);
    bob.send({ t: 'history', room: 'lobby', before: 1_000_000, limit: 10 });
    await settle(200);
    // The page would show a row a crash could still take back: it waits with everything else.
    expect(bob.of('history-end')).toEqual([]);
    expect(bob.of('msg').filter((m) => m.text === 'not yet on disk')).toEqual([]);
    sync.release();
    await bob.waitFor('history-end');
    expect(bob.of('msg').some((m) => m.history && m.id === 'alice-msg-000009')).toBe(true);
  });

  it("holds a new key's nickname claim (a commit) until it is durable", async () => {
    const { h, sync } = await heldHost();
    sync.hold();
    const carol = connectWireClient(h.address.port, h.publicKey, 'carol');
    cleanups.push(async () => (await carol).close());
    const welcomed = carol.then((c) => c.waitFor('welcome', undefined, 5000));
    let done = false;
    void welcomed.then(() => (done = true));
    await settle(300);
    expect(done).toBe(false);
    sync.release();
    expect(await welcomed).toMatchObject({ nick: 'carol' });
  });

  it('starts (and so prints its invites) only once the rooms and invites it made are durable', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'parley-durability-'));
    const sync = heldSync(); // held from the start: the first start's commits wait
    let started = false;
    const starting = startHost({
      host: '127.0.0.1',
      port: 0,
      rooms: ['lobby'],
      dataDir,
      walSync: sync.sync,
    }).then((h) => {
      started = true;
      return h;
    });
    cleanups.push(async () => {
      sync.release();
      await (await starting).stop();
      rmSync(dataDir, { recursive: true, force: true });
    });
    await settle(300);
    expect(sync.calls.length).toBeGreaterThan(0);
    expect(started).toBe(false);
    sync.release();
    const h = await starting;
    expect(h.startInvites.map((invite) => invite.role)).toEqual(['owner', 'member']);
  });

  it('stops on a failed sync: what waited for it is never sent, and the failure is reported', async () => {
    const fatal: Error[] = [];
    const { sync, member, logged } = await heldHost({ onFatal: (error) => fatal.push(error) });
    const alice = await member('alice');
    const bob = await member('bob');
    sync.hold();
    alice.send({ t: 'send', room: 'lobby', id: 'lost-msg-000001', text: 'maybe never stored' });
    await settle(200);
    expect(sync.calls.length).toBeGreaterThan(0);
    sync.finish(Object.assign(new Error('fdatasync failed'), { code: 'EIO' }));
    await settle(200);
    expect(fatal).toHaveLength(1);
    expect(logged.find((l) => l.event === 'wal-sync-failed')?.fields).toMatchObject({
      code: 'EIO',
    });
    // Clients are told why at once (the reason reports no commit); nothing held goes with it.
    expect(await alice.closed).toMatchObject({ by: 'peer', code: 'shutdown' });
    expect((await bob.closed).reason).toContain('storage failed');
    sync.release(); // later syncs would succeed: they must not release anything
    await settle(200);
    expect(alice.of('ack')).toEqual([]);
    expect(bob.of('msg').filter((m) => !m.history)).toEqual([]);
  });
});
