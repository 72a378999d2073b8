import { describe, expect, it } from 'vitest';
import type { HostMessage } from '../../../src-main/protocol/wire/messages.ts';
import { decodeGroupRecord } from '../../../src-main/client/e2ee/group-record.ts';
import { loadSuite } from '../../../src-main/e2ee/mls-suite.ts';
import { encodePayload, textPayload } from '../../../src-main/e2ee/payload.ts';
import { RoomGroup } from '../../../src-main/e2ee/room-group.ts';
import {
  type Member,
  memberJoiner,
  startMemberWithDevice,
  untilAllShow,
  untilGroupComplete,
} from '../../support/e2ee-members.ts';
import { type HostRewrite, rewriteMessagesById } from '../../support/e2ee-relay.ts';
import { flipByte, mlsOf } from '../../support/e2ee-wire.ts';
import { fakeMember } from '../../support/hostile-host.ts';
import { spawnE2eeHost } from '../../support/e2ee-host.ts';
import { cleanupsAfterEach, until } from '../../support/lifecycle.ts';

// A hostile host (here: a relay in front of carol that changes real traffic of a real room)
// cannot make carol show a line nobody in the group wrote, nor one under another member's
// name: a tampered ciphertext, a replayed one under a new id, a line the host says bob sent
// (alice did), and one from a key that is not in the group are each shown as failed, with
// the reason — never silently dropped, never as text — and carol's session goes on.

const cleanups = cleanupsAfterEach();
const ROOM = 'lobby';
type Msg = Extract<HostMessage, { t: 'msg' }>;

