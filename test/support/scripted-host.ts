import { fingerprint } from '../../src-shared/fingerprint.ts';
import { ChatSession, type ChatSessionOptions } from '../../src-main/client/chat-session.ts';
import type { HostVerifier } from '../../src-main/client/host-trust.ts';
import type { ChatSessionEvents } from '../../src-main/client/session-events.ts';
import type { SecureChannel } from '../../src-main/protocol/secure-channel.ts';
import { encodeMessage } from '../../src-main/protocol/wire/codec.ts';
import {
  type ClientMessage,
  type HostInfo,
  type HostMessage,
  type Member,
  WIRE_VERSION,
} from '../../src-main/protocol/wire/messages.ts';
import type { Cleanups } from './lifecycle.ts';
import { until } from './lifecycle.ts';
import { type TestHost, decoder, newKeyPair, startTestHost } from './loopback.ts';

/**
 * A host played by hand (acceptChannel only): a test sees every item the client writes and
 * answers what it likes, so it can check the client's wire form exactly and send what a real
 * host would not. Shared by chat-session.test.ts and the #17 client tests.
 */
export const SCRIPTED_HOST_INFO: HostInfo = {
  v: WIRE_VERSION,
  name: 'Scripted',
  software: 'test',
  rooms: ['lobby'],
  limits: { maxTextBytes: 16384, messagesPerSecond: 1000, maxFileBytes: 1024 * 1024 },
};

/** `info` is an object, not a HostInfo: a test may announce one the client must refuse. */
export async function scriptedHost(
  cleanups: Cleanups,
  info: object = SCRIPTED_HOST_INFO,
): Promise<TestHost> {
  const h = await startTestHost({ hostInfo: encodeMessage(info) });
  cleanups.push(() => h.close());
  return h;
}

/** The host's side of one connection: what the client sent, and a way to answer. */
export class Peer {
  readonly received: ClientMessage[] = [];
  /** The client's hello, as it came in the handshake. */
  readonly hello: unknown;
  readonly channel: SecureChannel;

  constructor(channel: SecureChannel) {
    this.channel = channel;
    this.hello = JSON.parse(decoder.decode(channel.peerPayload));
    channel.on('message', (bytes) =>
      this.received.push(JSON.parse(decoder.decode(bytes)) as ClientMessage),
    );
    channel.start();
  }

  send(...messages: HostMessage[]): void {
    for (const message of messages) this.channel.send(encodeMessage(message));
  }

  of<T extends ClientMessage['t']>(t: T): Extract<ClientMessage, { t: T }>[] {
    return this.received.filter((m): m is Extract<ClientMessage, { t: T }> => m.t === t);
  }

  async waitFor<T extends ClientMessage['t']>(
    t: T,
    count = 1,
  ): Promise<Extract<ClientMessage, { t: T }>[]> {
    await until(() => this.of(t).length >= count, `${count} × ${t}`);
    return this.of(t);
  }

  /** welcome → (client joins) → joined, members, synced for each room it asked for. */
  async admit(nick = 'alice', members: Member[] = []): Promise<void> {
    this.send({ t: 'welcome', nick, fp: 'ME' });
    const joins = await this.waitFor('join');
    for (const { room } of joins) {
      this.send({ t: 'joined', room }, { t: 'members', room, members }, { t: 'synced', room });
    }
  }
}

export function trustAnything(port: number): HostVerifier {
  return {
    address: { host: '127.0.0.1', port },
    canConfirm: false,
    verify: async (key) => ({
      fingerprint: fingerprint(key),
      method: 'invite',
      firstSeen: '',
      newlyPinned: false,
    }),
    confirm: async () => false,
  };
}

/** A session as alice to the scripted host (any key trusted), stopped after the test. */
export function sessionTo(
  cleanups: Cleanups,
  h: TestHost,
  options: Partial<ChatSessionOptions> = {},
): ChatSession {
  const s = new ChatSession({
    address: { host: '127.0.0.1', port: h.port },
    identity: newKeyPair(),
    nick: 'alice',
    trust: trustAnything(h.port),
    rooms: ['lobby'],
    reconnect: { initialDelayMs: 20, maxDelayMs: 100 },
    ...options,
  });
  cleanups.push(() => s.stop());
  return s;
}

/** A session to the scripted host, stopped after the test, with its events recorded. */
export function scriptedSession(
  cleanups: Cleanups,
  h: TestHost,
  options: Partial<ChatSessionOptions> = {},
) {
  const s = sessionTo(cleanups, h, options);
  const log = new Map<keyof ChatSessionEvents, unknown[]>();
  for (const name of ['message', 'ack', 'error', 'state', 'synced'] as const) {
    s.on(name, (data: unknown) => log.set(name, [...(log.get(name) ?? []), data]));
  }
  return {
    s,
    of: <K extends keyof ChatSessionEvents>(name: K) =>
      (log.get(name) ?? []) as ChatSessionEvents[K][0][],
  };
}

/** Starts the session and admits it: returns the host's side once #lobby is synced. */
export async function connected(h: TestHost, s: ChatSession): Promise<Peer> {
  const next = h.nextChannel();
  s.start();
  const peer = new Peer(await next);
  await peer.admit();
  await until(() => s.state === 'connected', 'connected');
  return peer;
}

/** A ping the session answers: everything it wrote before the pong has arrived. */
export async function roundTrip(peer: Peer): Promise<void> {
  const n = peer.of('pong').length;
  peer.send({ t: 'ping', n: 1000 + n });
  await peer.waitFor('pong', n + 1);
}
