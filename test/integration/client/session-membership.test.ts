import { describe, expect, it } from 'vitest';
import { type ChatSessionOptions } from '../../../src-main/client/chat-session.ts';
import type { RoomEvent } from '../../../src-main/protocol/wire/messages.ts';
import {
  type HostileHost,
  type HostileHostOptions,
  fakeMember,
  fakeMessage,
  startHostileHost,
} from '../../support/hostile-host.ts';
import { cleanupsAfterEach, sleep } from '../../support/lifecycle.ts';
import { recordedSession } from '../../support/recorded-session.ts';

// The client core's side of private rooms against a scripted host: what it sends, what it
// does with each membership message, and what it ignores or takes for misbehaviour.

const cleanups = cleanupsAfterEach();
const TOKEN = 'tok_en-0123456789abcdefg';
const bob = fakeMember(2);

async function hostile(options: HostileHostOptions = {}): Promise<HostileHost> {
  const h = await startHostileHost(options);
  cleanups.push(() => h.close());
  return h;
}

async function started(h: HostileHost, options: Partial<ChatSessionOptions> = {}) {
  const alice = await recordedSession(
    cleanups,
    { address: h.address, hostKey: h.publicKey },
    options,
  );
  alice.s.start();
  const connection = await h.nextConnection();
  return { ...alice, connection };
}

function event(seq: number, extra: Partial<RoomEvent> = {}): RoomEvent {
  return {
    t: 'event',
    room: 'lobby',
    seq,
    ts: 1_700_000_000_000,
    action: 'joined',
    actor: bob,
    ...extra,
  };
}

