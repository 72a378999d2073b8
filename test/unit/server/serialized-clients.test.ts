import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SecureChannel } from '../../../src-main/protocol/secure-channel.ts';
import { encodeMessage } from '../../../src-main/protocol/wire/codec.ts';
import { WIRE_VERSION } from '../../../src-main/protocol/wire/constants.ts';
import { loadHostSchemas } from '../../../src-main/protocol/wire/host-schemas-loader.ts';
import { ClientErrorBoundary } from '../../../src-main/server/client-error-boundary.ts';
import { ConnectedClients } from '../../../src-main/server/connected-clients.ts';
import { HelloHandler } from '../../../src-main/server/hello-handler.ts';
import { HostDatabase } from '../../../src-main/server/host-database.ts';
import { DEFAULT_LIMITS } from '../../../src-main/server/host-limits.ts';
import { IdleSweep } from '../../../src-main/server/idle-sweep.ts';
import { KeyBudgets } from '../../../src-main/server/key-budgets.ts';
import { NicknameRegistry } from '../../../src-main/server/nickname-registry.ts';
import { RequestHandler } from '../../../src-main/server/request-handler.ts';
import { RoomRegistry } from '../../../src-main/server/room-registry.ts';
import { collect, connectTestClient, startTestHost } from '../../support/loopback.ts';

// The serialization seam of the host's connection handling (#19): a cluster node runs database
// work only inside a turn holding the cluster's write lock, so the hello, the welcome and each
// channel's messages and close run through the `serialize` given. Real channels over loopback
// TCP, a real HostDatabase; the serialize here queues, and the test runs the queue.

beforeAll(() => loadHostSchemas());

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

async function until(what: () => boolean): Promise<void> {
  const start = Date.now();
  while (!what()) {
    if (Date.now() - start > 5000) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function setup() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-serialized-'));
  const db = HostDatabase.open(path.join(dir, 'host.db'), { historyLimit: 10 });
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  cleanups.push(() => db.close());
  const works: (() => void)[] = [];
  const serialize = (work: () => void) => void works.push(work);
  const run = () => {
    for (const work of works.splice(0)) work();
  };
  const log = () => {};
  const now = () => Date.now();
  const boundary = new ClientErrorBoundary(log);
  const nicknames = new NicknameRegistry(db, { onStoreError: log, onCallbackError: log });
  const handler = new RequestHandler({
    rooms: new RoomRegistry(),
    db,
    nicknames,
    limits: DEFAULT_LIMITS,
    log,
    now,
    onClientFailure: boundary.clientFailed,
  });
  cleanups.push(() => handler.flush());
  const clients = new ConnectedClients({
    limits: DEFAULT_LIMITS,
    log,
    now,
    budgets: new KeyBudgets(DEFAULT_LIMITS),
    handler,
    idle: new IdleSweep({ limits: DEFAULT_LIMITS, now, onClientFailure: boundary.clientFailed }),
    boundary,
    serialize,
  });
  const hello = new HelloHandler({
    nicknames,
    stopping: () => false,
    welcome: (channel, nick, device) => clients.welcome(channel, nick, device),
    onFailure: boundary.admitFailed,
    serialize,
  });
  const host = await startTestHost();
  cleanups.push(() => host.close());
  const accepted = host.nextChannel();
  const client = await connectTestClient(host.port, {
    hello: encodeMessage({ v: WIRE_VERSION, nick: 'alice', software: 'test' }),
  });
  cleanups.push(() => client.close('bye', 'done'));
  const channel: SecureChannel = await accepted;
  return { db, works, run, clients, hello, channel, client: collect(client), peer: client };
}

describe('the serialization seam', () => {
  it('runs the hello, the welcome, a request and a close only through serialize', async () => {
    const h = await setup();
    h.hello.greet(h.channel);
    expect(h.works).toHaveLength(1);
    expect(h.db.nickOwner('alice')).toBeUndefined(); // not even read yet
    h.run(); // the hello: a new name is claimed with the turn's commit
    await turn();
    expect(h.db.nickOwner('alice')).toBeDefined();
    expect(h.works).toHaveLength(1); // the welcome waits for its turn
    expect(h.clients.size).toBe(0);
    h.run();
    expect(h.clients.size).toBe(1);
    await h.client.waitFor(2); // welcome, rooms
    expect(h.client.messages.map((m) => (JSON.parse(m) as { t: string }).t)).toEqual([
      'welcome',
      'rooms',
    ]);

    h.peer.send(encodeMessage({ t: 'ping', n: 7 }));
    await until(() => h.works.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(h.client.messages).toHaveLength(2); // no pong before the turn
    h.run();
    const [, , pong] = await h.client.waitFor(3);
    expect(pong && (JSON.parse(pong) as unknown)).toEqual({ t: 'pong', n: 7 });

    h.peer.close('bye', 'leaving');
    await until(() => h.works.length === 1);
    expect(h.clients.size).toBe(1); // still served until its close runs
    h.run();
    expect(h.clients.size).toBe(0);
  });
});
