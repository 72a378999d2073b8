// The two services a cluster node stands on (#19), as the cluster tests start them: a real
// nats-server and a real PostgreSQL. These prove the harness does what those tests rely on —
// messages flow, a restart keeps the address and clients find it again, a stopped database fails
// queries and comes back with its data — before a cluster failure is ever blamed on the host.
import { readFileSync } from 'node:fs';
import { connect, type NatsConnection, StringCodec, type Subscription } from 'nats';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type NatsServer, startNatsServer } from '../../support/nats-server.ts';
import { type PostgresServer, startPostgres } from '../../support/postgres-server.ts';

const sc = StringCodec();

/** The next message on `sub`, or a rejection naming what was awaited. */
async function next(sub: Subscription, what: string, timeoutMs = 5000): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const iterator = sub[Symbol.asyncIterator]();
    const result = await Promise.race([iterator.next(), timeout]);
    if (result.done) throw new Error(`subscription closed before ${what}`);
    return sc.decode(result.value.data);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves on the connection's next status event of `type` (e.g. 'reconnect'). */
async function status(nc: NatsConnection, type: string, timeoutMs = 10_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no NATS ${type} within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  const seen = (async () => {
    for await (const event of nc.status()) if (event.type === type) return;
  })();
  try {
    await Promise.race([seen, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe('nats-server', () => {
  let nats: NatsServer;
  const clients: NatsConnection[] = [];
  const open = async (name: string) => {
    const nc = await connect({
      servers: nats.url,
      name,
      // As a cluster node will: keep trying while the server is away, briefly apart.
      maxReconnectAttempts: -1,
      reconnectTimeWait: 100,
    });
    clients.push(nc);
    return nc;
  };

  beforeAll(async () => {
    nats = await startNatsServer();
  });
  afterAll(async () => {
    await Promise.all(clients.map((nc) => nc.close()));
    await nats?.stop();
  });

  it('carries a published message to a subscriber', async () => {
    expect(nats.url).toBe(`nats://127.0.0.1:${nats.port}`);
    const subscriber = await open('subscriber');
    const publisher = await open('publisher');
    const sub = subscriber.subscribe('parley.test');
    await subscriber.flush();
    publisher.publish('parley.test', sc.encode('hello'));
    expect(await next(sub, 'first message')).toBe('hello');
    sub.unsubscribe();
  });

  it('restarts on the same port; a client reconnects and gets what is published after', async () => {
    const subscriber = await open('survivor');
    const sub = subscriber.subscribe('parley.after');
    await subscriber.flush();
    const reconnected = status(subscriber, 'reconnect');
    await nats.restart();
    await reconnected;
    // The PONG comes after the re-sent SUB: the server knows the subscription again.
    await subscriber.flush();
    const publisher = await open('late publisher');
    expect(publisher.getServer()).toBe(`127.0.0.1:${nats.port}`);
    publisher.publish('parley.after', sc.encode('after restart'));
    expect(await next(sub, 'message after the restart')).toBe('after restart');
  });

  it('comes back after a kill (a crash), on the same port', async () => {
    const subscriber = await open('crash survivor');
    const sub = subscriber.subscribe('parley.crash');
    await subscriber.flush();
    const reconnected = status(subscriber, 'reconnect');
    await nats.kill();
    await nats.restart();
    await reconnected;
    await subscriber.flush();
    subscriber.publish('parley.crash', sc.encode('after crash'));
    expect(await next(sub, 'message after the crash')).toBe('after crash');
  });
});

describe('postgres', () => {
  let postgres: PostgresServer;
  const clients: pg.Client[] = [];
  const open = async () => {
    const client = new pg.Client({ connectionString: postgres.url });
    // The server going away under an idle client is an 'error' event; the test looks at queries.
    client.on('error', () => undefined);
    clients.push(client);
    await client.connect();
    return client;
  };

  beforeAll(async () => {
    postgres = await startPostgres();
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.end().catch(() => undefined)));
    await postgres?.remove();
  });

  it('runs with a password over TCP, fsync on, as an unprivileged user', async () => {
    expect(postgres.url).toMatch(
      new RegExp(`^postgres://parley_test:[^@]+@127\\.0\\.0\\.1:${postgres.port}/parley$`),
    );
    const client = await open();
    const settings = await client.query<{ name: string; setting: string }>(
      "SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'listen_addresses', 'password_encryption')",
    );
    expect(Object.fromEntries(settings.rows.map((row) => [row.name, row.setting]))).toEqual({
      fsync: 'on',
      synchronous_commit: 'on',
      listen_addresses: '127.0.0.1',
      password_encryption: 'scram-sha-256',
    });
    const wrong = new pg.Client({
      connectionString: postgres.url.replace(/:[^:@/]+@/, ':wrong@'),
    });
    await expect(wrong.connect()).rejects.toThrow(/password authentication failed/);
    // PostgreSQL refuses root; as root (CI) the harness runs it as Debian's `postgres` user.
    const backend = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${backend.rows[0]?.pid}/status`, 'utf8'));
    expect(Number(uid?.[1])).not.toBe(0);
  });

  it('keeps rows; a stopped server fails queries; started again, it has them', async () => {
    const client = await open();
    await client.query('CREATE TABLE entries (pos bigint PRIMARY KEY, body text NOT NULL)');
    await client.query('INSERT INTO entries VALUES ($1, $2), ($3, $4)', [1, 'one', 2, 'two']);
    const rows = await client.query<{ body: string }>('SELECT body FROM entries ORDER BY pos');
    expect(rows.rows.map((row) => row.body)).toEqual(['one', 'two']);

    await postgres.stop();
    // The old session was ended by the shutdown; a new one finds nobody listening.
    await expect(client.query('SELECT 1')).rejects.toThrow();
    await expect(open()).rejects.toMatchObject({ code: 'ECONNREFUSED' });

    await postgres.start();
    const again = await open();
    const after = await again.query<{ body: string }>('SELECT body FROM entries ORDER BY pos');
    expect(after.rows.map((row) => row.body)).toEqual(['one', 'two']);
  });

  it('recovers committed rows after a kill (a crash)', async () => {
    const client = await open();
    await client.query('INSERT INTO entries VALUES (3, $1)', ['three']);
    await postgres.kill();
    await expect(client.query('SELECT 1')).rejects.toThrow();
    await postgres.start();
    const again = await open();
    const after = await again.query<{ n: string }>('SELECT count(*) AS n FROM entries');
    expect(after.rows[0]?.n).toBe('3');
  });
});
