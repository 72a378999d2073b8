import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostMessage } from '../../../src-main/protocol/wire/messages.ts';
import { type ClusterHosts, clusterHosts } from '../../support/host-model/cluster-host.ts';
import type { ModelHost } from '../../support/host-model/host-world.ts';
import { type NatsServer, startNatsServer } from '../../support/nats-server.ts';
import { type PostgresServer, startPostgres } from '../../support/postgres-server.ts';
import { type WireClient, connectWireClient } from '../../support/wire-client.ts';

// A deleted message's text in a cluster (#19, docs/scaling.md "Compaction"): the deletion's own
// log entry never holds the text (patchsets carry new values only), and once the log is
// compacted the text is in neither the log nor the snapshot in PostgreSQL. Three nodes
// (test/support/host-model/cluster-host.ts: the model test's nodes, which compact the log every
// 30 entries and keep none) and a plaintext open room.

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('a deleted message in a cluster', () => {
  let nats: NatsServer;
  let postgres: PostgresServer;
  let hosts: ClusterHosts;
  let dataDir: string;
  let host: ModelHost;
  const stderr: string[] = [];
  const clients: WireClient[] = [];
  const secret = `secret-${randomBytes(12).toString('hex')}`;

  beforeAll(async () => {
    [postgres, nats] = await Promise.all([startPostgres(), startNatsServer()]);
    hosts = clusterHosts({ nats, postgres }, 3);
    dataDir = mkdtempSync(join(tmpdir(), 'parley-cluster-deletion-'));
    host = await hosts.spawn(dataDir, stderr);
  }, 90_000);

  afterAll(async () => {
    for (const c of clients) c.close();
    await hosts?.close();
    await Promise.all([nats?.stop(), postgres?.remove()]);
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('is gone from PostgreSQL once the log is compacted, and its deletion never held it', async () => {
    const url = hosts.databaseOf(dataDir);
    if (!url) throw new Error('no database');
    const connect = async (slot: number, nick: string) => {
      const c = await connectWireClient(host.portFor?.(slot) ?? host.port, host.hostKey, nick);
      clients.push(c);
      await c.join('lobby');
      return c;
    };
    const alice = await connect(0, 'alice'); // n1
    const bob = await connect(1, 'bob'); // n2
    let ids = 0;
    const send = async (c: WireClient, body: Record<string, unknown>) => {
      const id = `del-${String(++ids).padStart(6, '0')}`;
      c.send({ t: 'send', room: 'lobby', id, ...body } as Parameters<WireClient['send']>[0]);
      const ack = await c.waitFor('ack', (m) => m.id === id, 10_000);
      return ack.seq;
    };
    const target = await send(alice, { text: secret });
    const db = new pg.Client({ connectionString: url });
    db.on('error', () => undefined);
    await db.connect();
    const holding = async () => {
      const needle = Buffer.from(secret);
      const log = await db.query<{ pos: string }>(
        'SELECT pos FROM parley_log WHERE position($1::bytea in changes) > 0 OR position($1::bytea in effects) > 0',
        [needle],
      );
      const snapshots = await db.query<{ snapshot: string }>(
        'SELECT snapshot FROM parley_snapshot_chunk WHERE position($1::bytea in data) > 0',
        [needle],
      );
      return {
        log: log.rows.map((r) => Number(r.pos)),
        snapshots: snapshots.rows.map((r) => Number(r.snapshot)),
      };
    };
    try {
      const before = await holding();
      expect(before.log.length).toBeGreaterThan(0); // the message's own entry, until compacted
      const deletion = await send(alice, {
        ev: { type: 'delete', target },
        rel: { t: 'delete', seq: target },
      });
      await bob.waitFor('msg', (m: Extract<HostMessage, { t: 'msg' }>) => m.seq === deletion);
      const { rows } = await db.query<{ pos: string }>('SELECT max(pos) AS pos FROM parley_log');
      const deletionPos = Number(rows[0]?.pos);
      // The deletion's own entry does not carry the text it deletes.
      expect((await holding()).log).not.toContain(deletionPos);
      // Enough entries for a compaction (every 30), then a moment for it to run.
      for (let i = 0; i < 35; i++) await send(i % 2 ? alice : bob, { text: `filler ${i}` });
      const deadline = Date.now() + 15_000;
      let now = await holding();
      while ((now.log.length > 0 || now.snapshots.length > 0) && Date.now() < deadline) {
        await sleep(250);
        now = await holding();
      }
      const compacted = stderr.filter((line) => / cluster-log-compacted /.test(line));
      expect(compacted.length, 'the log was never compacted').toBeGreaterThan(0);
      expect(now, 'PostgreSQL still holds the deleted text (log entries, snapshots)').toEqual({
        log: [],
        snapshots: [],
      });
    } finally {
      await db.end();
    }
  }, 60_000);

  it('is not left on the nodes’ disks either (their replicas, as the single host erases its files)', async () => {
    // The single host erases a deleted text from its database file and WAL
    // (host-database.ts #eraseWal); a node's replica is a file on the node's disk as well.
    const leftovers: string[] = [];
    for (const node of ['n1', 'n2', 'n3']) {
      const dir = join(dataDir, node, 'replica');
      if (!existsSync(dir)) continue;
      for (const file of readdirSync(dir)) {
        const bytes = readFileSync(join(dir, file));
        if (bytes.includes(Buffer.from(secret))) leftovers.push(`${node}/replica/${file}`);
      }
    }
    expect(leftovers).toEqual([]);
  });
});