describe('a hostile host relaying real ciphertext with changes', () => {
  it('gets each change shown as failed with its reason, and the session goes on', async () => {
    const h = await spawnE2eeHost(cleanups);

    // What the relay does to carol's copy of each message, by message id.
    const { changes, rewrite } = rewriteMessagesById();
    const join = memberJoiner(cleanups, h);
    const alice = await join('alice', h.ownerInvite);
    const bob = await join('bob', h.memberInvite);
    const carol = await join('carol', h.memberInvite, rewrite);
    const all: Member[] = [alice, bob, carol];
    await untilGroupComplete(all, ROOM);
    for (const m of all) {
      const text = `hello from ${m.nick}`;
      m.s.send(ROOM, text);
      await untilAllShow(all, m, ROOM, text, 30_000);
    }
    const earlierId = bob.shown(ROOM, 'hello from alice')[0]?.id ?? '';
    const earlier = mlsOf([carol.relay, bob.relay], earlierId);
    expect(earlier).toBeDefined();
    const stranger = fakeMember(7);

    const attacks: [string, (m: Msg) => Msg, readonly string[]][] = [
      ['tampered', (m) => ({ ...m, mls: flipByte(m.mls ?? '') }), ['tampered']],
      ['replayed', (m) => ({ ...m, mls: earlier ?? '' }), ['replay']],
      ['forged', (m) => ({ ...m, key: bob.key, from: 'bob' }), ['forged']],
      [
        'from a stranger',
        (m) => ({ ...m, key: stranger.key, from: stranger.nick }),
        ['not-in-group', 'forged'],
      ],
    ];

    for (const [what, change, reasons] of attacks) {
      const text = `alice, to be ${what}`;
      const id = alice.s.send(ROOM, text);
      changes.set(id, change);
      // Bob got the real one: the attack is on carol's path only.
      await untilAllShow([alice, bob], alice, ROOM, text, 30_000);
      await until(
        () => carol.of('message').some((m) => m.id === id),
        `carol shows the ${what} line`,
      );
      const shown = carol.of('message').filter((m) => m.id === id);
      expect(shown, what).toHaveLength(1);
      expect(shown[0]?.text, what).toBe('');
      expect(shown[0]?.e2ee?.status, what).toBe('failed');
      const reason = shown[0]?.e2ee?.status === 'failed' ? shown[0].e2ee.reason : undefined;
      expect(reasons, `${what}: reason ${reason}`).toContain(reason);
      // Nothing of the real line leaked into any event.
      expect(carol.of('message').some((m) => m.text === text)).toBe(false);
    }

    // The session survived all of it, on its first connection, and reads what comes next.
    const after = 'alice, after the attacks';
    alice.s.send(ROOM, after);
    bob.s.send(ROOM, 'bob, after the attacks');
    await untilAllShow(all, alice, ROOM, after, 30_000);
    await untilAllShow(all, bob, ROOM, 'bob, after the attacks', 30_000);
    expect(carol.shown(ROOM, after)[0]?.e2ee).toMatchObject({ status: 'ok' });
    expect(carol.s.state).toBe('connected');
    expect(carol.relay.connections).toBe(1);
    expect(carol.of('fatal')).toEqual([]);
    // Bob never saw anything fail.
    expect(bob.of('message').filter((m) => m.e2ee?.status === 'failed')).toEqual([]);
  }, 60_000);

  // ts-mls keeps past epochs' keys, so the late line decrypts: the client must still refuse it,
  // its sender's leaf being no longer in the group (in host order a genuine line never is).
  it("shows no line a removed member's old group state makes after the removal", async () => {
    const h = await spawnE2eeHost(cleanups);
    // carol's copy of one message of alice's becomes, on its way, dave's late line.
    const plan: { target?: string; replace?: (m: Msg) => Msg } = {};
    const rewrite: HostRewrite = (m) =>
      m.t === 'msg' && m.id === plan.target && plan.replace ? [plan.replace(m)] : undefined;
    const join = (nick: string, invite: string, withRewrite?: HostRewrite) =>
      startMemberWithDevice(cleanups, h, {
        nick,
        invite,
        ...(withRewrite ? { rewrite: withRewrite } : {}),
      });
    const alice = await join('alice', h.ownerInvite);
    const carol = await join('carol', h.memberInvite, rewrite);
    const dave = await join('dave', h.memberInvite);
    const all = [alice.member, carol.member, dave.member];
    await untilGroupComplete(all, ROOM);
    const hello = 'dave is still in';
    dave.member.s.send(ROOM, hello);
    await untilAllShow(all, dave.member, ROOM, hello, 30_000);

    // What dave's device holds now; then he is removed and everyone's group moves on.
    const name = (await dave.device.store.list('group/')).find((n) => n.endsWith(`/${ROOM}`));
    const record = name
      ? decodeGroupRecord((await dave.device.store.get(name)) ?? new Uint8Array())
      : undefined;
    expect(record).toBeDefined();
    await alice.member.s.remove(ROOM, dave.member.key);
    await untilGroupComplete([alice.member, carol.member], ROOM);

    // dave (or a host holding his device's files) makes a line in the last epoch he knew.
    const suite = await loadSuite();
    const old = RoomGroup.decode(
      suite,
      dave.device.device,
      dave.device.pins,
      record?.state ?? new Uint8Array(),
    );
    const lateId = 'late-line-from-dave-01';
    const late = await old.encrypt(encodePayload(textPayload(lateId, 'dave, after his removal')));
    const daveMember = { key: dave.member.key, nick: 'dave' };
    plan.replace = (m) => ({
      ...m,
      id: lateId,
      key: daveMember.key,
      from: daveMember.nick,
      mls: late.data,
    });
    const carrier = "alice, carrying dave's late line";
    plan.target = alice.member.s.send(ROOM, carrier);
    await until(
      () => carol.member.of('message').some((m) => m.id === lateId),
      'carol shows the late line',
    );
    const shown = carol.member.of('message').find((m) => m.id === lateId);
    expect(shown?.text).toBe('');
    expect(shown?.e2ee?.status).toBe('failed');
    // carol's session goes on.
    const after = 'alice, after dave';
    alice.member.s.send(ROOM, after);
    await untilAllShow([alice.member, carol.member], alice.member, ROOM, after, 30_000);
  }, 60_000);
  it('a tampered commit breaks only the room for the one who got it, who is added again', async () => {
    const h = await spawnE2eeHost(cleanups);
    const plan: { armed: boolean; hit: number } = { armed: false, hit: 0 };
    const rewrite: HostRewrite = (m) => {
      if (!plan.armed || m.t !== 'commit' || plan.hit > 0) return undefined;
      plan.hit++;
      return [{ ...m, data: flipByte(m.data, 40) }];
    };
    // carol also hears of membership changes late, so alice makes the commit carol gets.
    const late = new Set(['event', 'presence', 'devices']);
    const delayMs = (m: { t: string }) => (plan.armed && late.has(m.t) ? 1500 : 0);
    const join = async (nick: string, invite: string, slowCarol = false) =>
      (
        await startMemberWithDevice(cleanups, h, {
          nick,
          invite,
          ...(slowCarol ? { rewrite, delayMs } : {}),
        })
      ).member;
    const alice = await join('alice', h.ownerInvite);
    const carol = await join('carol', h.memberInvite, true);
    await untilGroupComplete([alice, carol], ROOM);
    // The next commit carol is sent (dave's add) arrives changed.
    plan.armed = true;
    const dave = await join('dave', h.memberInvite);
    await until(() => plan.hit > 0, 'a commit to tamper with');
    await until(() => carol.encryption.some((e) => e.state === 'broken'), "carol's room broken");
    // She is added again with a new device, and reads what is said from then on.
    await untilGroupComplete([alice, carol, dave], ROOM);
    const later = 'alice, once carol is back';
    alice.s.send(ROOM, later);
    await untilAllShow([alice, carol, dave], alice, ROOM, later, 30_000);
    expect(carol.shown(ROOM, later)[0]?.e2ee).toMatchObject({ status: 'ok' });
    expect(carol.of('fatal')).toEqual([]);
  }, 60_000);
});
