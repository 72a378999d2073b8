import { describe, expect, it } from 'vitest';
import type { E2eeOptions } from '../../../src-main/client/e2ee/e2ee-options.ts';
import { type GroupRecord, decodeGroupRecord } from '../../../src-main/client/e2ee/group-record.ts';
import type { ClaimAnswer } from '../../../src-main/client/e2ee/reconcile-diff.ts';
import { RoomCrypto, type RoomCryptoHost } from '../../../src-main/client/e2ee/room-crypto.ts';
import type { MembershipError } from '../../../src-main/client/membership-requests.ts';
import { type OutboxEntry, newMessageId } from '../../../src-main/client/outbox.ts';
import type {
  EncryptionState,
  KeyChanged,
  SessionMessage,
} from '../../../src-main/client/session-events.ts';
import { deviceFrom, loadOrCreateDevice } from '../../../src-main/e2ee/device-identity.ts';
import { memoryE2eeStore } from '../../../src-main/e2ee/e2ee-store.ts';
import { makeKeyPackages } from '../../../src-main/e2ee/key-packages.ts';
import { loadSuite } from '../../../src-main/e2ee/mls-suite.ts';
import { memoryPersonPins } from '../../../src-main/e2ee/person-pins.ts';
import { encodeBase64Url } from '../../../src-shared/base64url.ts';
import { fingerprint } from '../../../src-shared/fingerprint.ts';
import { newKeyPair } from '../../support/loopback.ts';

// Review (R1) of #16: what a hostile host can make a member's client show, by moving real MLS
// data (a Welcome, a ciphertext) from one room to another. One RoomCrypto per (member, room),
// against a scripted session; the test plays the host.

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

interface CommitCall {
  body: { commit: string; welcome?: string; to?: string[] };
  committed: (answer: { seq: number; epoch: number }) => void;
  refused: (error: MembershipError) => void;
}

interface Person {
  readonly nick: string;
  readonly key: string;
  readonly options: E2eeOptions;
}

async function person(nick: string): Promise<Person & { identity: ReturnType<typeof newKeyPair> }> {
  const identity = newKeyPair();
  const store = memoryE2eeStore();
  const device = await loadOrCreateDevice(store, identity);
  return {
    nick,
    identity,
    key: encodeBase64Url(identity.publicKey),
    options: { device, store, pins: memoryPersonPins(), suite: await loadSuite() },
  };
}

/** One person's crypto for one room. */
function roomOf(who: Person, room: string, memberKeys: string[], stored?: GroupRecord) {
  const events = {
    messages: [] as SessionMessage[],
    states: [] as EncryptionState['state'][],
    commits: [] as CommitCall[],
    sent: [] as { id: string; mls: string }[],
    failures: [] as string[],
    keyChanged: [] as KeyChanged[],
  };
  let claim: (have: string[]) => ClaimAnswer = () => ({ devices: [], kps: [] });
  const members = new Set(memberKeys);
  const queued = new Map<string, OutboxEntry>();
  const ref: { crypto?: RoomCrypto } = {};
  const connection = {};
  const host: RoomCryptoHost = {
    room,
    storeName: `group/test/${room}`,
    ownKey: who.key,
    options: () => who.options,
    connection: () => connection,
    synced: () => true,
    memberKeys: () => members,
    onlineKeys: () => members,
    emitMessage: (m) => events.messages.push(m),
    emitEvent: () => undefined,
    emitSynced: () => undefined,
    emitEncryption: (s) => events.states.push(s.state),
    emitDevices: () => undefined,
    emitKeyChanged: (change) => events.keyChanged.push(change),
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
    rotateDevice: () => Promise.resolve(),
    random: () => 0,
    now: () => Date.now(),
  };
  const crypto = new RoomCrypto(host, stored);
  ref.crypto = crypto;
  return {
    who,
    room,
    events,
    crypto,
    send(text: string): string {
      const entry = { id: newMessageId(), room, text, queuedAt: 0 };
      queued.set(entry.id, entry);
      crypto.send(entry);
      return entry.id;
    },
    setClaim: (answer: typeof claim) => (claim = answer),
    addMember: (key: string) => members.add(key),
  };
}

async function until(check: () => boolean, what: string): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > 5000) throw new Error(`timed out waiting for ${what}`);
    await tick();
  }
}

function msg(room: string, from: Person, seq: number, id: string, mls: string) {
  return {
    t: 'msg' as const,
    room,
    seq,
    id,
    from: from.nick,
    key: from.key,
    mls,
    ts: 1_700_000_000_000,
  };
}

