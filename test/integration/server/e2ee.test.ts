import { describe, expect, it } from 'vitest';
import type { HostOptions } from '../../../src-main/server/host.ts';
import type { HostMessage } from '../../../src-main/protocol/wire/messages.ts';
import { parseInvite } from '../../../src-shared/invite.ts';
import { spawnHost } from '../../support/host-process.ts';
import { serve } from '../../support/processes.ts';
import { cleanupsAfterEach } from '../../support/lifecycle.ts';
import type { WireClient } from '../../support/wire-client.ts';
import {
  type Install,
  connectInstall,
  garbage,
  joinGroup,
  keyPackages,
  newGroup,
  newInstall,
} from './e2ee-kit.ts';
import { e2eeHostSetup } from './e2ee-host-setup.ts';

// End-to-end encrypted rooms on a real host (real TCP on 127.0.0.1, real SQLite), with real
// MLS from the e2ee adapter: the host as Delivery Service (docs/protocol.md §12) orders commits,
// keeps and hands out KeyPackages, relays Welcomes, and refuses what does not fit the room.

const cleanups = cleanupsAfterEach();

const { host, connect, invite, aliceAndBob } = e2eeHostSetup(cleanups, 'parley-e2ee-');

/** An E2EE #lobby owned by alice, with bob a member; both have published KeyPackages. */
const encryptedLobby = (options: Partial<HostOptions> = {}) => aliceAndBob(options, 3);

/** Alice makes the room's group and adds bob's device: the commit, the Welcome, her group. */
async function aliceAddsBob(alice: WireClient, aliceInstall: Install, bobDevice: string) {
  const claimed = await alice.request({ t: 'kp-claim', room: 'lobby', have: [] });
  if (claimed.t !== 'kps') throw new Error(`kp-claim: ${JSON.stringify(claimed)}`);
  const bobs = claimed.kps.filter((kp) => kp.device === bobDevice).map((kp) => kp.kp);
  expect(bobs).toHaveLength(1);
  const group = await newGroup(aliceInstall);
  const prepared = await group.prepareCommit({ add: bobs, remove: [] });
  const answer = await alice.request({
    t: 'commit',
    room: 'lobby',
    commit: prepared.commit,
    ...(prepared.welcome ? { welcome: prepared.welcome } : {}),
    to: prepared.to,
  });
  return { answer, prepared, group: prepared.next };
}

let ids = 0;
const newId = () => `e2ee-msg-${String(++ids).padStart(6, '0')}`;

function errorOf(answer: HostMessage) {
  if (answer.t !== 'error') throw new Error(`expected an error, got ${JSON.stringify(answer)}`);
  return answer;
}

async function sendAndAnswer(c: WireClient, message: Parameters<WireClient['send']>[0]) {
  if (message.t !== 'send') throw new Error('a send');
  c.send(message);
  return Promise.race([
    c.waitFor('ack', (m) => m.id === message.id),
    c.waitFor('error', (m) => m.ref === message.id),
  ]);
}

