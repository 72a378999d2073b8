import { describe, expect, it } from 'vitest';
import type { E2eeOptions } from '../../../src-main/client/e2ee/e2ee-options.ts';
import {
  decodeGroupRecord,
  encodeGroupRecord,
} from '../../../src-main/client/e2ee/group-record.ts';
import type { ClaimAnswer } from '../../../src-main/client/e2ee/reconcile-diff.ts';
import { RoomCrypto, type RoomCryptoHost } from '../../../src-main/client/e2ee/room-crypto.ts';
import { MembershipError } from '../../../src-main/client/membership-requests.ts';
import { type OutboxEntry, newMessageId } from '../../../src-main/client/outbox.ts';
import type {
  DevicesUpdate,
  EncryptionState,
  SessionMessage,
} from '../../../src-main/client/session-events.ts';
import { loadOrCreateDevice } from '../../../src-main/e2ee/device-identity.ts';
import { memoryE2eeStore } from '../../../src-main/e2ee/e2ee-store.ts';
import { makeKeyPackages } from '../../../src-main/e2ee/key-packages.ts';
import { RoomGroup } from '../../../src-main/e2ee/room-group.ts';
import { loadSuite } from '../../../src-main/e2ee/mls-suite.ts';
import { memoryPersonPins } from '../../../src-main/e2ee/person-pins.ts';
import { encodeBase64Url } from '../../../src-shared/base64url.ts';
import { newKeyPair } from '../../support/loopback.ts';

// One room's crypto against a scripted session: the host's answers (kps, committed,
// stale-epoch) and timeline items are handed in by the test, and what the room does with
// them (commits written, messages emitted, states reported) is what the user would see.

const ROOM = 'lobby';
const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

interface CommitCall {
  body: { commit: string; welcome?: string; to?: string[] };
  committed: (answer: { seq: number; epoch: number }) => void;
  refused: (error: MembershipError) => void;
}

async function member(nick: string) {
  const identity = newKeyPair();
  const store = memoryE2eeStore();
  const device = await loadOrCreateDevice(store, identity);
  const options: E2eeOptions = {
    device,
    store,
    pins: memoryPersonPins(),
    suite: await loadSuite(),
  };
  const key = encodeBase64Url(identity.publicKey);
  const events = {
    messages: [] as SessionMessage[],
    states: [] as EncryptionState['state'][],
    devices: [] as DevicesUpdate[],
    commits: [] as CommitCall[],
    sent: [] as { id: string; mls: string }[],
    failures: [] as string[],
    rotations: 0,
  };
  let claim: (have: string[]) => ClaimAnswer = () => ({ devices: [], kps: [] });
  let members = new Set<string>([key]);
  // Like the outbox: an entry the room could not send yet goes again a little later.
  const queued = new Map<string, OutboxEntry>();
  const ref: { crypto?: RoomCrypto } = {};
  const connection = {};
  const host: RoomCryptoHost = {
    room: ROOM,
    storeName: `group/test/${ROOM}`,
    ownKey: key,
    options: () => options,
    connection: () => connection,
    synced: () => true,
    memberKeys: () => members,
    onlineKeys: () => members,
    emitMessage: (m) => events.messages.push(m),
    emitEvent: () => undefined,
    emitSynced: () => undefined,
    emitEncryption: (s) => events.states.push(s.state),
    emitDevices: (d) => events.devices.push(d),
    emitKeyChanged: () => undefined,
    failed: (message) => events.failures.push(message),
    claim: (have) => Promise.resolve(claim(have)),
    commit: (body, committed, refused) => events.commits.push({ body, committed, refused }),
    writeSend: (id, mls) => {
      events.sent.push({ id, mls });
      return true;
    },
    requeue: (id) => {
      const entry = queued.get(id);
      if (entry) setTimeout(() => ref.crypto?.send(entry), 10);
    },
    pump: () => undefined,
    later: (ms, action) => setTimeout(action, ms),
    rotateDevice: () => {
      events.rotations++;
      return Promise.resolve();
    },
    random: () => 0,
    now: () => Date.now(),
  };
  const crypto = new RoomCrypto(host, undefined);
  ref.crypto = crypto;
  return {
    nick,
    key,
    options,
    events,
    host,
    crypto,
    send(text: string): string {
      const entry = { id: newMessageId(), room: ROOM, text, queuedAt: 0 };
      queued.set(entry.id, entry);
      crypto.send(entry);
      return entry.id;
    },
    setClaim: (answer: typeof claim) => (claim = answer),
    setMembers: (keys: string[]) => (members = new Set(keys)),
    async keyPackage(): Promise<string> {
      const [kp] = await makeKeyPackages(options.suite, device, store, 1);
      if (!kp) throw new Error('no KeyPackage');
      return kp;
    },
  };
}

