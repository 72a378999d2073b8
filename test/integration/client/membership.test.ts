import { describe, expect, it } from 'vitest';
import { parseInvite } from '../../../src-shared/invite.ts';
import type { ChatSessionOptions } from '../../../src-main/client/chat-session.ts';
import { MembershipError } from '../../../src-main/client/membership-requests.ts';
import { encodeBase64Url } from '../../../src-shared/base64url.ts';
import { type HostOptions, type RunningHost, startHost } from '../../../src-main/server/host.ts';
import { cleanupsAfterEach, until } from '../../support/lifecycle.ts';
import { recordedSession } from '../../support/recorded-session.ts';

// ChatSession against a real host: private rooms as a user sees them — invites redeemed,
// members with roles, room events in the timeline, removals, and the host's refusals.

const cleanups = cleanupsAfterEach();

async function host(options: Partial<HostOptions> = {}): Promise<RunningHost> {
  const h = await startHost({
    host: '127.0.0.1',
    port: 0,
    rooms: ['lobby'],
    limits: { messagesPerSecond: 1000, messageBurst: 1000 },
    ...options,
    dataDir: options.dataDir ?? cleanups.tempDir('parley-host-'),
  });
  cleanups.push(() => h.stop());
  return h;
}

function tokenOf(link: string): string {
  const invite = parseInvite(link);
  if (!invite.ok || invite.value.token === undefined) throw new Error(`no token in ${link}`);
  return invite.value.token;
}

/** A session that redeems `link`'s token, started and synced in its room. */
async function member(
  h: RunningHost,
  nick: string,
  link: string,
  options: Partial<ChatSessionOptions> = {},
) {
  const session = await recordedSession(
    cleanups,
    { address: h.address, hostKey: h.publicKey },
    { nick, inviteToken: tokenOf(link), ...options },
  );
  session.s.start();
  await until(() => session.of('synced').some((e) => e.room === 'lobby'), `${nick} synced`);
  return session;
}