describe('ChatSession membership against a scripted host', () => {
  it('redeems the invite token before its joins, once, and forgets it', async () => {
    const h = await hostile();
    const alice = await started(h, { inviteToken: TOKEN });
    const redeem = await alice.connection.waitFor('redeem');
    const order = alice.connection.received.map((m) => m.t).filter((t) => t !== 'ping');
    expect(order.indexOf('redeem')).toBeLessThan(order.indexOf('join'));
    expect(redeem.token).toBe(TOKEN);
    alice.connection.send({ t: 'redeemed', rid: redeem.rid, room: 'lobby', role: 'member' });
    await alice.wait(() => alice.of('redeemed').length === 1, 'redeemed');
    // The next connection does not send it again.
    alice.connection.close('shutdown', 'bye');
    const again = await h.nextConnection();
    await again.waitFor('join');
    expect(again.received.some((m) => m.t === 'redeem')).toBe(false);
    for (const name of ['error', 'state', 'welcome'] as const) {
      expect(JSON.stringify(alice.of(name))).not.toContain(TOKEN);
    }
  });

  it('retries a rate-limited redeem after the wait, and reports a refusal once', async () => {
    const h = await hostile();
    const alice = await started(h, { inviteToken: TOKEN });
    const first = await alice.connection.waitFor('redeem');
    alice.connection.send({
      t: 'error',
      code: 'rate-limited',
      message: 'slow down',
      rid: first.rid,
      retryAfterMs: 50,
    });
    const second = await alice.connection.waitFor('redeem', (m) => m.rid !== first.rid);
    alice.connection.send({
      t: 'error',
      code: 'invite-expired',
      message: 'expired',
      rid: second.rid,
      ref: 'lobby',
    });
    await alice.wait(() => alice.of('inviteRefused').length === 1, 'the refusal');
    expect(alice.of('inviteRefused')[0]).toEqual({
      code: 'invite-expired',
      message: 'expired',
      room: 'lobby',
    });
    // Answered errors of a request are not also reported as session errors.
    expect(alice.of('error')).toEqual([]);
    alice.connection.close('shutdown', 'bye');
    const again = await h.nextConnection();
    await again.waitFor('join');
    expect(again.received.some((m) => m.t === 'redeem')).toBe(false);
  });

  it('joins the rooms where it has a role, by itself, but not one the caller left', async () => {
    const h = await hostile({
      roomList: [
        { room: 'lobby', kind: 'room', open: true },
        { room: 'team', kind: 'room', role: 'admin', open: false },
        { room: 'public', kind: 'room', open: true },
      ],
    });
    const alice = await started(h);
    await alice.wait(() => alice.of('synced').length === 2, 'lobby and team synced');
    expect(alice.s.rooms.sort()).toEqual(['lobby', 'team']);
    expect(alice.of('roomList')[0]?.rooms.map((r) => r.room)).toEqual(['lobby', 'team', 'public']);
    alice.s.leave('team');
    alice.connection.send({
      t: 'room',
      info: { room: 'new', kind: 'dm', role: 'member', open: false, peer: bob },
    });
    await alice.wait(() => alice.of('synced').some((e) => e.room === 'new'), 'the new room');
    alice.connection.close('shutdown', 'bye');
    const again = await h.nextConnection();
    await again.waitFor('join', (m) => m.room === 'lobby');
    await sleep(50);
    expect(again.received.filter((m) => m.t === 'join').map((m) => m.room)).not.toContain('team');
  });

  it('counts room events in the seq: a rejoin pages back over them and shows all in order', async () => {
    let joins = 0;
    const h = await hostile({
      onJoin: (connection, room) => {
        connection.send({ t: 'joined', room });
        connection.send({ t: 'members', room, members: [], last: true });
        if (++joins === 1) connection.send(fakeMessage(room, 1, { history: true }));
        else {
          connection.send(event(5, { history: true, action: 'topic', topic: 'new' }));
          connection.send(fakeMessage(room, 6, { history: true }));
        }
        connection.send({ t: 'synced', room });
      },
      onHistory: (connection, request) => {
        if (request.before === 5) {
          connection.send(fakeMessage(request.room, 1, { history: true }));
          connection.send(event(2, { history: true }));
          connection.send(fakeMessage(request.room, 3, { history: true }));
          connection.send(event(4, { history: true, action: 'left' }));
        }
        connection.send({ t: 'history-end', room: request.room, more: false });
      },
    });
    const alice = await started(h);
    await alice.wait(() => alice.of('synced').length === 1, 'the first sync');
    alice.connection.close('shutdown', 'bye');
    await alice.wait(() => alice.of('synced').length === 2, 'the second sync');
    const timeline = [...alice.of('message'), ...alice.of('roomEvent')]
      .map((item) => item.seq)
      .sort((a, b) => a - b);
    expect(timeline).toEqual([1, 2, 3, 4, 5, 6]);
    expect(alice.of('roomEvent').map((e) => e.action)).toEqual(['joined', 'left', 'topic']);
  });

  it('updates the member list on a live event, not on one from history', async () => {
    const h = await hostile();
    const alice = await started(h);
    await alice.wait(() => alice.of('synced').length === 1, 'synced');
    alice.connection.send(event(7, { history: true }));
    alice.connection.send(event(8, { action: 'topic', topic: 'x' }));
    await alice.wait(() => alice.of('roomEvent').length === 2, 'both events');
    expect(alice.s.members('lobby').some((m) => m.key === bob.key)).toBe(false);
    alice.connection.send(event(9, { role: 'member' }));
    await alice.wait(() => alice.s.members('lobby').some((m) => m.key === bob.key), 'bob listed');
    expect(alice.s.members('lobby').find((m) => m.key === bob.key)).toMatchObject({
      role: 'member',
      online: false,
    });
  });

  it('ignores membership items about rooms and requests it does not know', async () => {
    const h = await hostile();
    const alice = await started(h);
    await alice.wait(() => alice.of('synced').length === 1, 'synced');
    alice.connection.send({ t: 'removed', room: 'elsewhere', reason: 'removed' });
    alice.connection.send({ ...event(3), room: 'elsewhere' });
    alice.connection.send({ t: 'done', rid: 4242 });
    alice.connection.send({ t: 'redeemed', rid: 4243, room: 'lobby', role: 'owner' });
    alice.connection.send({ t: 'error', code: 'forbidden', message: 'no', rid: 4244 });
    // Still connected and working: a line sent after them reaches the host.
    alice.s.send('lobby', 'still fine');
    await alice.connection.waitFor('send');
    await sleep(50);
    expect(alice.of('removed')).toEqual([]);
    expect(alice.of('roomEvent')).toEqual([]);
    expect(alice.of('redeemed')).toEqual([]);
    expect(alice.of('error')).toEqual([]);
    expect(alice.s.state).toBe('connected');
  });

  it('drops a room it was removed from, with its unsent lines, and says who removed it', async () => {
    const h = await hostile({
      roomList: [{ room: 'lobby', kind: 'room', role: 'member', open: false }],
    });
    const alice = await started(h);
    await alice.wait(() => alice.of('synced').length === 1, 'synced');
    alice.connection.close('shutdown', 'bye'); // offline: the line waits in the outbox
    // The recorded event, not the state now: the reconnect's 50 ms can pass between two polls on
    // a loaded machine (the line, not acknowledged either way, is still the removal's unsent).
    await alice.wait(() => alice.of('state').some((c) => c.state === 'reconnecting'), 'offline');
    const id = alice.s.send('lobby', 'unsent');
    const again = await h.nextConnection();
    again.send({ t: 'removed', room: 'lobby', reason: 'banned', by: bob });
    await alice.wait(() => alice.of('removed').length === 1, 'the removal');
    expect(alice.of('removed')[0]).toMatchObject({
      room: 'lobby',
      reason: 'banned',
      by: { nick: bob.nick, key: bob.key },
      unsent: [{ id, text: 'unsent' }],
    });
    expect(alice.s.pending).toEqual([]);
    expect(alice.s.rooms).toEqual([]);
    expect(alice.s.roomList).toEqual([]);
  });

  it('takes the wrong answer to a request, or none in time, for misbehaviour', async () => {
    const h = await hostile();
    const alice = await started(h, { requestTimeoutMs: 300 });
    await alice.wait(() => alice.of('synced').length === 1, 'synced');
    const creating = alice.s.createRoom('new').catch((e: unknown) => e);
    const request = await alice.connection.waitFor('create');
    alice.connection.send({ t: 'done', rid: request.rid });
    expect(await creating).toMatchObject({ code: 'disconnected' });
    await alice.wait(
      () => alice.of('error').some((e) => e.code === 'protocol-error'),
      'the protocol error',
    );
    expect(alice.of('error')[0]?.message).toMatch(/answered a "create" request with a "done"/);

    const again = await h.nextConnection();
    await alice.wait(() => alice.s.state === 'connected', 'reconnected');
    const silent = alice.s.setTopic('lobby', 'hello').catch((e: unknown) => e);
    await again.waitFor('topic');
    expect(await silent).toMatchObject({ code: 'disconnected' });
    expect(alice.of('error').some((e) => e.code === 'host-timeout')).toBe(true);
  });

  it('takes a join refused for good (too many rooms) as an answer, not as a host gone quiet', async () => {
    const h = await hostile({
      onJoin: (connection, room) =>
        connection.send({
          t: 'error',
          code: 'too-many-rooms',
          message: 'you are a member of 500 rooms, as many as this host allows',
          ref: room,
        }),
    });
    const alice = await started(h, { requestTimeoutMs: 300 });
    await alice.connection.waitFor('join');
    await alice.wait(
      () => alice.of('error').some((e) => e.code === 'too-many-rooms'),
      'the refusal',
    );
    await sleep(700);
    // No deadline ran out: no host-timeout, no reconnection that would ask again.
    expect(alice.of('error').map((e) => e.code)).not.toContain('host-timeout');
    expect(alice.connection.received.filter((m) => m.t === 'join')).toHaveLength(1);
    expect(alice.s.state).toBe('connected');
  });

  it('refuses a request while offline, and arguments no host would take', async () => {
    const h = await hostile({ welcome: false });
    const alice = await started(h);
    await expect(alice.s.part('lobby')).rejects.toMatchObject({ code: 'offline' });
    await expect(alice.s.setRole('lobby', 'not a key', 'admin')).rejects.toMatchObject({
      code: 'invalid-request',
    });
    expect(alice.connection.received.filter((m) => m.t !== 'ping')).toEqual([]);
    await expect(
      recordedSession(
        cleanups,
        { address: h.address, hostKey: h.publicKey },
        { inviteToken: 'short' },
      ),
    ).rejects.toMatchObject({ code: 'invalid-request' });
  });
});