/** `creator` makes `room`'s group and adds `other`: the commit's Welcome, and creator's room. */
async function groupFor(room: string, creator: Person, other: Person) {
  const [kp] = await makeKeyPackages(
    other.options.suite,
    other.options.device,
    other.options.store,
    1,
  );
  const mine = roomOf(creator, room, [creator.key, other.key]);
  mine.setClaim(() => ({
    devices: [
      { key: creator.key, device: creator.options.device.deviceText },
      { key: other.key, device: other.options.device.deviceText },
    ],
    kps: [{ key: other.key, device: other.options.device.deviceText, kp: kp ?? '' }],
  }));
  mine.crypto.joined(0);
  mine.crypto.synced();
  await until(() => mine.events.commits.length === 1, `${creator.nick}'s first commit in ${room}`);
  const first = mine.events.commits[0];
  first?.committed({ seq: 3, epoch: 1 });
  await until(() => mine.crypto.readyToSend(), `${creator.nick} ready in ${room}`);
  return { mine, welcome: first?.body.welcome ?? '' };
}

describe('review: a host moving MLS data between rooms', () => {
  it("does not take one room's Welcome in another room, nor show that room's lines there", async () => {
    const alice = await person('alice');
    const bob = await person('bob');
    // alice and bob share two private rooms: a DM-like "lobby" and a "work" room. The host hands
    // bob lobby's Welcome when he joins "work" (and not in lobby at all).
    const { mine: aliceLobby, welcome } = await groupFor('lobby', alice, bob);
    const bobWork = roomOf(bob, 'work', [alice.key, bob.key]);
    bobWork.crypto.joined(1);
    bobWork.crypto.welcome(3, welcome);
    bobWork.crypto.synced();
    await bobWork.crypto.idle();

    // alice says something in lobby; the host relays its ciphertext into "work" as hers.
    const id = aliceLobby.send('said in lobby only');
    await until(() => aliceLobby.events.sent.length === 1, 'alice wrote it');
    bobWork.crypto.item(msg('work', alice, 4, id, aliceLobby.events.sent[0]?.mls ?? ''));
    await until(() => bobWork.events.messages.length === 1, 'bob was shown something in work');
    await bobWork.crypto.idle();
    expect(bobWork.events.messages.map((m) => m.text)).not.toContain('said in lobby only');
    expect(bobWork.events.messages[0]?.e2ee?.status).toBe('failed');
    // bob's "work" room is not set up with lobby's group: what he says there is not sealed to it.
    expect(bobWork.crypto.encrypted).toBe(false);
  });

  it('control: the same Welcome and line in their own room are read', async () => {
    const alice = await person('alice');
    const bob = await person('bob');
    const { mine: aliceLobby, welcome } = await groupFor('lobby', alice, bob);
    const bobLobby = roomOf(bob, 'lobby', [alice.key, bob.key]);
    bobLobby.crypto.joined(1);
    bobLobby.crypto.welcome(3, welcome);
    bobLobby.crypto.synced();
    const id = aliceLobby.send('said in lobby only');
    await until(() => aliceLobby.events.sent.length === 1, 'alice wrote it');
    bobLobby.crypto.item(msg('lobby', alice, 4, id, aliceLobby.events.sent[0]?.mls ?? ''));
    await until(() => bobLobby.events.messages.length === 1, 'bob read it');
    expect(bobLobby.events.messages[0]).toMatchObject({
      text: 'said in lobby only',
      e2ee: { status: 'ok' },
    });
  });
});

describe('review: a ghost device under our own key', () => {
  it("is flagged as a changed key to its owner, and the owner's real device is not", async () => {
    const alice = await person('alice');
    const bob = await person('bob');
    const [bobKp] = await makeKeyPackages(
      bob.options.suite,
      bob.options.device,
      bob.options.store,
      1,
    );
    // The host invents a device for alice's Parley key, vouched for by a person key of its own
    // (it does not have alice's private identity key, so it cannot make her real person key).
    const ghostIdentity = {
      publicKey: alice.identity.publicKey,
      privateKey: newKeyPair().privateKey,
    };
    const ghostStore = memoryE2eeStore();
    const ghost = deviceFrom(ghostIdentity, crypto.getRandomValues(new Uint8Array(32)));
    const [ghostKp] = await makeKeyPackages(alice.options.suite, ghost, ghostStore, 1);
    const ghostPerson = encodeBase64Url(ghost.personKey);
    const alicePerson = encodeBase64Url(alice.options.device.personKey);
    expect(ghostPerson).not.toBe(alicePerson);

    const mine = roomOf(alice, 'lobby', [alice.key, bob.key]);
    mine.setClaim(() => ({
      devices: [
        { key: alice.key, device: alice.options.device.deviceText },
        { key: alice.key, device: ghost.deviceText },
        { key: bob.key, device: bob.options.device.deviceText },
      ],
      kps: [
        { key: alice.key, device: ghost.deviceText, kp: ghostKp ?? '' },
        { key: bob.key, device: bob.options.device.deviceText, kp: bobKp ?? '' },
      ],
    }));
    mine.crypto.joined(0);
    mine.crypto.synced();
    await until(() => mine.events.commits.length === 1, "alice's first commit");
    mine.events.commits[0]?.committed({ seq: 3, epoch: 1 });
    await until(() => mine.events.states.includes('encrypted'), 'alice encrypted');
    await mine.crypto.idle();
    // alice is told: a device under her key speaks for another person (the ghost's key).
    expect(mine.events.keyChanged).toContainEqual(
      expect.objectContaining({ key: alice.key, person: ghostPerson }),
    );
    // Her own device is not the one flagged, and her pin still names her own person key.
    expect(mine.events.keyChanged.map((c) => c.person)).not.toContain(alicePerson);
    expect(alice.options.pins.personOf(alice.key)).toBe(alicePerson);
  });
});

