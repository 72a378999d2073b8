import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encodeBase64Url } from '../../../src-shared/base64url.ts';
import { encodeMessage } from '../../../src-main/protocol/wire/codec.ts';
import { loadHostSchemas } from '../../../src-main/protocol/wire/host-schemas-loader.ts';
import type { ClientMessage } from '../../../src-main/protocol/wire/messages.ts';
import { ConnectedClient } from '../../../src-main/server/connected-client.ts';
import { HostDatabase } from '../../../src-main/server/host-database.ts';
import { DEFAULT_LIMITS } from '../../../src-main/server/host-limits.ts';
import { KeyBudgets } from '../../../src-main/server/key-budgets.ts';
import type { HostMlsChecks } from '../../../src-main/server/mls-gate.ts';
import { NicknameRegistry } from '../../../src-main/server/nickname-registry.ts';
import { RequestHandler } from '../../../src-main/server/request-handler.ts';
import { RoomRegistry } from '../../../src-main/server/room-registry.ts';
import { RecordingChannel } from '../../support/recording-channel.ts';

// A host loads its schemas with its first connection (serve-after-schemas.ts); here there is none.
beforeAll(() => loadHostSchemas());

// The MLS library is loaded on the first request that needs it, never for plaintext traffic;
// until it is there, the connection's requests wait in order, and a failed load is answered
// `internal` and tried again. The loader is the test's, so the timing is in its hand.

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

const FAKE_CHECKS: HostMlsChecks = {
  inspect: () => undefined,
  checkKeyPackage: () => Promise.resolve({ ok: true }),
};

function setup(load: () => Promise<HostMlsChecks>) {
  const dir = mkdtempSync(join(tmpdir(), 'parley-handler-mls-'));
  const db = HostDatabase.open(join(dir, 'history.sqlite'), { busyTimeoutMs: 0 });
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanups.push(() => db.close());
  const t = 1_700_000_000_000;
  const key = new Uint8Array(32).fill(7);
  db.rooms.createRoom({ name: 'plain', kind: 'room', open: false }, [], undefined, t);
  db.rooms.createRoom({ name: 'den', kind: 'room', open: false, e2ee: true }, [], undefined, t);
  for (const room of ['plain', 'den'])
    db.rooms.addMember(room, { key, nick: 'alice' }, 'member', t);
  db.claimNick('alice', key);
  let loads = 0;
  const handler = new RequestHandler({
    rooms: new RoomRegistry(),
    db,
    nicknames: new NicknameRegistry(db, { onStoreError: () => {}, onCallbackError: () => {} }),
    limits: DEFAULT_LIMITS,
    log: () => {},
    now: () => t,
    onClientFailure: (_client, error) => {
      throw error;
    },
    mlsChecks: () => {
      loads++;
      return load();
    },
  });
  cleanups.push(() => handler.flush());
  const channel = new RecordingChannel(key);
  const client = new ConnectedClient(
    channel,
    'alice',
    DEFAULT_LIMITS,
    t,
    new KeyBudgets(DEFAULT_LIMITS).for(encodeBase64Url(key), t),
  );
  client.device = 'd'.repeat(43);
  handler.connected(client);
  const request = (message: ClientMessage) => handler.handle(client, encodeMessage(message));
  return { channel, request, loads: () => loads };
}

describe('RequestHandler: the MLS library on first use', () => {
  it('plaintext rooms never load it', async () => {
    const h = setup(() => Promise.resolve(FAKE_CHECKS));
    h.request({ t: 'join', room: 'plain' });
    h.request({ t: 'send', room: 'plain', id: 'plain-msg-1', text: 'hello' });
    h.request({ t: 'join', room: 'den' });
    await turn();
    expect(h.channel.of('ack')).toHaveLength(1);
    expect(h.channel.of('joined').at(-1)).toEqual({ t: 'joined', room: 'den', epoch: 0 });
    expect(h.loads()).toBe(0);
  });

  it('an MLS send never loads it: its epoch is checked, its ciphertext relayed undecoded (v5)', async () => {
    const h = setup(() => Promise.resolve(FAKE_CHECKS));
    h.request({ t: 'join', room: 'den' });
    h.request({ t: 'send', room: 'den', id: 'den-msg-0001', mls: 'AAAAAAAA', epoch: 0 });
    h.request({ t: 'send', room: 'den', id: 'den-msg-0002', mls: 'AAAAAAAA' });
    await turn();
    // The room has no group yet: whatever the message, it is not at the room's epoch.
    expect(h.channel.of('error')).toMatchObject([
      { ref: 'den-msg-0002', code: 'bad-request' },
      { ref: 'den-msg-0001', code: 'stale-epoch', epoch: 0 },
    ]);
    expect(h.loads()).toBe(0);
  });

  it('requests after one that needs it wait for it, and keep their order', async () => {
    let loaded: (checks: HostMlsChecks) => void = () => {};
    const h = setup(() => new Promise((resolve) => (loaded = resolve)));
    h.request({ t: 'kp-claim', rid: 1, room: 'den', have: [] });
    h.request({ t: 'ping', n: 7 });
    h.request({ t: 'commit', rid: 2, room: 'den', commit: 'AAAAAAAA' });
    await turn();
    expect(h.channel.sent).toEqual([]);
    loaded(FAKE_CHECKS);
    await turn();
    expect(h.channel.sent.map((m) => m.t)).toEqual(['kps', 'pong', 'error']);
    expect(h.channel.sent[2]).toMatchObject({ rid: 2, code: 'bad-request' });
    expect(h.loads()).toBe(1);
  });

  it('a failed load is answered internal, after the room check, and tried again', async () => {
    let fail = true;
    const h = setup(() => (fail ? Promise.reject(new Error('no')) : Promise.resolve(FAKE_CHECKS)));
    h.request({ t: 'kp-claim', rid: 1, room: 'den', have: [] });
    h.request({ t: 'kp-claim', rid: 2, room: 'nowhere', have: [] });
    await turn();
    expect(h.channel.sent).toMatchObject([
      { t: 'error', rid: 1, code: 'internal', retryAfterMs: expect.any(Number) },
      { t: 'error', rid: 2, code: 'unknown-room' },
    ]);
    fail = false;
    h.request({ t: 'kp-claim', rid: 3, room: 'den', have: [] });
    await turn();
    expect(h.channel.sent.at(-1)).toMatchObject({ t: 'kps', rid: 3 });
    expect(h.loads()).toBe(2);
  });
});