describe('which rooms are end-to-end encrypted', () => {
  it('rooms made private and DMs are; open rooms are not, and an encrypted room cannot be opened', async () => {
    const { alice, bob } = await encryptedLobby();
    const lobby = alice.of('room').find((m) => m.info.room === 'lobby');
    expect(lobby?.info).toMatchObject({ e2ee: true, open: false });

    const made = await alice.request({ t: 'create', room: 'den' });
    expect(made).toMatchObject({ t: 'room', info: { room: 'den', e2ee: true } });
    const open = await alice.request({ t: 'create', room: 'square', open: true });
    expect(open).toMatchObject({ t: 'room', info: { room: 'square', open: true } });
    expect(open.t === 'room' && open.info.e2ee).toBeFalsy();
    const dm = await alice.request({ t: 'dm', key: bob.keyText });
    expect(dm).toMatchObject({ t: 'room', info: { kind: 'dm', e2ee: true } });

    expect(errorOf(await alice.request({ t: 'set-open', room: 'den', open: true }))).toMatchObject({
      code: 'forbidden',
    });
    expect(
      errorOf(await alice.request({ t: 'set-open', room: 'lobby', open: true })),
    ).toMatchObject({ code: 'forbidden' });
    // joined carries the group's epoch: 0, no group yet.
    alice.send({ t: 'join', room: 'lobby' });
    expect(await alice.waitFor('joined', (m) => m.room === 'lobby')).toEqual({
      t: 'joined',
      room: 'lobby',
      epoch: 0,
    });
    alice.send({ t: 'join', room: 'square' });
    expect(await alice.waitFor('joined', (m) => m.room === 'square')).toEqual({
      t: 'joined',
      room: 'square',
    });
  });

  it('`parley --serve` makes its rooms end-to-end encrypted, and `--no-e2ee` does not', async () => {
    for (const [extra, e2ee] of [
      [[], true],
      [['--no-e2ee'], false],
    ] as const) {
      const served = await serve(cleanups.tempDir('parley-e2ee-serve-'), [...extra]);
      cleanups.push(async () => {
        served.proc.kill('SIGKILL');
        await served.proc.exited();
      });
      const invite = parseInvite(served.invite);
      if (!invite.ok) throw new Error(invite.error.message);
      const c = await connectInstall(
        served.port,
        invite.value.hostKey,
        'alice',
        await newInstall(),
      );
      cleanups.push(() => c.close());
      expect(await c.redeem(served.invite)).toMatchObject({ t: 'redeemed' });
      const lobby = await c.waitFor('room', (m) => m.info.room === 'lobby');
      expect(lobby.info.e2ee === true).toBe(e2ee);
    }
  });

  it('a host started without e2ee makes plaintext rooms', async () => {
    const { h } = await host({ e2ee: false, rooms: ['plain'] });
    const install = await newInstall();
    const alice = await connect(h, 'alice', install);
    await alice.redeem(invite(h, 'owner', 'plain'));
    const made = await alice.request({ t: 'create', room: 'den' });
    expect(made.t === 'room' && made.info.e2ee).toBeFalsy();
    await alice.join('plain');
    expect(alice.of('joined')[0]).toEqual({ t: 'joined', room: 'plain' });
  });
});

describe('sends', () => {
  it('text into an encrypted room and MLS into a plain one are e2ee-mismatch', async () => {
    const { alice, aliceInstall } = await encryptedLobby();
    await alice.request({ t: 'create', room: 'square', open: true });
    await alice.join('lobby');
    await alice.join('square');
    const text = await sendAndAnswer(alice, { t: 'send', room: 'lobby', id: newId(), text: 'hi' });
    expect(errorOf(text)).toMatchObject({ code: 'e2ee-mismatch' });
    const group = await newGroup(aliceInstall);
    const { data } = await group.encrypt(new TextEncoder().encode('hi'));
    const mls = await sendAndAnswer(alice, {
      t: 'send',
      room: 'square',
      id: newId(),
      mls: data,
      epoch: 0,
    });
    expect(errorOf(mls)).toMatchObject({ code: 'e2ee-mismatch' });
    // Nothing was stored: a later joiner's replay has neither.
    expect(alice.of('msg')).toEqual([]);
  });

  it('an MLS message at an epoch the room has left is stale-epoch; at the current one it is relayed', async () => {
    const { alice, bob, aliceInstall, bobInstall } = await encryptedLobby();
    await alice.join('lobby');
    await bob.join('lobby');
    const before = await newGroup(aliceInstall);
    const { answer, group, prepared } = await aliceAddsBob(
      alice,
      aliceInstall,
      bobInstall.device.deviceText,
    );
    expect(answer).toMatchObject({ t: 'committed', room: 'lobby', epoch: 1 });
    prepared.erase();

    // A message for the group at epoch 0 (the state before the commit) is refused.
    const old = await before.encrypt(new TextEncoder().encode('old'));
    const stale = errorOf(
      await sendAndAnswer(alice, {
        t: 'send',
        room: 'lobby',
        id: newId(),
        mls: old.data,
        epoch: 0,
      }),
    );
    expect(stale).toMatchObject({ code: 'stale-epoch', epoch: 1 });

    // At epoch 1 it is stored and relayed, and bob's device (added by the Welcome) reads it.
    const id = newId();
    const fresh = await group.encrypt(new TextEncoder().encode('hello bob'));
    expect(
      await sendAndAnswer(alice, { t: 'send', room: 'lobby', id, mls: fresh.data, epoch: 1 }),
    ).toMatchObject({
      t: 'ack',
    });
    const welcome = await bob.waitFor('mls-welcome', (m) => m.room === 'lobby');
    const bobGroup = await joinGroup(bobInstall, welcome.data);
    const relayed = await bob.waitFor('msg', (m) => m.id === id);
    expect(relayed.text).toBeUndefined();
    expect(relayed.mls).toBe(fresh.data);
    const read = await bobGroup.process(relayed.mls ?? '');
    expect(read.kind === 'application' && new TextDecoder().decode(read.payload)).toBe('hello bob');
  });

  it('a send carrying neither or both of text and mls is a bad request', async () => {
    const { alice } = await encryptedLobby();
    await alice.join('lobby');
    const neither = await sendAndAnswer(alice, { t: 'send', room: 'lobby', id: newId() });
    expect(errorOf(neither)).toMatchObject({ code: 'bad-request' });
  });
});

