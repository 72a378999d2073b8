import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type HostOptions, type RunningHost, startHost } from '../../../src-main/server/host.ts';
import { type WireClient, connectWireClient } from '../../support/wire-client.ts';
import { encoder } from '../../support/loopback.ts';
import { cleanupsAfterEach } from '../../support/lifecycle.ts';

const cleanups = cleanupsAfterEach();

async function host(options: Partial<HostOptions> = {}): Promise<RunningHost> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'parley-host-'));
  const h = await startHost({
    host: '127.0.0.1',
    port: 0,
    rooms: ['lobby', 'dev'],
    ...options,
    dataDir,
  });
  cleanups.push(async () => {
    await h.stop();
    if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
  });
  return h;
}

async function client(
  h: RunningHost,
  nick: string,
  options: Parameters<typeof connectWireClient>[3] = {},
) {
  const c = await connectWireClient(h.address.port, h.publicKey, nick, options);
  cleanups.push(() => c.close());
  await c.waitFor('welcome');
  // Rooms are private: each client becomes a member the way people do, with the invite the
  // host made at its first start.
  for (const invite of h.startInvites.filter((i) => i.role === 'member')) {
    expect(await c.redeem(invite.link)).toMatchObject({ t: 'redeemed', room: invite.room });
  }
  return c;
}

async function joined(c: WireClient, room = 'lobby') {
  c.send({ t: 'join', room });
  await c.waitFor('synced', (m) => m.room === room);
}

let ids = 0;
const newId = () => `test-msg-${String(++ids).padStart(6, '0')}`;