type Member = Awaited<ReturnType<typeof member>>;

async function until(check: () => boolean, what: string): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > 5000) throw new Error(`timed out waiting for ${what}`);
    await tick();
  }
}

function msg(from: Member, seq: number, id: string, mls: string) {
  return {
    t: 'msg' as const,
    room: ROOM,
    seq,
    id,
    from: from.nick,
    key: from.key,
    mls,
    ts: 1_700_000_000_000,
  };
}

function commitItem(from: Member, seq: number, epoch: number, data: string) {
  return {
    t: 'commit' as const,
    room: ROOM,
    seq,
    ts: 1_700_000_000_000,
    from: from.nick,
    key: from.key,
    epoch,
    data,
  };
}

/** alice makes the group (the host had none) and adds bob; bob joins from the Welcome. */
async function pair() {
  const alice = await member('alice');
  const bob = await member('bob');
  const bobKp = await bob.keyPackage();
  const bobDevice = bob.options.device.deviceText;
  const aliceDevice = alice.options.device.deviceText;
  alice.setMembers([alice.key, bob.key]);
  bob.setMembers([alice.key, bob.key]);
  alice.setClaim(() => ({
    devices: [
      { key: alice.key, device: aliceDevice },
      { key: bob.key, device: bobDevice },
    ],
    kps: [{ key: bob.key, device: bobDevice, kp: bobKp }],
  }));
  alice.crypto.joined(0);
  alice.crypto.synced();
  await until(() => alice.events.commits.length === 1, "alice's first commit");
  return { alice, bob, aliceDevice, bobDevice };
}