describe('commits', () => {
  it('two commits for one epoch: exactly one is committed, the other is stale-epoch with the epoch', async () => {
    const { alice, bob, aliceInstall, bobInstall } = await encryptedLobby();
    await alice.join('lobby');
    await bob.join('lobby');
    // Both make a group and commit at epoch 0 in the same instant (the race of §12).
    const [a, b] = await Promise.all([newGroup(aliceInstall), newGroup(bobInstall)]);
    const [ca, cb] = await Promise.all([
      a.prepareCommit({ add: [], remove: [] }),
      b.prepareCommit({ add: [], remove: [] }),
    ]);
    const [ra, rb] = await Promise.all([
      alice.request({ t: 'commit', room: 'lobby', commit: ca.commit }),
      bob.request({ t: 'commit', room: 'lobby', commit: cb.commit }),
    ]);
    const answers = [ra, rb];
    const won = answers.filter((r) => r.t === 'committed');
    const lost = answers.filter((r) => r.t === 'error');
    expect(won).toHaveLength(1);
    expect(won[0]).toMatchObject({ room: 'lobby', epoch: 1 });
    expect(lost).toHaveLength(1);
    expect(lost[0]).toMatchObject({ code: 'stale-epoch', ref: 'lobby', epoch: 1 });

    // The winner's commit reaches the other member as a `commit` item with its seq; the
    // winner's own connection gets no echo.
    const seq = won[0]?.t === 'committed' ? won[0].seq : -1;
    const [winner, loser] = ra.t === 'committed' ? [alice, bob] : [bob, alice];
    const item = await loser.waitFor('commit', (m) => m.seq === seq);
    expect(item).toMatchObject({
      room: 'lobby',
      epoch: 0,
      data: ra.t === 'committed' ? ca.commit : cb.commit,
    });
    expect(winner.of('commit')).toEqual([]);

    // A commit whose group is not the room's is stale too, even at the right epoch.
    const other = await newGroup(aliceInstall);
    const stray = await (
      await other.prepareCommit({ add: [], remove: [] })
    ).next.prepareCommit({
      add: [],
      remove: [],
    });
    expect(
      errorOf(await alice.request({ t: 'commit', room: 'lobby', commit: stray.commit })),
    ).toMatchObject({
      code: 'stale-epoch',
      epoch: 1,
    });
  });

  it('what is not a commit is refused, and garbage never hurts the host', async () => {
    const { alice, aliceInstall } = await encryptedLobby();
    await alice.join('lobby');
    const group = await newGroup(aliceInstall);
    const app = await group.encrypt(new TextEncoder().encode('x'));
    for (const commit of [app.data, garbage(3), garbage(300), 'AAAA', garbage(30_000)]) {
      expect(errorOf(await alice.request({ t: 'commit', room: 'lobby', commit }))).toMatchObject({
        code: 'bad-request',
      });
    }
    for (const kp of [garbage(4), garbage(500), app.data]) {
      expect(errorOf(await alice.request({ t: 'kp-publish', kps: [kp] }))).toMatchObject({
        code: 'bad-key-package',
      });
    }
    // Wire v5: an MLS send must state its epoch; the ciphertext itself is never decoded.
    for (const mls of [garbage(3), garbage(1000)]) {
      const answer = await sendAndAnswer(alice, { t: 'send', room: 'lobby', id: newId(), mls });
      expect(errorOf(answer)).toMatchObject({ code: 'bad-request' });
    }
    // Still serving.
    expect(await alice.request({ t: 'kp-claim', room: 'lobby', have: [] })).toMatchObject({
      t: 'kps',
    });
  });
});

