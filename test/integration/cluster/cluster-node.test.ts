import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect as connectNats } from 'nats';
import pgClient from 'pg';
import { encodeEntryMessage } from '../../../src-main/server/cluster/log-entry.ts';
import { encodeMessage } from '../../../src-main/protocol/wire/codec.ts';
import type { CompactionPolicy } from '../../../src-main/server/cluster/log-compaction.ts';
import { type RunningHost, startHost } from '../../../src-main/server/host.ts';
import { type NatsServer, startNatsServer } from '../../support/nats-server.ts';
import { type PostgresServer, startPostgres } from '../../support/postgres-server.ts';
import { connectWireClient } from '../../support/wire-client.ts';
import { newKeyPair } from '../../support/loopback.ts';

// Two cluster nodes in this process, on one PostgreSQL and one NATS: the turn machinery end to
// end (the three-node process test, cluster.test.ts, covers failures).
describe('cluster nodes in one process', () => {
  let pg: PostgresServer;
  let nats: NatsServer;
  let dir: string;
  const hosts: RunningHost[] = [];

  beforeAll(async () => {
    [pg, nats] = await Promise.all([startPostgres(), startNatsServer()]);
    dir = await mkdtemp(join(tmpdir(), 'parley-cluster-'));
  }, 60_000);

  afterAll(async () => {
    for (const host of hosts) await host.stop();
    await Promise.all([pg?.remove(), nats?.stop()]);
    await rm(dir, { recursive: true, force: true });
  }, 60_000);

  async function node(name: string, compaction?: Partial<CompactionPolicy>): Promise<RunningHost> {
    const host = await startHost({
      host: '127.0.0.1',
      port: 0,
      dataDir: join(dir, name),
      keyFile: join(dir, 'host.key'),
      openRooms: true,
      cluster: {
        natsUrl: nats.url,
        databaseUrl: pg.url,
        nodeName: name,
        ...(compaction ? { compaction } : {}),
      },
    });
    hosts.push(host);
    return host;
  }

  it('relays a message sent to one node to a member on the other, in seq order', async () => {
    const a = await node('a');
    const b = await node('b');
    expect(b.fingerprint).toBe(a.fingerprint);
    const alice = await connectWireClient(a.address.port, a.publicKey, 'alice');
    const bob = await connectWireClient(b.address.port, b.publicKey, 'bob');
    await alice.join('lobby');
    await bob.join('lobby');
    const ids = Array.from({ length: 5 }, () => randomUUID());
    const bobId = randomUUID();
    for (let i = 0; i < 5; i++)
      alice.send({ t: 'send', room: 'lobby', id: ids[i] ?? '', text: `hi ${i}` });
    bob.send({ t: 'send', room: 'lobby', id: bobId, text: 'from bob' });
    const got = await bob.waitFor('msg', (m) => m.id === ids[4]);
    expect(got.text).toBe('hi 4');
    const acks = await alice.waitFor('ack', (m) => m.id === ids[4]);
    expect(acks.seq).toBeGreaterThan(0);
    await alice.waitFor('msg', (m) => m.id === bobId);
    const seqs = bob
      .of('msg')
      .filter((m) => m.room === 'lobby')
      .map((m) => m.seq);
    expect([...seqs].sort((x, y) => x - y)).toEqual(seqs);
    alice.close();
    bob.close();
  }, 60_000);

  it('answers a resend through another node as a duplicate with the same seq', async () => {
    const [a, b] = hosts;
    if (!a || !b) throw new Error('the nodes of the first test');
    const keyPair = newKeyPair();
    const first = await connectWireClient(a.address.port, a.publicKey, 'carol', { keyPair });
    await first.join('lobby');
    const id = randomUUID();
    first.send({ t: 'send', room: 'lobby', id, text: 'once' });
    const ack = await first.waitFor('ack', (m) => m.id === id);
    first.close();
    const again = await connectWireClient(b.address.port, b.publicKey, 'carol', { keyPair });
    await again.join('lobby');
    again.send({ t: 'send', room: 'lobby', id, text: 'once' });
    const second = await again.waitFor('ack', (m) => m.id === id);
    expect(second).toMatchObject({ seq: ack.seq, duplicate: true });
    again.close();
  }, 30_000);

  it('keeps a nickname to its key on every node', async () => {
    const [a, b] = hosts;
    if (!a || !b) throw new Error('the nodes of the first test');
    const dave = await connectWireClient(a.address.port, a.publicKey, 'dave');
    const other = await connectWireClient(b.address.port, b.publicKey, 'eve');
    dave.send({ t: 'nick', nick: 'davide' });
    await dave.waitFor('nick', (m) => m.nick === 'davide');
    other.send({ t: 'nick', nick: 'davide' });
    const refused = await other.waitFor('error', (m) => m.code === 'nick-taken');
    expect(refused.ref).toBe('davide');
    dave.close();
    other.close();
  }, 30_000);

  it('answers internal with retryAfterMs while PostgreSQL is down, and resumes by itself', async () => {
    const [a, b] = hosts;
    if (!a || !b) throw new Error('the nodes of the first test');
    const frank = await connectWireClient(a.address.port, a.publicKey, 'frank');
    const grace = await connectWireClient(b.address.port, b.publicKey, 'grace');
    await frank.join('lobby');
    await grace.join('lobby');
    await pg.stop();
    const id = randomUUID();
    frank.send({ t: 'send', room: 'lobby', id, text: 'while the database is away' });
    const refused = await frank.waitFor('error', (m) => m.ref === id);
    expect(refused.code).toBe('internal');
    expect(refused.retryAfterMs).toBeGreaterThan(0);
    expect(frank.of('ack').some((m) => m.id === id)).toBe(false);
    await pg.start();
    // The client's resend after retryAfterMs: the same request, now acknowledged and relayed.
    let ack: { seq: number } | undefined;
    for (let attempt = 0; attempt < 20 && !ack; attempt++) {
      frank.send({ t: 'send', room: 'lobby', id, text: 'while the database is away' });
      ack = await frank.waitFor('ack', (m) => m.id === id, 1500).catch(() => undefined);
    }
    expect(ack?.seq).toBeGreaterThan(0);
    const relayed = await grace.waitFor('msg', (m) => m.id === id);
    expect(relayed.seq).toBe(ack?.seq);
    frank.close();
    grace.close();
  }, 60_000);

  it('shows members on other nodes online, and a key on two nodes as one presence', async () => {
    const [a, b] = hosts;
    if (!a || !b) throw new Error('the nodes of the first test');
    const hankKeys = newKeyPair();
    const hank = await connectWireClient(a.address.port, a.publicKey, 'hank', {
      keyPair: hankKeys,
    });
    await hank.join('lobby');
    const ivy = await connectWireClient(b.address.port, b.publicKey, 'ivy');
    // Hank's arrival reaches node b as an effect of node a's turn: b lists him online.
    let online = false;
    for (let attempt = 0; attempt < 20 && !online; attempt++) {
      await ivy.join('lobby');
      const listing = ivy.of('members').at(-1)?.members ?? [];
      online = listing.some((m) => m.key === hank.keyText && m.online === true);
      if (!online) {
        ivy.send({ t: 'leave', room: 'lobby' });
        await ivy.waitFor('left');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    expect(online).toBe(true);
    // Hank's second window, on the other node: the room is not told he arrived again…
    const hank2 = await connectWireClient(b.address.port, b.publicKey, 'hank', {
      keyPair: hankKeys,
    });
    await hank2.join('lobby');
    // …nor that he left when one of his two windows closes.
    hank.close();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const aboutHank = () => ivy.of('presence').filter((p) => p.key === hank.keyText);
    expect(aboutHank().map((p) => p.event)).toEqual([]);
    hank2.close();
    const gone = await ivy.waitFor('presence', (p) => p.key === hank.keyText);
    expect(gone.event).toBe('left'); // a goodbye: left, not disconnected
    ivy.close();
  }, 60_000);

  it('compacts the log into a snapshot: a new node starts from it, and deleted text is gone', async () => {
    const [a] = hosts;
    if (!a) throw new Error('the nodes of the first test');
    const canary = `canary-${randomUUID()}`;
    const judy = await connectWireClient(a.address.port, a.publicKey, 'judy');
    await judy.join('lobby');
    const id = randomUUID();
    judy.send({ t: 'send', room: 'lobby', id, text: canary });
    const target = (await judy.waitFor('ack', (m) => m.id === id)).seq;
    const deletion = randomUUID();
    judy.send({
      t: 'send',
      room: 'lobby',
      id: deletion,
      ev: { type: 'delete', target },
      rel: { t: 'delete', seq: target },
    });
    await judy.waitFor('ack', (m) => m.id === deletion);
    const client = new pgClient.Client({ connectionString: pg.url });
    await client.connect();
    try {
      const inLog = async () =>
        (
          await client.query(
            'SELECT count(*)::int AS n FROM parley_log WHERE position($1::bytea IN changes) > 0',
            [Buffer.from(canary)],
          )
        ).rows[0].n as number;
      expect(await inLog()).toBe(1); // the insert's changeset holds it until compaction
      // A node that compacts at once and keeps nothing behind the snapshot.
      const compacting = await node('compacting', {
        afterEntries: 1,
        checkEveryMs: 100,
        keepMs: 0,
        maxAgeMs: 0,
      });
      let snapshots = 0;
      for (let i = 0; i < 100 && snapshots === 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        snapshots = (
          await client.query('SELECT count(*)::int AS n FROM parley_snapshot WHERE complete')
        ).rows[0].n as number;
      }
      expect(snapshots).toBe(1);
      expect(await inLog()).toBe(0);
      const chunks = await client.query(
        'SELECT count(*)::int AS n FROM parley_snapshot_chunk WHERE position($1::bytea IN data) > 0',
        [Buffer.from(canary)],
      );
      expect(chunks.rows[0].n).toBe(0);
      await compacting.stop();
      hosts.splice(hosts.indexOf(compacting), 1);
      // A node started now has the history from the snapshot: the tombstone, not the text.
      const late = await node('late');
      const kim = await connectWireClient(late.address.port, late.publicKey, 'kim');
      await kim.join('lobby');
      const row = kim.of('msg').find((m) => m.seq === target);
      expect(row?.deleted).toBe(true);
      expect(JSON.stringify(kim.received)).not.toContain(canary);
      kim.close();
    } finally {
      await client.end();
    }
    judy.close();
  }, 60_000);

  it('ignores what anyone else publishes on NATS, even a well-formed entry', async () => {
    const [a, b] = hosts;
    if (!a || !b) throw new Error('the nodes of the first test');
    const lee = await connectWireClient(b.address.port, b.publicKey, 'lee');
    await lee.join('lobby');
    const client = new pgClient.Client({ connectionString: pg.url });
    await client.connect();
    const head = (await client.query('SELECT pos, cluster::text AS cluster FROM parley_head'))
      .rows[0] as {
      pos: string;
      cluster: string;
    };
    await client.end();
    const forged = encodeMessage({
      t: 'msg',
      room: 'lobby',
      seq: 999_999,
      id: randomUUID(),
      from: 'mallory',
      key: lee.keyText,
      text: 'forged',
      ts: Date.now(),
    });
    const entry = encodeEntryMessage(
      {
        pos: Number(head.pos) + 1,
        node: 'a',
        changes: new Uint8Array(0),
        effects: [{ op: 'room', room: 'lobby', bytes: forged }],
      },
      1 << 20,
    );
    const nc = await connectNats({ servers: nats.url });
    nc.publish(`parley.${head.cluster}.log`, entry);
    nc.publish(`parley.${head.cluster}.live`, entry);
    await nc.flush();
    await nc.close();
    // A real message after it arrives; the forged one never does.
    const alice = await connectWireClient(a.address.port, a.publicKey, 'alice2');
    await alice.join('lobby');
    const id = randomUUID();
    alice.send({ t: 'send', room: 'lobby', id, text: 'real' });
    await lee.waitFor('msg', (m) => m.id === id);
    expect(lee.of('msg').some((m) => m.text === 'forged')).toBe(false);
    alice.close();
    lee.close();
  }, 30_000);

  it("refuses a node whose key file is not the cluster's", async () => {
    await expect(
      startHost({
        host: '127.0.0.1',
        port: 0,
        dataDir: join(dir, 'stranger'),
        keyFile: join(dir, 'another.key'),
        cluster: { natsUrl: nats.url, databaseUrl: pg.url, nodeName: 'stranger' },
      }),
    ).rejects.toThrow(/is not the cluster's/);
  }, 30_000);
});
