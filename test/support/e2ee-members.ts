import type { ChatSessionOptions } from '../../src-main/client/chat-session.ts';
import type {
  DevicesUpdate,
  EncryptionState,
  SessionMessage,
} from '../../src-main/client/session-events.ts';
import type { KeyPair } from '../../src-main/protocol/crypto/crypto-backend.ts';
import { encodeBase64Url } from '../../src-shared/base64url.ts';
import {
  type E2eeRelay,
  type E2eeRelayOptions,
  type HostRewrite,
  startE2eeRelay,
} from './e2ee-relay.ts';
import { type TestDevice, openDevice } from './e2ee-device.ts';
import type { Cleanups } from './lifecycle.ts';
import { until } from './lifecycle.ts';
import { newKeyPair } from './loopback.ts';
import { recordedSession } from './recorded-session.ts';
import { tokenOf } from './wire-client.ts';

/** A real host to reach: its port on 127.0.0.1 and its key. */
export interface HostTarget {
  readonly port: number;
  readonly publicKey: Uint8Array;
}

export interface MemberOptions {
  readonly nick: string;
  /** An invite link (or bare token) redeemed at the start. */
  readonly invite?: string;
  /** The member's identity (default: a new one). Two installs of one person share it. */
  readonly identity?: KeyPair;
  /** Rooms joined besides those the host lists for the key (default lobby). */
  readonly rooms?: readonly string[];
  /** Rewrites what the host sends this member on its way (a hostile host). */
  readonly rewrite?: HostRewrite;
  /** Holds host items back on their way to this member (see E2eeRelayOptions.delayMs). */
  readonly delayMs?: E2eeRelayOptions['delayMs'];
  /** More session options: the E2EE ones above all (see e2ee-device.ts). */
  readonly session?: Partial<ChatSessionOptions>;
  /** Reuse this member's relay (a restart of the same install): its key is the pinned one. */
  readonly relay?: E2eeRelay;
  /** Wait until this room is synced before returning (default lobby; false: don't wait). */
  readonly synced?: string | false;
}

export type Member = Awaited<ReturnType<typeof startMember>>;

/**
 * A ChatSession behind its own decrypting relay (e2ee-relay.ts), started: the relay records
 * every item the host sends this member, in the clear, and may rewrite it.
 */
export async function startMember(cleanups: Cleanups, host: HostTarget, options: MemberOptions) {
  const identity = options.identity ?? newKeyPair();
  let relay = options.relay;
  if (relay === undefined) {
    const started = await startE2eeRelay({
      identity,
      hostPort: host.port,
      hostKey: host.publicKey,
      ...(options.rewrite ? { rewrite: options.rewrite } : {}),
      ...(options.delayMs ? { delayMs: options.delayMs } : {}),
    });
    cleanups.push(() => started.close());
    relay = started;
  }
  const recorded = await recordedSession(
    cleanups,
    { address: relay.address, hostKey: relay.publicKey },
    {
      nick: options.nick,
      identity,
      rooms: options.rooms ?? ['lobby'],
      ...(options.invite ? { inviteToken: tokenOf(options.invite) } : {}),
      ...options.session,
    },
  );
  // The E2EE events recordedSession does not keep.
  const encryption: EncryptionState[] = [];
  const devices: DevicesUpdate[] = [];
  recorded.s.on('encryption', (e) => encryption.push(e));
  recorded.s.on('devices', (e) => devices.push(e));
  recorded.s.start();
  const room = options.synced ?? 'lobby';
  if (room !== false) {
    await until(
      () => recorded.of('synced').some((e) => e.room === room),
      `${options.nick} synced in #${room}`,
    );
  }
  return {
    ...recorded,
    nick: options.nick,
    identity,
    key: encodeBase64Url(identity.publicKey),
    relay,
    encryption,
    devices,
    /** The room's encryption state as last reported. */
    encryptionOf: (room: string): EncryptionState['state'] | undefined =>
      encryption.filter((e) => e.room === room).at(-1)?.state,
    /** Messages shown in `room` whose text is `text`. */
    shown: (room: string, text: string): SessionMessage[] =>
      recorded.of('message').filter((m) => m.room === room && m.text === text),
  };
}