describe('KeyPackages', () => {
  it('a KeyPackage of another key or another device is bad-key-package; without a device, no-device', async () => {
    const { h, bob, aliceInstall, bobInstall } = await encryptedLobby();
    // bob's connection hands over alice's KeyPackage: another Parley key.
    const alices = await keyPackages(aliceInstall, 1);
    expect(errorOf(await bob.request({ t: 'kp-publish', kps: alices }))).toMatchObject({
      code: 'bad-key-package',
    });
    // bob's key, but the hello named another device than the KeyPackage's.
    const other = await connect(h, 'bob', bobInstall, (await newInstall()).device.deviceText);
    expect(
      errorOf(await other.request({ t: 'kp-publish', kps: await keyPackages(bobInstall, 1) })),
    ).toMatchObject({
      code: 'bad-key-package',
    });
    const none = await connect(h, 'bob', bobInstall, null);
    expect(none.of('welcome')[0]?.keyPackages).toBeUndefined();
    const kps = await keyPackages(bobInstall, 1);
    expect(errorOf(await none.request({ t: 'kp-publish', kps }))).toMatchObject({
      code: 'no-device',
    });
    expect(errorOf(await none.request({ t: 'kp-claim', room: 'lobby', have: [] }))).toMatchObject({
      code: 'no-device',
    });
    await none.join('lobby');
    const send = await sendAndAnswer(none, {
      t: 'send',
      room: 'lobby',
      id: newId(),
      mls: garbage(100),
    });
    expect(errorOf(send)).toMatchObject({ code: 'no-device' });
  });

  it('a claim takes one KeyPackage per device, keeps the last one, and welcome says how many are held', async () => {
    const { h, alice, aliceInstall, bobInstall } = await encryptedLobby();
    const bobDevice = bobInstall.device.deviceText;
    const claim = async () => {
      const answer = await alice.request({
        t: 'kp-claim',
        room: 'lobby',
        have: [aliceInstall.device.deviceText],
      });
      if (answer.t !== 'kps') throw new Error(JSON.stringify(answer));
      return answer;
    };
    const first = await claim();
    expect(first.devices).toEqual(
      expect.arrayContaining([
        { key: alice.keyText, device: aliceInstall.device.deviceText },
        { key: expect.any(String), device: bobDevice },
      ]),
    );
    // Never the claimer's own device, nor one it has.
    expect(first.kps.map((kp) => kp.device)).toEqual([bobDevice]);
    const taken = [first.kps[0]?.kp];
    for (let i = 0; i < 3; i++) taken.push((await claim()).kps[0]?.kp);
    // Three were published: the first two are handed out once, the last one again and again.
    expect(new Set(taken.slice(0, 3)).size).toBe(3);
    expect(taken[3]).toBe(taken[2]);
    // bob's device now holds one: his next connection is told so.
    const again = await connect(h, 'bob', bobInstall);
    expect(again.of('welcome')[0]?.keyPackages).toBe(1);
    // `have` leaves a device out.
    expect(
      await alice.request({
        t: 'kp-claim',
        room: 'lobby',
        have: [bobDevice, aliceInstall.device.deviceText],
      }),
    ).toMatchObject({ kps: [] });
  });

  it('a device publishing for the first time tells the rooms of its key (`devices`)', async () => {
    const { h, alice, bob, bobInstall } = await encryptedLobby();
    await alice.join('lobby');
    await bob.join('lobby');
    const before = alice.of('devices').length;
    // bob on a second install: same key, new device.
    const second = { ...(await newInstall(bobInstall.keyPair)) };
    const laptop = await connect(h, 'bob', second);
    expect(
      await laptop.request({ t: 'kp-publish', kps: await keyPackages(second, 2) }),
    ).toMatchObject({ t: 'done' });
    await alice.waitFor(
      'devices',
      (m) => m.room === 'lobby' && alice.of('devices').length > before,
    );
    // Publishing more from a known device is no news.
    const count = alice.of('devices').length;
    expect(
      await laptop.request({ t: 'kp-publish', kps: await keyPackages(second, 1) }),
    ).toMatchObject({ t: 'done' });
    await alice.request({ t: 'kp-claim', room: 'lobby', have: [] });
    expect(alice.of('devices')).toHaveLength(count);
  });
});