describe("an E2EE room's crypto, step by step", () => {
  it('makes the group, adds the other member on `committed`, and both read each other', async () => {
    const { alice, bob, bobDevice } = await pair();
    const first = alice.events.commits[0];
    expect(first?.body.to).toEqual([bobDevice]);
    expect(alice.crypto.readyToSend()).toBe(false); // nothing goes out before the host took it
    first?.committed({ seq: 3, epoch: 1 });
    await until(() => alice.events.states.includes('encrypted'), 'alice encrypted');
    expect(
      alice.events.devices
        .at(-1)
        ?.members.map((m) => m.key)
        .sort(),
    ).toEqual([alice.key, bob.key].sort());

    bob.crypto.joined(1);
    bob.crypto.welcome(3, first?.body.welcome ?? '');
    bob.crypto.synced();
    await until(() => bob.events.states.includes('encrypted'), 'bob encrypted');

    await until(() => alice.crypto.readyToSend(), 'alice ready to send');
    const id = alice.send('hello bob');
    await until(() => alice.events.sent.length === 1, 'alice wrote the message');
    bob.crypto.item(msg(alice, 4, id, alice.events.sent[0]?.mls ?? ''));
    await until(() => bob.events.messages.length === 1, 'bob read it');
    expect(bob.events.messages[0]).toMatchObject({
      text: 'hello bob',
      e2ee: { status: 'ok', device: alice.options.device.deviceText },
    });
    expect(bob.events.messages[0]).not.toHaveProperty('mls');

    // The same ciphertext again (a replay by the host) does not open a second time.
    bob.crypto.item(msg(alice, 5, id, alice.events.sent[0]?.mls ?? ''));
    await until(() => bob.events.messages.length === 2, 'bob saw the replay');
    expect(bob.events.messages[1]).toMatchObject({ text: '', e2ee: { status: 'failed' } });
  });

  it('after a restart, does not show its own earlier line (its keys are spent) as failed', async () => {
    const { alice, bob } = await pair();
    alice.events.commits[0]?.committed({ seq: 3, epoch: 1 });
    bob.crypto.joined(1);
    bob.crypto.welcome(3, alice.events.commits[0]?.body.welcome ?? '');
    bob.crypto.synced();
    await until(() => alice.crypto.readyToSend(), 'alice ready');
    const id = alice.send('said before the restart');
    await until(() => alice.events.sent.length === 1, 'written');
    await alice.crypto.idle();
    // Stopped before the ack: the stored state has spent the line's key, its seq is before it.
    const stored = await alice.options.store.get(alice.host.storeName);
    const record = stored === undefined ? undefined : decodeGroupRecord(stored);
    expect(record?.lastSeq).toBe(3);
    const restarted = new RoomCrypto(alice.host, record);
    const line = msg(alice, 4, id, alice.events.sent[0]?.mls ?? '');
    const before = alice.events.messages.length;
    restarted.joined(1);
    restarted.item({ ...line, history: true });
    restarted.synced();
    await until(() => alice.events.states.filter((x) => x === 'encrypted').length >= 2, 'synced');
    await restarted.idle();
    expect(alice.events.messages.slice(before)).toEqual([]);
    // Taken in: the next restart does not even try it again.
    expect(restarted.lastSeq).toBe(4);
    // Someone else's spent ciphertext is still shown failed (a replay by the host).
    bob.crypto.item(msg(alice, 4, id, alice.events.sent[0]?.mls ?? ''));
    bob.crypto.item(msg(alice, 6, newMessageId(), alice.events.sent[0]?.mls ?? ''));
    await until(() => bob.events.messages.length === 2, 'bob saw both');
    expect(bob.events.messages[1]).toMatchObject({ e2ee: { status: 'failed', reason: 'replay' } });
  });

  it('shows a message that claims another sender as forged, and one under another id as tampered', async () => {
    const { alice, bob } = await pair();
    alice.events.commits[0]?.committed({ seq: 3, epoch: 1 });
    bob.crypto.joined(1);
    bob.crypto.welcome(3, alice.events.commits[0]?.body.welcome ?? '');
    bob.crypto.synced();
    await until(() => alice.crypto.readyToSend(), 'alice ready');
    const one = alice.send('one');
    alice.send('two');
    await until(() => alice.events.sent.length === 2, 'two written');
    // The host says bob's own key sent alice's first line; and moves the second under a new id.
    bob.crypto.item({ ...msg(alice, 4, one, alice.events.sent[0]?.mls ?? ''), key: bob.key });
    bob.crypto.item(msg(alice, 5, newMessageId(), alice.events.sent[1]?.mls ?? ''));
    await until(() => bob.events.messages.length === 2, 'both shown');
    expect(bob.events.messages.map((m) => m.e2ee)).toEqual([
      { status: 'failed', reason: 'forged' },
      { status: 'failed', reason: 'tampered' },
    ]);
    expect(bob.events.messages.map((m) => m.text)).toEqual(['', '']);
  });

  it('adopts its own commit seen in the replay after the connection dropped', async () => {
    const { alice } = await pair();
    const first = alice.events.commits[0];
    first?.refused(new MembershipError('disconnected', 'the connection ended'));
    await tick();
    expect(alice.events.states).not.toContain('encrypted');
    // Reconnected: the host's replay carries the commit with the same bytes.
    alice.crypto.joined(1);
    alice.crypto.item(commitItem(alice, 3, 0, first?.body.commit ?? ''));
    alice.crypto.synced();
    await until(() => alice.events.states.includes('encrypted'), 'alice encrypted');
    expect(alice.events.states).not.toContain('broken');
    expect(alice.events.failures).toEqual([]);
  });

  it('drops a group that lost the creation race and waits for the winner to add it', async () => {
    const { alice } = await pair();
    alice.events.commits[0]?.refused(
      new MembershipError('stale-epoch', 'another group was first', { epoch: 1 }),
    );
    await tick();
    expect(alice.crypto.encrypted).toBe(false);
    expect(alice.events.states.at(-1)).toBe('joining');
    expect(alice.crypto.readyToSend()).toBe(false);
  });

  it('breaks on a commit it cannot apply: drops the state, takes a new device, waits to be added', async () => {
    const { alice, bob } = await pair();
    const first = alice.events.commits[0];
    first?.committed({ seq: 3, epoch: 1 });
    bob.crypto.joined(1);
    bob.crypto.welcome(3, first?.body.welcome ?? '');
    bob.crypto.synced();
    await until(() => bob.events.states.includes('encrypted'), 'bob encrypted');
    expect(await bob.options.store.get(bob.host.storeName)).toBeDefined();
    // A commit for bob's epoch that does not apply (its bytes are another commit's, damaged).
    const damaged = (first?.body.commit ?? '').slice(0, -8) + 'AAAAAAAA';
    bob.crypto.item(commitItem(alice, 4, 1, damaged));
    await until(() => bob.events.states.at(-1) === 'joining', 'bob waits to be added again');
    expect(bob.events.states.slice(-2)).toEqual(['broken', 'joining']);
    expect(bob.events.rotations).toBe(1);
    expect(await bob.options.store.get(bob.host.storeName)).toBeUndefined();
    expect(bob.crypto.readyToSend()).toBe(false);
  });

  it('never shows a message from an epoch the group has left, though MLS could still open it', async () => {
    const { alice, bob, aliceDevice, bobDevice } = await pair();
    const first = alice.events.commits[0];
    first?.committed({ seq: 3, epoch: 1 });
    bob.crypto.joined(1);
    bob.crypto.welcome(3, first?.body.welcome ?? '');
    bob.crypto.synced();
    await until(() => alice.crypto.readyToSend(), 'alice ready');
    const early = alice.send('said at epoch 1');
    await until(() => alice.events.sent.length === 1, 'written');
    // carol joins: alice commits her in (epoch 1 → 2), and bob applies that commit.
    const carol = await member('carol');
    const carolKp = await carol.keyPackage();
    const carolDevice = carol.options.device.deviceText;
    alice.setMembers([alice.key, bob.key, carol.key]);
    alice.setClaim(() => ({
      devices: [
        { key: alice.key, device: aliceDevice },
        { key: bob.key, device: bobDevice },
        { key: carol.key, device: carolDevice },
      ],
      kps: [{ key: carol.key, device: carolDevice, kp: carolKp }],
    }));
    alice.crypto.membershipChanged();
    await until(() => alice.events.commits.length === 2, "alice's second commit");
    const second = alice.events.commits[1];
    second?.committed({ seq: 5, epoch: 2 });
    bob.crypto.item(commitItem(alice, 5, 1, second?.body.commit ?? ''));
    // The host hands bob the epoch-1 line only now, after the commit.
    bob.crypto.item(msg(alice, 6, early, alice.events.sent[0]?.mls ?? ''));
    await until(() => bob.events.messages.length === 1, 'shown');
    expect(bob.events.messages[0]).toMatchObject({
      text: '',
      e2ee: { status: 'failed', reason: 'tampered' },
    });
  });

  it('after a send refused at its own epoch, holds sends and moves the epoch on itself', async () => {
    const { alice, bob } = await pair();
    alice.events.commits[0]?.committed({ seq: 3, epoch: 1 });
    bob.crypto.joined(1);
    await until(() => alice.crypto.readyToSend(), 'alice ready');
    // The host wants the epoch moved before it takes more (a member left): stale-epoch at 1.
    alice.crypto.sendRefused(1);
    expect(alice.crypto.readyToSend()).toBe(false);
    await until(() => alice.events.commits.length === 2, 'a commit that moves the epoch');
    expect(alice.events.commits[1]?.body.welcome).toBeUndefined();
    expect(alice.crypto.readyToSend()).toBe(false);
    alice.events.commits[1]?.committed({ seq: 5, epoch: 2 });
    await until(() => alice.crypto.readyToSend(), 'alice sends again after it');
  });

  it("does not show a join's replayed history from before this device was added; a live line it cannot read is shown failed", async () => {
    const { alice, bob } = await pair();
    alice.events.commits[0]?.committed({ seq: 3, epoch: 1 });
    await until(() => alice.crypto.readyToSend(), 'alice ready');
    const id = alice.send('before bob was added');
    await until(() => alice.events.sent.length === 1, 'written');
    const mls = alice.events.sent[0]?.mls ?? '';
    bob.crypto.joined(1);
    bob.crypto.item({ ...msg(alice, 4, id, mls), history: true });
    bob.crypto.synced();
    await bob.crypto.idle();
    expect(bob.events.messages).toEqual([]);
    bob.crypto.item(msg(alice, 5, newMessageId(), mls));
    await until(() => bob.events.messages.length === 1, 'the live line');
    expect(bob.events.messages[0]?.e2ee).toEqual({ status: 'failed', reason: 'not-in-group' });
  });

  it('keeps the group state with the seq it reached, in one stored value', () => {
    const state = new Uint8Array([1, 2, 3, 4]);
    const record = decodeGroupRecord(encodeGroupRecord({ lastSeq: 1234, state }));
    expect(record?.lastSeq).toBe(1234);
    expect(record?.state).toEqual(state);
    expect(decodeGroupRecord(state)).toBeUndefined();
  });
  it('a damaged stored group makes the device rotate, since nobody re-adds a device already in the group', async () => {
    const alice = await member('alice');
    const damaged = { lastSeq: 7, state: new Uint8Array([1, 2, 3, 4]) };
    const crypto = new RoomCrypto(alice.host, damaged);
    await crypto.idle();
    expect(alice.events.rotations).toBe(1);
    expect(alice.events.states).toEqual(['broken', 'joining']);
  });

  it("another device's stored group (this install rotated since) waits to be added, without rotating again", async () => {
    const alice = await member('alice');
    const other = await member('other');
    const group = await RoomGroup.create(
      other.options.suite,
      other.options.device,
      other.options.pins,
    );
    const crypto = new RoomCrypto(alice.host, { lastSeq: 3, state: group.encode() });
    await crypto.idle();
    expect(alice.events.rotations).toBe(0);
    expect(crypto.encrypted).toBe(false);
  });
});