describe('review: a crash while our commit is on its way', () => {
  it('keeps the group when the host took the commit and the device stopped before `committed`', async () => {
    const alice = await person('alice');
    const bob = await person('bob');
    const carol = await person('carol');
    const { mine: aliceLobby, welcome } = await groupFor('lobby', alice, bob);
    const bobLobby = roomOf(bob, 'lobby', [alice.key, bob.key]);
    bobLobby.crypto.joined(1);
    bobLobby.crypto.welcome(3, welcome);
    bobLobby.crypto.synced();
    await bobLobby.crypto.idle();
    await aliceLobby.crypto.idle();

    // carol joins: alice's reconcile commits her in; the host stores the commit (seq 5)…
    const [carolKp] = await makeKeyPackages(
      carol.options.suite,
      carol.options.device,
      carol.options.store,
      1,
    );
    aliceLobby.setClaim(() => ({
      devices: [
        { key: alice.key, device: alice.options.device.deviceText },
        { key: bob.key, device: bob.options.device.deviceText },
        { key: carol.key, device: carol.options.device.deviceText },
      ],
      kps: [{ key: carol.key, device: carol.options.device.deviceText, kp: carolKp ?? '' }],
    }));
    aliceLobby.crypto.membershipChanged();
    await until(() => aliceLobby.events.commits.length === 2, "alice's commit adding carol");
    await aliceLobby.crypto.idle();
    const commit = aliceLobby.events.commits[1]?.body.commit ?? '';

    // …and alice's app stops before its `committed` answer is processed. It starts again on
    // its store; the join's replay holds her own commit.
    const bytes = await alice.options.store.get('group/test/lobby');
    const record = bytes === undefined ? undefined : decodeGroupRecord(bytes);
    expect(record).toBeDefined();
    const restarted = roomOf(alice, 'lobby', [alice.key, bob.key, carol.key], record);
    restarted.crypto.joined(2);
    restarted.crypto.item({
      t: 'commit',
      room: 'lobby',
      seq: 5,
      ts: 1_700_000_000_000,
      from: alice.nick,
      key: alice.key,
      epoch: 1,
      data: commit,
    });
    restarted.crypto.synced();
    await until(() => restarted.events.states.length > 0, 'the restarted room reports a state');
    await restarted.crypto.idle();
    expect(restarted.events.states).not.toContain('broken');
    expect(restarted.events.states.at(-1)).toBe('encrypted');
  });
});

describe('review: who a decrypted line is shown from', () => {
  it("shows the fingerprint of the key the line was checked against, not the host's", async () => {
    const alice = await person('alice');
    const bob = await person('bob');
    const { mine: aliceLobby, welcome } = await groupFor('lobby', alice, bob);
    const bobLobby = roomOf(bob, 'lobby', [alice.key, bob.key]);
    bobLobby.crypto.joined(1);
    bobLobby.crypto.welcome(3, welcome);
    bobLobby.crypto.synced();
    const id = aliceLobby.send('genuinely from alice');
    await until(() => aliceLobby.events.sent.length === 1, 'alice wrote it');
    // The host relays alice's genuine line with bob's nickname (since wire v5 it sends no
    // fingerprint to lie with: the client derives it from the key).
    bobLobby.crypto.item({
      ...msg('lobby', alice, 4, id, aliceLobby.events.sent[0]?.mls ?? ''),
      from: 'bob',
    });
    await until(() => bobLobby.events.messages.length === 1, 'bob was shown it');
    const shown = bobLobby.events.messages[0];
    expect(shown?.e2ee?.status).toBe('ok');
    expect(shown?.fp).toBe(fingerprint(alice.identity.publicKey));
  });
});