describe('Welcomes', () => {
  it('reach the added device live, and again after `joined` on a later join, before the replay', async () => {
    const { h, alice, bob, aliceInstall, bobInstall } = await encryptedLobby();
    await alice.join('lobby');
    await bob.join('lobby');
    const { answer } = await aliceAddsBob(alice, aliceInstall, bobInstall.device.deviceText);
    if (answer.t !== 'committed') throw new Error(JSON.stringify(answer));
    const live = await bob.waitFor('mls-welcome');
    expect(live).toMatchObject({ room: 'lobby', seq: answer.seq });
    // alice's own connection has no Welcome: it is not for her device.
    expect(alice.of('mls-welcome')).toEqual([]);

    const later = await connect(h, 'bob', bobInstall);
    await later.join('lobby');
    const order = later.received.filter((m) => 'room' in m && m.room === 'lobby').map((m) => m.t);
    expect(order.indexOf('joined')).toBeLessThan(order.indexOf('mls-welcome'));
    expect(order.indexOf('mls-welcome')).toBeLessThan(order.indexOf('commit'));
    expect(later.of('mls-welcome')[0]).toEqual(live);
    // The replayed commit carries its seq and epoch, marked as history.
    expect(later.of('commit')[0]).toMatchObject({ seq: answer.seq, epoch: 0, history: true });
    // And it opens: the device enters the group at epoch 1.
    expect((await joinGroup(bobInstall, live.data)).epoch).toBe(1);
  });

  it('a member who leaves the room loses the Welcome waiting for them', async () => {
    const { h, alice, bob, aliceInstall, bobInstall } = await encryptedLobby();
    await alice.join('lobby');
    const { answer } = await aliceAddsBob(alice, aliceInstall, bobInstall.device.deviceText);
    expect(answer.t).toBe('committed');
    expect(
      await alice.request({ t: 'remove', room: 'lobby', key: bob.keyText, ban: false }),
    ).toMatchObject({
      t: 'done',
    });
    const back = await connect(h, 'bob', bobInstall);
    expect(await back.redeem(invite(h, 'member'))).toMatchObject({ t: 'redeemed' });
    await back.join('lobby');
    expect(back.of('mls-welcome')).toEqual([]);
  });
});

