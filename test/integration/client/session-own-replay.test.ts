import { describe, expect, it } from 'vitest';
import type { ChatSessionOptions } from '../../../src-main/client/chat-session.ts';
import type { SessionMessage } from '../../../src-main/client/session-events.ts';
import {
  decodeGroupRecord,
  encodeGroupRecord,
} from '../../../src-main/client/e2ee/group-record.ts';
import { type DeviceIdentity, loadOrCreateDevice } from '../../../src-main/e2ee/device-identity.ts';
import { type E2eeStore, memoryE2eeStore } from '../../../src-main/e2ee/e2ee-store.ts';
import { loadSuite } from '../../../src-main/e2ee/mls-suite.ts';
import { memoryPersonPins } from '../../../src-main/e2ee/person-pins.ts';
import type { KeyPair } from '../../../src-main/protocol/crypto/crypto-backend.ts';
import { parseInvite } from '../../../src-shared/invite.ts';
import { type HostProcessOptions, spawnHost } from '../../support/host-process.ts';
import { cleanupsAfterEach } from '../../support/lifecycle.ts';
import { newKeyPair } from '../../support/loopback.ts';
import { recordedSession } from '../../support/recorded-session.ts';

// A device cannot decrypt its own MLS messages (their keys are spent when it sends them). After a
// restart the join's replay brings our own earlier lines back: they must not be shown as "could
// not be decrypted" (the desktop keeps them in its local history, the line client printed them
// when sent). Lines of the same person's OTHER device are still read and shown. A real host
// process, sessions restarted on the same E2EE store.
//
// The state is saved when a line is encrypted, and the seq it reached when the line's `ack` is
// processed: a device stopped (or killed) between the two starts again with its own lines after
// its stored seq. The test puts the stored seq back to before them, as such a stop leaves it.

const cleanups = cleanupsAfterEach();
type Host = Awaited<ReturnType<typeof spawnHost>>;

function tokenOf(link: string | undefined): string | undefined {
  if (link === undefined) return undefined;
  const parsed = parseInvite(link);
  if (!parsed.ok || parsed.value.token === undefined) throw new Error('no invite token');
  return parsed.value.token;
}

/** One install of a person: its Parley key, its device and the device's E2EE store. */
interface Install {
  identity: KeyPair;
  store: E2eeStore;
  device: DeviceIdentity;
}

async function newInstall(identity: KeyPair = newKeyPair()): Promise<Install> {
  const store = memoryE2eeStore();
  return { identity, store, device: await loadOrCreateDevice(store, identity) };
}

/** A session of `install`, started; `invite` only the first time. */
async function start(h: Host, nick: string, install: Install, invite?: string) {
  const e2ee: ChatSessionOptions['e2ee'] = {
    device: install.device,
    store: install.store,
    pins: memoryPersonPins(),
    suite: await loadSuite(),
  };
  const token = tokenOf(invite);
  const session = await recordedSession(
    cleanups,
    { address: { host: '127.0.0.1', port: h.port }, hostKey: h.publicKey },
    { identity: install.identity, nick, e2ee, ...(token ? { inviteToken: token } : {}) },
  );
  const encryption: string[] = [];
  session.s.on('encryption', (state) => {
    if (state.room === 'lobby') encryption.push(state.state);
  });
  session.s.start();
  await session.wait(() => encryption.includes('encrypted'), `${nick} in the group`, 30_000);
  return session;
}
type Session = Awaited<ReturnType<typeof start>>;

const shown = (s: Session, text: string): SessionMessage | undefined =>
  s.of('message').find((m) => m.text === text);
const failed = (s: Session) => s.of('message').filter((m) => m.e2ee?.status === 'failed');

async function untilShown(s: Session, text: string, what: string): Promise<void> {
  await s.wait(() => shown(s, text) !== undefined, what, 30_000);
}

describe('our own lines in an encrypted room after a restart', () => {
  it('are not shown as failed; a line of our other device is read', async () => {
    const options: HostProcessOptions & { e2ee?: boolean } = {
      e2ee: true,
      limits: { messagesPerSecond: 1000, messageBurst: 1000 },
    };
    const h = await spawnHost(options);
    cleanups.push(() => h.stop());
    const owner = h.startInvites.find((invite) => invite.role === 'owner')?.link;
    const aliceDesk = await newInstall();
    const aliceLaptop = await newInstall(aliceDesk.identity);
    const bobInstall = await newInstall();

    const desk = await start(h, 'alice', aliceDesk, owner);
    const bob = await start(h, 'bob', bobInstall, h.memberInvite);
    const laptop = await start(h, 'alice', aliceLaptop);
    // Bob's line is read by both of alice's devices: both are in the group.
    bob.s.send('lobby', 'bob: both of alice read this');
    await untilShown(desk, 'bob: both of alice read this', 'the desk reads bob');
    await untilShown(laptop, 'bob: both of alice read this', 'the laptop reads bob');

    desk.s.send('lobby', 'desk: first');
    desk.s.send('lobby', 'desk: second');
    for (const s of [bob, laptop]) {
      await untilShown(s, 'desk: second', 'the desk is read');
      expect(shown(s, 'desk: first')?.e2ee).toMatchObject({
        status: 'ok',
        device: aliceDesk.device.deviceText,
      });
    }
    await desk.wait(() => desk.of('ack').length >= 2, 'the desk acked', 10_000);
    await desk.s.stop();
    // As if the desk had stopped before its acks were processed: its state (own keys spent) is
    // saved, its seq is still that of bob's line.
    const name = (await aliceDesk.store.list('group/'))[0];
    const stored = name === undefined ? undefined : await aliceDesk.store.get(name);
    const record = stored === undefined ? undefined : decodeGroupRecord(stored);
    const bobSeq = shown(desk, 'bob: both of alice read this')?.seq;
    if (name === undefined || record === undefined || bobSeq === undefined) {
      throw new Error('no stored group');
    }
    expect(record.lastSeq).toBeGreaterThan(bobSeq);
    await aliceDesk.store.set(name, encodeGroupRecord({ lastSeq: bobSeq, state: record.state }));

    // While the desk is away, the laptop (same person, another device) speaks.
    laptop.s.send('lobby', 'laptop: while the desk was away');
    await untilShown(bob, 'laptop: while the desk was away', 'bob reads the laptop');

    // The desk starts again on its store: the replay holds its own lines and the laptop's.
    const again = await start(h, 'alice', aliceDesk);
    await untilShown(again, 'laptop: while the desk was away', 'the desk reads the laptop');
    expect(shown(again, 'laptop: while the desk was away')?.e2ee).toMatchObject({
      status: 'ok',
      device: aliceLaptop.device.deviceText,
    });
    again.s.send('lobby', 'desk: back');
    await untilShown(bob, 'desk: back', 'bob reads the desk after its restart');
    await again.wait(() => again.of('ack').length >= 1, 'the desk acked again', 10_000);
    await again.s.stop();

    // And once more, with nothing new in between: every line of ours comes back in the replay.
    const third = await start(h, 'alice', aliceDesk);
    await third.wait(() => third.of('synced').length >= 1, 'synced', 10_000);
    // Our own lines are not shown again by the session (the UI has them), failed or otherwise.
    for (const s of [again, third]) {
      expect(s.of('message').filter((m) => m.text.startsWith('desk: ') || m.text === '')).toEqual(
        [],
      );
    }
    for (const s of [desk, again, third]) expect(failed(s)).toEqual([]);
    for (const s of [bob, laptop]) expect(failed(s)).toEqual([]);
  }, 120_000);
});