describe('review: an ack ahead of the timeline', () => {
  it('does not make the group skip a commit that arrives after it (a gap being filled)', async () => {
    const alice = await person('alice');
    const bob = await person('bob');
    const carol = await person('carol');
    const { mine: aliceLobby, welcome } = await groupFor('lobby', alice, bob);
    const bobLobby = roomOf(bob, 'lobby', [alice.key, bob.key, carol.key]);
    bobLobby.crypto.joined(1);
    bobLobby.crypto.welcome(3, welcome);
    bobLobby.crypto.synced();
    await bobLobby.crypto.idle();
    await aliceLobby.crypto.idle();
    // alice adds carol: her commit is stored at seq 5 (epoch 1 → 2).
    const [carolKp] = await makeKeyPackages(
      carol.options.suite,
      carol.options.device,
      carol.options.store,
      1,
    );
    aliceLobby.setClaim(() => ({
      devices: [
        { key: alice.key, device: alice.options.device.deviceText },
        { key: bob.key, device: bob.options.device.deviceText },
        { key: carol.key, device: carol.options.device.deviceText },
      ],
      kps: [{ key: carol.key, device: carol.options.device.deviceText, kp: carolKp ?? '' }],
    }));
    aliceLobby.addMember(carol.key);
    aliceLobby.crypto.membershipChanged();
    await until(() => aliceLobby.events.commits.length === 2, "alice's commit adding carol");
    const commit = aliceLobby.events.commits[1];
    commit?.committed({ seq: 5, epoch: 2 });
    await until(() => aliceLobby.crypto.readyToSend(), 'alice ready at epoch 2');

    // bob missed seq 5 live (a gap his session fills); meanwhile his own line was stored at 6
    // and acked. Then the gap's commit comes.
    bobLobby.crypto.acked(6);
    bobLobby.crypto.item({
      t: 'commit',
      room: 'lobby',
      seq: 5,
      ts: 1_700_000_000_000,
      from: alice.nick,
      key: alice.key,
      epoch: 1,
      data: commit?.body.commit ?? '',
    });
    const id = aliceLobby.send('said at epoch 2');
    await until(() => aliceLobby.events.sent.length === 1, 'alice wrote it');
    bobLobby.crypto.item(msg('lobby', alice, 7, id, aliceLobby.events.sent[0]?.mls ?? ''));
    await until(() => bobLobby.events.messages.length === 1, 'bob was shown it');
    expect(bobLobby.events.messages[0]).toMatchObject({
      text: 'said at epoch 2',
      e2ee: { status: 'ok' },
    });
  });
});

describe('review: a Welcome with a seq far ahead', () => {
  it('does not make the room skip every later commit and line for good', async () => {
    const alice = await person('alice');
    const bob = await person('bob');
    const carol = await person('carol');
    const { mine: aliceLobby, welcome } = await groupFor('lobby', alice, bob);
    const bobLobby = roomOf(bob, 'lobby', [alice.key, bob.key, carol.key]);
    bobLobby.crypto.joined(1);
    // The host hands bob the real Welcome, numbered as if the room were 2^40 items long.
    bobLobby.crypto.welcome(2 ** 40, welcome);
    bobLobby.crypto.synced();
    await bobLobby.crypto.idle();
    await aliceLobby.crypto.idle();
    const [carolKp] = await makeKeyPackages(
      carol.options.suite,
      carol.options.device,
      carol.options.store,
      1,
    );
    aliceLobby.setClaim(() => ({
      devices: [
        { key: alice.key, device: alice.options.device.deviceText },
        { key: bob.key, device: bob.options.device.deviceText },
        { key: carol.key, device: carol.options.device.deviceText },
      ],
      kps: [{ key: carol.key, device: carol.options.device.deviceText, kp: carolKp ?? '' }],
    }));
    aliceLobby.addMember(carol.key);
    aliceLobby.crypto.membershipChanged();
    await until(() => aliceLobby.events.commits.length === 2, "alice's commit adding carol");
    const commit = aliceLobby.events.commits[1];
    commit?.committed({ seq: 5, epoch: 2 });
    await until(() => aliceLobby.crypto.readyToSend(), 'alice ready at epoch 2');
    bobLobby.crypto.item({
      t: 'commit',
      room: 'lobby',
      seq: 5,
      ts: 1_700_000_000_000,
      from: alice.nick,
      key: alice.key,
      epoch: 1,
      data: commit?.body.commit ?? '',
    });
    const id = aliceLobby.send('said at epoch 2');
    await until(() => aliceLobby.events.sent.length === 1, 'alice wrote it');
    bobLobby.crypto.item(msg('lobby', alice, 6, id, aliceLobby.events.sent[0]?.mls ?? ''));
    await bobLobby.crypto.idle();
    await tick();
    expect(bobLobby.events.messages.map((m) => m.text)).toEqual(['said at epoch 2']);
  });
});