describe('who may ask', () => {
  it('a non-member gets unknown-room for every MLS request, as for a room that does not exist', async () => {
    const { h } = await encryptedLobby();
    const eveInstall = await newInstall();
    const eve = await connect(h, 'eve', eveInstall);
    const group = await newGroup(eveInstall);
    const commit = (await group.prepareCommit({ add: [], remove: [] })).commit;
    const app = (await group.encrypt(new TextEncoder().encode('x'))).data;
    for (const room of ['lobby', 'nowhere']) {
      const claim = errorOf(await eve.request({ t: 'kp-claim', room, have: [] }));
      expect(claim).toMatchObject({ code: 'unknown-room', ref: room });
      const committed = errorOf(await eve.request({ t: 'commit', room, commit }));
      expect(committed).toMatchObject({ code: 'unknown-room', ref: room });
      const send = errorOf(
        await sendAndAnswer(eve, { t: 'send', room, id: newId(), mls: app, epoch: 0 }),
      );
      expect(send).toMatchObject({ code: 'unknown-room' });
    }
    expect(eve.of('kps')).toEqual([]);
  });
});

describe('a restart', () => {
  it('keeps the group, its epoch, the commits and the Welcomes waiting', async () => {
    const t = await encryptedLobby();
    await t.alice.join('lobby');
    const { answer, group } = await aliceAddsBob(
      t.alice,
      t.aliceInstall,
      t.bobInstall.device.deviceText,
    );
    if (answer.t !== 'committed') throw new Error(JSON.stringify(answer));
    t.alice.close();
    t.bob.close();
    await t.stop();

    const again = await host({ dataDir: t.dataDir });
    const bob = await connect(again.h, 'bob', t.bobInstall);
    bob.send({ t: 'join', room: 'lobby' });
    expect(await bob.waitFor('joined')).toEqual({ t: 'joined', room: 'lobby', epoch: 1 });
    expect(await bob.waitFor('mls-welcome')).toMatchObject({ seq: answer.seq });
    expect(await bob.waitFor('commit')).toMatchObject({ seq: answer.seq, epoch: 0 });

    const alice = await connect(again.h, 'alice', t.aliceInstall);
    await alice.join('lobby');
    // The group's next commit is at epoch 1; one at 0 is stale.
    const stale = await (await newGroup(t.aliceInstall)).prepareCommit({ add: [], remove: [] });
    expect(
      errorOf(await alice.request({ t: 'commit', room: 'lobby', commit: stale.commit })),
    ).toMatchObject({
      code: 'stale-epoch',
      epoch: 1,
    });
    const next = await group.prepareCommit({ add: [], remove: [] });
    expect(await alice.request({ t: 'commit', room: 'lobby', commit: next.commit })).toMatchObject({
      t: 'committed',
      epoch: 2,
    });
  });
});

describe('a crash', () => {
  it('loses no committed commit: killed right after `committed`, the host comes back at the new epoch', async () => {
    const dataDir = cleanups.tempDir('parley-e2ee-crash-');
    const first = await spawnHost({ e2ee: true, dataDir });
    cleanups.push(() => first.stop());
    const install = await newInstall();
    const alice = await connectInstall(first.port, first.publicKey, 'alice', install);
    cleanups.push(() => alice.close());
    expect(await alice.redeem(first.memberInvite ?? '')).toMatchObject({ t: 'redeemed' });
    await alice.join('lobby');
    const group = await newGroup(install);
    const made = await group.prepareCommit({ add: [], remove: [] });
    const answer = await alice.request({ t: 'commit', room: 'lobby', commit: made.commit });
    expect(answer).toMatchObject({ t: 'committed', epoch: 1 });
    first.child.kill('SIGKILL'); // no shutdown: what was answered must already be on disk
    await first.stop();

    const second = await spawnHost({ e2ee: true, dataDir });
    cleanups.push(() => second.stop());
    const back = await connectInstall(second.port, second.publicKey, 'alice', install);
    cleanups.push(() => back.close());
    back.send({ t: 'join', room: 'lobby' });
    expect(await back.waitFor('joined')).toEqual({ t: 'joined', room: 'lobby', epoch: 1 });
    const replayed = await back.waitFor('commit');
    expect(replayed).toMatchObject({ epoch: 0, data: made.commit, history: true });
    expect(answer.t === 'committed' && replayed.seq).toBe(answer.t === 'committed' && answer.seq);
  });
});