describe('ChatSession in private rooms', () => {
  it('redeems its invite token before joining, and lists the room with its role', async () => {
    const h = await host();
    const alice = await member(h, 'alice', h.invite('lobby', { role: 'owner', uses: 1 }));
    expect(alice.of('redeemed')).toEqual([{ room: 'lobby', role: 'owner' }]);
    expect(alice.s.roomInfo('lobby')).toMatchObject({ room: 'lobby', kind: 'room', role: 'owner' });
    expect(
      alice
        .of('roomList')
        .at(-1)
        ?.rooms.map((r) => r.room),
    ).toEqual(['lobby']);
    expect(alice.of('inviteRefused')).toEqual([]);
    const me = alice.s.members('lobby').find((m) => m.nick === 'alice');
    expect(me).toMatchObject({ role: 'owner', online: true });
  });

  it('reports a used-up or expired invite once, and stays connected without the room', async () => {
    const h = await host();
    const once = h.invite('lobby', { uses: 1 });
    await member(h, 'alice', once);
    const bob = await recordedSession(
      cleanups,
      { address: h.address, hostKey: h.publicKey },
      { nick: 'bob', inviteToken: tokenOf(once) },
    );
    bob.s.start();
    await until(() => bob.of('inviteRefused').length > 0, 'the refusal');
    expect(bob.of('inviteRefused')[0]).toMatchObject({ code: 'invite-used-up' });
    await until(() => bob.of('error').some((e) => e.code === 'unknown-room'), 'the join refused');
    expect(bob.s.state).toBe('connected');
    expect(bob.s.rooms).toEqual([]);

    const expired = h.invite('lobby', { expiresInMs: 1 });
    await new Promise((r) => setTimeout(r, 20));
    const carol = await recordedSession(
      cleanups,
      { address: h.address, hostKey: h.publicKey },
      { nick: 'carol', inviteToken: tokenOf(expired) },
    );
    carol.s.start();
    await until(() => carol.of('inviteRefused').length > 0, 'the refusal');
    expect(carol.of('inviteRefused')[0]).toMatchObject({ code: 'invite-expired' });
  });

  it('makes an invite link another key redeems; both see the joined event and the roles', async () => {
    const h = await host();
    const alice = await member(h, 'alice', h.invite('lobby', { role: 'owner', uses: 1 }));
    const made = await alice.s.createInvite('lobby', {
      role: 'member',
      uses: 2,
      expiresInMs: 3600_000,
    });
    expect(made.invite).toMatchObject({ room: 'lobby', role: 'member', usesLeft: 2 });
    const parsed = parseInvite(made.link);
    expect(parsed.ok && parsed.value).toMatchObject({
      host: '127.0.0.1',
      port: h.address.port,
      room: 'lobby',
    });
    expect(parsed.ok && encodeBase64Url(parsed.value.hostKey)).toBe(encodeBase64Url(h.publicKey));
    expect((await alice.s.listInvites('lobby')).map((i) => i.id)).toContain(made.invite.id);

    const bob = await member(h, 'bob', made.link);
    await until(
      () => alice.of('roomEvent').some((e) => e.action === 'joined' && e.actor?.nick === 'bob'),
      'the joined event',
    );
    await until(
      () => alice.s.members('lobby').some((m) => m.nick === 'bob' && m.online === true),
      'bob online in the list',
    );
    expect(alice.s.members('lobby').find((m) => m.nick === 'bob')?.role).toBe('member');
    expect(bob.s.members('lobby').find((m) => m.nick === 'alice')?.role).toBe('owner');

    await alice.s.revokeInvite('lobby', made.invite.id);
    expect((await alice.s.listInvites('lobby')).map((i) => i.id)).not.toContain(made.invite.id);
  });

  it('removes a member: the removed key is told who did it and gets nothing more', async () => {
    const h = await host();
    const alice = await member(h, 'alice', h.invite('lobby', { role: 'owner', uses: 1 }));
    const bob = await member(h, 'bob', h.invite('lobby'));
    const bobKey = encodeBase64Url(bob.s.publicKey);
    await alice.s.remove('lobby', bobKey);
    await until(() => bob.of('removed').length > 0, 'the removal');
    expect(bob.of('removed')[0]).toMatchObject({
      room: 'lobby',
      reason: 'removed',
      by: { nick: 'alice' },
    });
    expect(bob.s.rooms).toEqual([]);
    expect(bob.s.roomList).toEqual([]);
    expect(() => bob.s.send('lobby', 'still here?')).toThrow(/join/);
    await until(
      () => alice.of('roomEvent').some((e) => e.action === 'removed' && e.target?.nick === 'bob'),
      'the removed event',
    );
    expect(alice.s.members('lobby').some((m) => m.nick === 'bob')).toBe(false);
    alice.s.send('lobby', 'after bob');
    await until(() => alice.of('ack').length > 0, 'the ack');
    await new Promise((r) => setTimeout(r, 100));
    expect(bob.of('message').map((m) => m.text)).not.toContain('after bob');
  });

  it('refuses what a role does not allow, with the host code, and settles every request', async () => {
    const h = await host();
    await member(h, 'alice', h.invite('lobby', { role: 'owner', uses: 1 }));
    const bob = await member(h, 'bob', h.invite('lobby'));
    const refusal = await bob.s
      .createInvite('lobby', { role: 'member', uses: 1, expiresInMs: null })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(refusal).toBeInstanceOf(MembershipError);
    expect(refusal).toMatchObject({ code: 'forbidden' });
    await expect(bob.s.setTopic('nowhere', 'hi')).rejects.toMatchObject({ code: 'unknown-room' });
    await expect(bob.s.setTopic('lobby', 'x'.repeat(301))).rejects.toMatchObject({
      code: 'invalid-request',
    });
  });

  it('sets the topic: an event in the timeline and the room list updated', async () => {
    const h = await host();
    const alice = await member(h, 'alice', h.invite('lobby', { role: 'owner', uses: 1 }));
    const bob = await member(h, 'bob', h.invite('lobby'));
    await alice.s.setTopic('lobby', 'plans for friday');
    await until(() => bob.of('roomEvent').some((e) => e.action === 'topic'), 'the topic event');
    expect(bob.of('roomEvent').find((e) => e.action === 'topic')).toMatchObject({
      topic: 'plans for friday',
      actor: { nick: 'alice' },
    });
    await until(() => bob.s.roomInfo('lobby')?.topic === 'plans for friday', 'the topic');
  });

  it('opens a direct-message room both sides join, and parts a room', async () => {
    const h = await host();
    const alice = await member(h, 'alice', h.invite('lobby', { role: 'owner', uses: 1 }));
    const bob = await member(h, 'bob', h.invite('lobby'));
    const dm = await alice.s.openDm(encodeBase64Url(bob.s.publicKey));
    expect(dm).toMatchObject({ kind: 'dm', peer: { nick: 'bob' } });
    await until(() => bob.s.roomInfo(dm.room)?.kind === 'dm', 'the dm on bob');
    await until(() => bob.of('synced').some((e) => e.room === dm.room), 'bob joined the dm');
    await until(() => alice.of('synced').some((e) => e.room === dm.room), 'alice joined the dm');
    alice.s.send(dm.room, 'just us');
    await until(() => bob.of('message').some((m) => m.text === 'just us'), 'the dm message');

    await bob.s.part('lobby');
    await until(() => bob.of('removed').some((r) => r.reason === 'parted'), 'the part');
    expect(bob.s.roomList.map((r) => r.room)).toEqual([dm.room]);
  });

  it('joins by itself a room it becomes a member of while connected', async () => {
    const h = await host({ rooms: ['lobby', 'dev'] });
    const alice = await member(h, 'alice', h.invite('lobby', { role: 'owner', uses: 1 }));
    await alice.s.redeem(tokenOf(h.invite('dev')));
    await until(() => alice.of('synced').some((e) => e.room === 'dev'), 'dev joined');
    expect(alice.s.roomInfo('dev')?.role).toBe('member');
  });
});
