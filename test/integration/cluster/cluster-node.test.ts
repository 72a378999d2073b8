import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningHost, startHost } from '../../../src-main/server/host.ts';
import { type NatsServer, startNatsServer } from '../../support/nats-server.ts';
import { type PostgresServer, startPostgres } from '../../support/postgres-server.ts';
import { connectWireClient } from '../../support/wire-client.ts';

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

  async function node(name: string): Promise<RunningHost> {
    const host = await startHost({
      host: '127.0.0.1',
      port: 0,
      dataDir: join(dir, name),
      keyFile: join(dir, 'host.key'),
      openRooms: true,
      cluster: { natsUrl: nats.url, databaseUrl: pg.url, nodeName: name },
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
});
