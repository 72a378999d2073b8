import type { Socket } from 'node:net';
import net from 'node:net';
import type { ChatSessionOptions } from '../../src-main/client/chat-session.ts';
import type { SessionMessage } from '../../src-main/client/session-events.ts';
import { type DeviceIdentity, loadOrCreateDevice } from '../../src-main/e2ee/device-identity.ts';
import { type E2eeStore, memoryE2eeStore } from '../../src-main/e2ee/e2ee-store.ts';
import { loadSuite } from '../../src-main/e2ee/mls-suite.ts';
import { memoryPersonPins } from '../../src-main/e2ee/person-pins.ts';
import type { KeyPair } from '../../src-main/protocol/crypto/crypto-backend.ts';
import { encodeBase64Url } from '../../src-shared/base64url.ts';
import { type HostProcess, spawnHost } from './host-process.ts';
import type { Cleanups } from './lifecycle.ts';
import { newKeyPair } from './loopback.ts';
import { recordedSession } from './recorded-session.ts';
import { tokenOf } from './wire-client.ts';

/**
 * #17's conversation against a real host process, in either kind of room: `plaintext` (the
 * host reads and checks every event) or `e2ee` (MLS; the host sees only `rel` and `file`).
 * Members are installs (an identity and, for e2ee, a device with its store) whose sessions can
 * be stopped and started again, as a restart of the app would.
 */
export type RoomKind = 'plaintext' | 'e2ee';
export const ROOM = 'lobby';

export interface Install {
  readonly nick: string;
  readonly identity: KeyPair;
  readonly key: string;
  readonly store: E2eeStore;
  readonly device: DeviceIdentity;
  readonly pins: ReturnType<typeof memoryPersonPins>;
}

export async function conversationHost(cleanups: Cleanups, kind: RoomKind): Promise<HostProcess> {
  const h = await spawnHost({
    e2ee: kind === 'e2ee',
    limits: { messagesPerSecond: 1000, messageBurst: 1000 },
  });
  cleanups.push(() => h.stop());
  return h;
}

export async function newInstall(nick: string, identity = newKeyPair()): Promise<Install> {
  const store = memoryE2eeStore();
  return {
    nick,
    identity,
    key: encodeBase64Url(identity.publicKey),
    store,
    device: await loadOrCreateDevice(store, identity),
    pins: memoryPersonPins(),
  };
}

/** A session of `install`, started and synced (for e2ee: in the room's group). */
export async function startSession(
  cleanups: Cleanups,
  h: HostProcess,
  kind: RoomKind,
  install: Install,
  options: { invite?: string; session?: Partial<ChatSessionOptions> } = {},
) {
  const token = options.invite ? tokenOf(options.invite) : undefined;
  const sockets: Socket[] = [];
  const e2ee: ChatSessionOptions['e2ee'] | undefined =
    kind === 'e2ee'
      ? {
          device: install.device,
          store: install.store,
          pins: install.pins,
          suite: await loadSuite(),
        }
      : undefined;
  const session = await recordedSession(
    cleanups,
    { address: { host: '127.0.0.1', port: h.port }, hostKey: h.publicKey },
    {
      identity: install.identity,
      nick: install.nick,
      ...(e2ee ? { e2ee } : {}),
      ...(token ? { inviteToken: token } : {}),
      connect: (address) => {
        const socket = net.connect({ host: address.host, port: address.port });
        sockets.push(socket);
        return socket;
      },
      ...options.session,
    },
  );
  const encryption: string[] = [];
  session.s.on('encryption', (state) => {
    if (state.room === ROOM) encryption.push(state.state);
  });
  session.s.start();
  await session.wait(
    () =>
      kind === 'e2ee'
        ? encryption.includes('encrypted')
        : session.of('synced').some((e) => e.room === ROOM),
    `${install.nick} ready in #${ROOM}`,
    30_000,
  );
  return {
    ...session,
    install,
    /** Bytes the session has written to the host so far (all connections). */
    bytesWritten: () => sockets.reduce((sum, socket) => sum + socket.bytesWritten, 0),
    /** The message with this client id, once delivered. */
    byId: (id: string): SessionMessage | undefined =>
      session.of('message').find((m) => m.id === id),
    /** The seq the host gave our message `id` (its ack). */
    seqOf: async (id: string): Promise<number> => {
      await session.wait(() => session.of('ack').some((a) => a.id === id), `ack of ${id}`, 30_000);
      return session.of('ack').find((a) => a.id === id)?.seq ?? -1;
    },
  };
}
export type Session = Awaited<ReturnType<typeof startSession>>;

/** Waits for the message `id` to reach `s`, and returns it. */
export async function received(s: Session, id: string, what: string): Promise<SessionMessage> {
  await s.wait(() => s.byId(id) !== undefined, what, 30_000);
  const message = s.byId(id);
  if (!message) throw new Error(what);
  return message;
}

/** Two members in one room of `kind`: alice owns it, bob was invited; both ready (in the group). */
export async function pair(cleanups: Cleanups, kind: RoomKind) {
  const h = await conversationHost(cleanups, kind);
  const owner = h.startInvites.find((invite) => invite.role === 'owner')?.link;
  const aliceInstall = await newInstall('alice');
  const bobInstall = await newInstall('bob');
  const alice = await startSession(cleanups, h, kind, aliceInstall, { invite: owner });
  const bob = await startSession(cleanups, h, kind, bobInstall, { invite: h.memberInvite });
  if (kind === 'e2ee') {
    // Both in the group: a line each way is read.
    const hello = alice.s.send(ROOM, 'alice: hello');
    await received(bob, hello, 'bob reads alice');
    const back = bob.s.send(ROOM, 'bob: hello');
    await received(alice, back, 'alice reads bob');
  }
  return { h, alice, bob, aliceInstall, bobInstall };
}