/**
 * startMember on an E2EE device of its own (e2ee-device.ts: a temp store for the identity,
 * a new one unless given); the device is returned too, for a test that reopens or reads it.
 */
export async function startMemberWithDevice(
  cleanups: Cleanups,
  host: HostTarget,
  options: MemberOptions,
): Promise<{ member: Member; device: TestDevice }> {
  const identity = options.identity ?? newKeyPair();
  const device = await openDevice(cleanups, identity);
  const member = await startMember(cleanups, host, {
    ...options,
    identity,
    session: { ...device.options, ...options.session },
  });
  return { member, device };
}

/**
 * `join(nick, invite, rewrite?)` for one host: a member on a device of its own, what the host
 * sends it changed on its way by `rewrite` if one is given (a hostile host for that member).
 */
export function memberJoiner(cleanups: Cleanups, host: HostTarget) {
  return async (nick: string, invite: string, rewrite?: HostRewrite): Promise<Member> =>
    (await startMemberWithDevice(cleanups, host, { nick, invite, ...(rewrite ? { rewrite } : {}) }))
      .member;
}

/**
 * Waits until every member but the sender (who sees its own line as sent, not received) shows
 * a message with this text in the room; on time-out names those who did not.
 */
export async function untilAllShow(
  members: readonly Member[],
  sender: Member,
  room: string,
  text: string,
  timeoutMs = 15_000,
): Promise<void> {
  const readers = members.filter((m) => m !== sender);
  try {
    await until(() => readers.every((m) => m.shown(room, text).length > 0), 'all', timeoutMs);
  } catch {
    const missing = readers.filter((m) => m.shown(room, text).length === 0);
    throw new Error(
      `${missing.map((m) => m.nick).join(', ')} did not show "${text}" within ${timeoutMs} ms; ` +
        [sender, ...missing].map((m) => describeMember(m, room)).join('; '),
    );
  }
}

/** What a member's session went through in a room, for a failure message (no plaintext). */
export function describeMember(m: Member, room: string): string {
  const states = m.encryption
    .filter((e) => e.room === room)
    .map((e) => e.state + (e.reason ? ` (${e.reason})` : ''));
  const failed = m
    .of('message')
    .filter((x) => x.room === room && x.e2ee?.status === 'failed')
    .map((x) => (x.e2ee?.status === 'failed' ? x.e2ee.reason : ''));
  const errors = m.of('error').map((e) => `${e.code}: ${e.message}`);
  return (
    `${m.nick}: session ${m.s.state}, connections ${m.relay.connections}, ` +
    `encryption [${states.join(' → ')}], failed messages [${failed.join(', ')}], ` +
    `errors [${errors.join(' | ')}], unsent ${m.s.pending.length}`
  );
}

/** The member keys in a member's latest view of the room's group (its `devices` event). */
export function groupKeys(m: Member, room: string): string[] {
  return (m.devices.filter((d) => d.room === room).at(-1)?.members ?? []).map((g) => g.key).sort();
}

/**
 * Waits until each member's room is `encrypted` and its group holds (at least) these members'
 * keys: everyone has been added (a line sent before that is, by design, not for the ones
 * still joining). Members who are away may be in the group too.
 */
export async function untilGroupComplete(
  members: readonly Member[],
  room: string,
  timeoutMs = 30_000,
): Promise<void> {
  const keys = [...new Set(members.map((m) => m.key))].sort();
  const complete = (m: Member) => {
    const group = new Set(groupKeys(m, room));
    return m.encryptionOf(room) === 'encrypted' && keys.every((k) => group.has(k));
  };
  try {
    await until(() => members.every(complete), 'the group', timeoutMs);
  } catch {
    throw new Error(
      `the group of #${room} did not reach ${members.map((m) => m.nick).join(', ')} within ` +
        `${timeoutMs} ms; ` +
        members
          .filter((m) => !complete(m))
          .map((m) => `${describeMember(m, room)}, group of ${groupKeys(m, room).length}`)
          .join('; '),
    );
  }
}
