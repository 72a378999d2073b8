import { describe, expect, it } from 'vitest';
import type { ChatSessionOptions } from '../../../src-main/client/chat-session.ts';
import type { SessionMessage } from '../../../src-main/client/session-events.ts';
import { encodeBase64Url } from '../../../src-shared/base64url.ts';
import { parseInvite } from '../../../src-shared/invite.ts';
import { loadOrCreateDevice } from '../../../src-main/e2ee/device-identity.ts';
import { memoryE2eeStore } from '../../../src-main/e2ee/e2ee-store.ts';
import { loadSuite } from '../../../src-main/e2ee/mls-suite.ts';
import { memoryPersonPins } from '../../../src-main/e2ee/person-pins.ts';
import { type HostProcessOptions, spawnHost } from '../../support/host-process.ts';
import { cleanupsAfterEach } from '../../support/lifecycle.ts';
import { newKeyPair } from '../../support/loopback.ts';
import { recordedSession } from '../../support/recorded-session.ts';

// Two line-client-like sessions against a real host that makes its rooms end-to-end
// encrypted: each joins the room's MLS group (one creates it, the other is added by a commit
// and a Welcome), and each reads what the other wrote — decrypted, with the sender's device.

const cleanups = cleanupsAfterEach();

function tokenOf(link: string | undefined): string {
  const parsed = link === undefined ? undefined : parseInvite(link);
  if (!parsed?.ok || parsed.value.token === undefined) throw new Error('no invite token');
  return parsed.value.token;
}

async function member(
  h: Awaited<ReturnType<typeof spawnHost>>,
  nick: string,
  invite: string | undefined,
) {
  const identity = newKeyPair();
  const store = memoryE2eeStore();
  const device = await loadOrCreateDevice(store, identity);
  const e2ee: ChatSessionOptions['e2ee'] = {
    device,
    store,
    pins: memoryPersonPins(),
    suite: await loadSuite(),
  };
  const session = await recordedSession(
    cleanups,
    { address: { host: '127.0.0.1', port: h.port }, hostKey: h.publicKey },
    { identity, nick, inviteToken: tokenOf(invite), e2ee },
  );
  const encryption: string[] = [];
  session.s.on('encryption', (state) => {
    if (state.room === 'lobby') encryption.push(state.state);
  });
  session.s.start();
  return { ...session, device, encryption };
}

describe('an end-to-end encrypted room between two sessions', () => {
  it('each reads what the other wrote, decrypted and attributed to its device', async () => {
    const options: HostProcessOptions & { e2ee?: boolean } = {
      e2ee: true,
      limits: { messagesPerSecond: 1000, messageBurst: 1000 },
    };
    const h = await spawnHost(options);
    cleanups.push(() => h.stop());
    const owner = h.startInvites.find((invite) => invite.role === 'owner')?.link;
    const alice = await member(h, 'alice', owner);
    const bob = await member(h, 'bob', h.memberInvite);

    await alice.wait(() => alice.encryption.includes('encrypted'), 'alice in the group', 30_000);
    await bob.wait(() => bob.encryption.includes('encrypted'), 'bob in the group', 30_000);

    const shown = (of: typeof alice, text: string): SessionMessage | undefined =>
      of.of('message').find((m) => m.text === text);
    alice.s.send('lobby', 'hello bob, only you can read this');
    await bob.wait(
      () => shown(bob, 'hello bob, only you can read this') !== undefined,
      'bob reads alice',
      30_000,
    );
    bob.s.send('lobby', 'hello alice');
    await alice.wait(() => shown(alice, 'hello alice') !== undefined, 'alice reads bob', 30_000);

    const toBob = shown(bob, 'hello bob, only you can read this');
    expect(toBob?.from).toBe('alice');
    expect(toBob?.e2ee).toMatchObject({
      status: 'ok',
      device: alice.device.deviceText,
      person: encodeBase64Url(alice.device.personKey),
    });
    expect(toBob).not.toHaveProperty('mls');
    expect(shown(alice, 'hello alice')?.e2ee).toMatchObject({
      status: 'ok',
      device: bob.device.deviceText,
    });
    // Older pages of an encrypted room could not be read: the session answers "no more" itself.
    expect(bob.s.loadOlder('lobby', 1000, 50)).toBe(true);
    await bob.wait(() => bob.of('history-end').length === 1, 'no more history', 5_000);
    expect(bob.of('history-end')[0]).toEqual({ room: 'lobby', more: false });
    // Nothing failed to decrypt, and no encryption step failed.
    for (const session of [alice, bob]) {
      expect(session.of('message').filter((m) => m.e2ee?.status === 'failed')).toEqual([]);
      expect(session.of('error').filter((e) => e.code.startsWith('e2ee'))).toEqual([]);
    }
  }, 60_000);

  it('a session without encryption keys is told so and does not stay in the room', async () => {
    const options: HostProcessOptions & { e2ee?: boolean } = { e2ee: true };
    const h = await spawnHost(options);
    cleanups.push(() => h.stop());
    const plain = await recordedSession(
      cleanups,
      { address: { host: '127.0.0.1', port: h.port }, hostKey: h.publicKey },
      { nick: 'carol', inviteToken: tokenOf(h.memberInvite) },
    );
    plain.s.start();
    await plain.wait(
      () => plain.of('error').some((e) => e.code === 'e2ee-unavailable'),
      'e2ee-unavailable',
      15_000,
    );
    expect(plain.of('error').find((e) => e.code === 'e2ee-unavailable')?.room).toBe('lobby');
    expect(plain.s.rooms).not.toContain('lobby');
    expect(plain.of('synced')).toEqual([]);
  }, 30_000);
});
