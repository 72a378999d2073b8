import { join } from 'node:path';
import type { HostAddress } from '../../src-shared/invite.ts';
import { ChatSession, type ChatSessionOptions } from '../../src-main/client/chat-session.ts';
import { createHostVerifier } from '../../src-main/client/host-trust.ts';
import type { ChatSessionEvents } from '../../src-main/client/session-events.ts';
import { KnownHosts } from '../../src-main/store/known-hosts.ts';
import type { Cleanups } from './lifecycle.ts';
import { until } from './lifecycle.ts';
import { newKeyPair } from './loopback.ts';

const RECORDED = [
  'state',
  'welcome',
  'message',
  'ack',
  'members',
  'presence',
  'synced',
  'history-end',
  'roomList',
  'roomEvent',
  'removed',
  'inviteRefused',
  'redeemed',
  'fatal',
  'error',
] as const;

/**
 * A ChatSession as the invite link would make it (the host key pinned, a fresh identity and
 * known-hosts file, quick reconnects), stopped after the test, with its events recorded.
 * Not started: the test calls `s.start()`.
 */
export async function recordedSession(
  cleanups: Cleanups,
  target: { address: HostAddress; hostKey: Uint8Array },
  options: Partial<ChatSessionOptions> = {},
) {
  const knownHosts = await KnownHosts.load(
    join(cleanups.tempDir('parley-client-'), 'known-hosts.json'),
  );
  const s = new ChatSession({
    address: target.address,
    identity: newKeyPair(),
    nick: 'alice',
    rooms: ['lobby'],
    trust: createHostVerifier({
      address: target.address,
      inviteKey: target.hostKey,
      knownHosts,
      policy: { trustNewHost: false },
    }),
    reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
    ...options,
  });
  cleanups.push(() => s.stop());
  const log = new Map<keyof ChatSessionEvents, unknown[]>();
  for (const name of RECORDED) {
    s.on(name, (data: unknown) => log.set(name, [...(log.get(name) ?? []), data]));
  }
  return {
    s,
    /** The events of one kind seen so far. */
    of: <K extends keyof ChatSessionEvents>(name: K) =>
      (log.get(name) ?? []) as ChatSessionEvents[K][0][],
    wait: until,
  };
}