describe('the host', () => {
  it('tells clients its open rooms and limits in the handshake, and welcomes them', async () => {
    const h = await host({ name: 'Test host', openRooms: true });
    const alice = await client(h, 'alice');
    expect(alice.hostInfo).toMatchObject({ name: 'Test host', rooms: ['dev', 'lobby'] });
    expect(alice.of('welcome')[0]).toMatchObject({ nick: 'alice' });
  });

  it('relays messages in a room: others get them in order, the sender gets acks with ids', async () => {
    const h = await host();
    const [alice, bob, carol] = [
      await client(h, 'alice'),
      await client(h, 'bob'),
      await client(h, 'carol'),
    ];
    for (const c of [alice, bob, carol]) await joined(c);
    const sent = Array.from({ length: 20 }, (_, i) => ({ id: newId(), text: `hello ${i}` }));
    for (const m of sent) alice.send({ t: 'send', room: 'lobby', ...m });
    const lastId = sent.at(-1)!.id;
    await alice.waitFor('ack', (a) => a.id === lastId);
    for (const c of [bob, carol]) {
      await c.waitFor('msg', (m) => m.id === lastId);
      expect(
        c
          .of('msg')
          .filter((m) => !m.history)
          .map((m) => m.text),
      ).toEqual(sent.map((m) => m.text));
    }
    expect(alice.of('msg')).toEqual([]); // no echo to the sender
    const acks = alice.of('ack');
    expect(acks.map((a) => a.id)).toEqual(sent.map((m) => m.id));
    expect(acks.map((a) => a.seq)).toEqual([...acks.map((a) => a.seq)].sort((a, b) => a - b));
    const msg = bob.of('msg')[0]!;
    expect(msg).toMatchObject({ from: 'alice', key: alice.keyText });
    // Wire v5: the sender is named by its key alone; the fingerprint is the client's to derive.
    expect(msg).not.toHaveProperty('fp');
  });

  it('sends presence, members and typing, and keeps rooms apart', async () => {
    const h = await host();
    const alice = await client(h, 'alice');
    await joined(alice);
    const bob = await client(h, 'bob');
    await joined(bob);
    expect(
      bob
        .of('members')
        .flatMap((m) => m.members.map((x) => x.nick))
        .sort(),
    ).toEqual(['alice', 'bob']);
    await alice.waitFor('presence', (p) => p.event === 'joined' && p.nick === 'bob');
    bob.send({ t: 'typing', room: 'lobby' });
    bob.send({ t: 'typing', room: 'lobby' }); // rate-limited: forwarded once
    await alice.waitFor('typing', (t) => t.nick === 'bob');
    const carol = await client(h, 'carol');
    await joined(carol, 'dev');
    bob.send({ t: 'send', room: 'lobby', id: newId(), text: 'lobby only' });
    await alice.waitFor('msg');
    bob.send({ t: 'leave', room: 'lobby' });
    await alice.waitFor('presence', (p) => p.event === 'left' && p.nick === 'bob');
    bob.close();
    expect(carol.of('msg')).toEqual([]);
    expect(alice.of('typing')).toHaveLength(1);
    carol.send({ t: 'join', room: 'lobby' });
    await carol.waitFor('synced', (s) => s.room === 'lobby');
    carol.close(); // a goodbye: the others see carol leave
    await alice.waitFor('presence', (p) => p.event === 'left' && p.nick === 'carol');
    const dave = await client(h, 'dave');
    await joined(dave);
    dave.socket.destroy(); // no goodbye: the others see dave disconnected
    await alice.waitFor('presence', (p) => p.event === 'disconnected' && p.nick === 'dave');
  });

  it("a rename is the key's: every connection of it takes the name, later joiners see it", async () => {
    const h = await host();
    const first = await client(h, 'alice');
    const second = await client(h, 'alice', { keyPair: first.keyPair });
    await joined(first);
    await joined(second);
    first.send({ t: 'nick', nick: 'alicia' });
    await first.waitFor('nick', (n) => n.nick === 'alicia');
    await second.waitFor('nick', (n) => n.nick === 'alicia');
    first.close(); // the key stays in the room through its second connection
    const bob = await client(h, 'bob');
    await joined(bob);
    expect(bob.of('members').flatMap((m) => m.members.map((x) => x.nick))).toContain('alicia');
    expect(bob.of('members').flatMap((m) => m.members.map((x) => x.nick))).not.toContain('alice');
    const id = newId();
    second.send({ t: 'send', room: 'lobby', id, text: 'from the second window' });
    expect(await bob.waitFor('msg', (m) => m.id === id)).toMatchObject({ from: 'alicia' });
  });

  it('that cannot listen (the port is taken) closes the history it opened', async () => {
    const first = await host();
    const dataDir = cleanups.tempDir('parley-host-');
    await expect(
      startHost({ host: '127.0.0.1', port: first.address.port, rooms: ['lobby'], dataDir }),
    ).rejects.toMatchObject({ code: 'EADDRINUSE' });
    const open = readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`).startsWith(dataDir);
      } catch {
        return false; // closed meanwhile
      }
    });
    expect(open).toEqual([]);
  });

  it('sends the recent history on join, and older pages on request', async () => {
    const h = await host({ limits: { historyOnJoin: 5 } });
    const alice = await client(h, 'alice');
    const bob = await client(h, 'bob'); // a member before the messages: its 'joined' event is older
    await joined(alice);
    const ids12 = Array.from({ length: 12 }, () => newId());
    ids12.forEach((id, i) => alice.send({ t: 'send', room: 'lobby', id, text: `m${i}` }));
    await alice.waitFor('ack', (a) => a.id === ids12.at(-1));
    await joined(bob);
    const history = bob.of('msg');
    expect(history.map((m) => m.text)).toEqual(['m7', 'm8', 'm9', 'm10', 'm11']);
    expect(history.every((m) => m.history)).toBe(true);
    bob.send({ t: 'history', room: 'lobby', before: history[0]!.seq, limit: 4 });
    expect(await bob.waitFor('history-end')).toMatchObject({ more: true });
    expect(
      bob
        .of('msg')
        .slice(5)
        .map((m) => m.text),
    ).toEqual(['m3', 'm4', 'm5', 'm6']);
  });

  it('delivers a resent message id once and acks it as a duplicate', async () => {
    const h = await host();
    const alice = await client(h, 'alice');
    const bob = await client(h, 'bob');
    await joined(alice);
    await joined(bob);
    const id = newId();
    alice.send({ t: 'send', room: 'lobby', id, text: 'once' });
    const first = await alice.waitFor('ack', (a) => a.id === id);
    alice.send({ t: 'send', room: 'lobby', id, text: 'once' });
    const second = await alice.waitFor('ack', (a) => a.id === id && a.duplicate === true);
    expect(second.seq).toBe(first.seq);
    const marker = newId();
    alice.send({ t: 'send', room: 'lobby', id: marker, text: 'after' });
    await bob.waitFor('msg', (m) => m.id === marker);
    expect(bob.of('msg').filter((m) => m.id === id)).toHaveLength(1);
  });

  it('binds a nickname to the first key; another key is refused; a key may rename', async () => {
    const h = await host();
    const alice = await client(h, 'alice');
    await joined(alice);
    const impostor = await connectWireClient(h.address.port, h.publicKey, 'Alice');
    const closed = await impostor.closed;
    expect(closed).toMatchObject({ by: 'peer', code: 'nick-taken' });
    expect(closed.reason).toContain('belongs to another key');
    alice.send({ t: 'nick', nick: 'alicia' });
    expect(await alice.waitFor('nick')).toEqual({ t: 'nick', nick: 'alicia' });
    const bob = await client(h, 'bob');
    bob.send({ t: 'nick', nick: 'alice' }); // still alice's: a key keeps its old names
    expect(await bob.waitFor('error')).toMatchObject({ code: 'nick-taken' });
    // The same key comes back under its new name on another connection.
    const again = await client(h, 'alicia', { keyPair: alice.keyPair });
    expect(again.of('welcome')[0]?.nick).toBe('alicia');
  });

  it('refuses an oversized message with an error, and the connection stays usable', async () => {
    const h = await host({ limits: { maxTextBytes: 100 } });
    const alice = await client(h, 'alice');
    await joined(alice);
    const big = newId();
    alice.send({ t: 'send', room: 'lobby', id: big, text: 'é'.repeat(51) }); // 102 bytes
    expect(await alice.waitFor('error', (e) => e.ref === big)).toMatchObject({
      code: 'text-too-long',
    });
    const fine = newId();
    alice.send({ t: 'send', room: 'lobby', id: fine, text: 'short' });
    await alice.waitFor('ack', (a) => a.id === fine);
  });

  it('rate-limits a fast sender, then disconnects a flood; others keep chatting', async () => {
    const h = await host({ limits: { messagesPerSecond: 5, messageBurst: 5, floodStrikes: 20 } });
    const flooder = await client(h, 'flooder');
    const bob = await client(h, 'bob');
    const carol = await client(h, 'carol');
    for (const c of [flooder, bob, carol]) await joined(c);
    const ids = Array.from({ length: 10 }, () => newId());
    for (const id of ids) flooder.send({ t: 'send', room: 'lobby', id, text: 'spam' });
    const limited = await flooder.waitFor('error', (e) => e.code === 'rate-limited');
    expect(limited.retryAfterMs).toBeGreaterThan(0);
    // Refusals go out at once, acks after the commit: wait for the burst's last ack.
    await flooder.waitFor('ack', (a) => a.id === ids[4]);
    expect(flooder.of('ack').map((a) => a.id)).toEqual(ids.slice(0, 5));
    for (let i = 0; i < 30; i++)
      flooder.send({ t: 'send', room: 'lobby', id: newId(), text: 'spam' });
    expect(await flooder.closed).toMatchObject({ code: 'flooding' });
    const id = newId();
    bob.send({ t: 'send', room: 'lobby', id, text: 'still here' });
    await carol.waitFor('msg', (m) => m.id === id);
  });

  it('closes a connection that sends garbage with a reason, without disturbing others', async () => {
    const h = await host();
    const alice = await client(h, 'alice');
    const bob = await client(h, 'bob');
    await joined(bob);
    alice.sendRaw(encoder.encode('{"t":"send","room":"lobby"'));
    expect(await alice.closed).toMatchObject({ by: 'peer', code: 'protocol-error' });
    bob.send({ t: 'send', room: 'lobby', id: newId(), text: 'fine' });
    await bob.waitFor('ack');
  });

  it('drops a slow reader with a reason while the room keeps flowing', async () => {
    const events: [string, object][] = [];
    const h = await host({
      log: (_level, event, fields = {}) => void events.push([event, fields]),
      limits: {
        maxQueueBytes: 64 * 1024,
        ...{ messagesPerSecond: 1e6, messageBurst: 1e6, requestsPerSecond: 1e6, requestBurst: 1e6 },
      },
    });
    const alice = await client(h, 'alice');
    const bob = await client(h, 'bob');
    const slow = await client(h, 'slow');
    for (const c of [alice, bob, slow]) await joined(c);
    // Stop reading at the socket: the kernel buffers fill, then the host's queue does.
    slow.socket.pause();
    // Each turn's burst (40 KB) fits the bound; only the reader that stopped falls behind.
    const text = 'x'.repeat(2000);
    let last = '';
    for (let round = 0; round < 1000 && h.clientCount === 3; round++) {
      for (let i = 0; i < 20; i++)
        alice.send({ t: 'send', room: 'lobby', id: (last = newId()), text });
      await bob.waitFor('msg', (m) => m.id === last, 10_000);
    }
    expect(events).toContainEqual([
      'client-left',
      expect.objectContaining({ nick: 'slow', code: 'slow-reader' }),
    ]);
    expect(h.clientCount).toBe(2);
    const id = newId();
    alice.send({ t: 'send', room: 'lobby', id, text: 'after the slow one left' });
    await bob.waitFor('msg', (m) => m.id === id);
  }, 60_000);

  it('pings a quiet client and hangs up on a silent one', async () => {
    const h = await host({ limits: { pingAfterMs: 100, idleTimeoutMs: 400 } });
    const alice = await client(h, 'alice');
    alice.channel.removeAllListeners('message'); // receives the ping but never answers
    const closed = await alice.closed;
    expect(closed).toMatchObject({ by: 'peer', code: 'idle-timeout' });
  });

  it('refuses connections beyond the per-address limit with a clear line', async () => {
    const h = await host({ limits: { maxClientsPerIp: 2 } });
    await client(h, 'a1');
    await client(h, 'a2');
    const error = await connectWireClient(h.address.port, h.publicKey, 'a3').catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'host-refused', hostCode: 'busy' });
  });

  it('tells clients when it shuts down, after acknowledging what it received', async () => {
    const h = await host();
    const alice = await client(h, 'alice');
    await joined(alice);
    const id = newId();
    alice.send({ t: 'send', room: 'lobby', id, text: 'last words' });
    await alice.waitFor('ack', (a) => a.id === id);
    await h.stop();
    expect(await alice.closed).toMatchObject({ by: 'peer', code: 'shutdown' });
  });
});
