import { describe, expect, it } from 'vitest';
import type { HostAddress } from '../../../src-shared/invite.ts';
import { ChatSession } from '../../../src-main/client/chat-session.ts';
import type { HostVerifier } from '../../../src-main/client/host-trust.ts';
import type { StateChange } from '../../../src-main/client/session-events.ts';
import { nextConnectionState } from '../../../src-main/service/connection-state.ts';
import { HostConnection } from '../../../src-main/service/host-connection.ts';
import { hostId } from '../../../src-main/store/known-hosts.ts';
import { newKeyPair } from '../../support/loopback.ts';

// What the UI is told about a host that is not connected: the words and the failure kind.

/** A connection as the service holds it; its session is never started here. */
function connection(address: HostAddress): HostConnection {
  const trust: HostVerifier = {
    address,
    canConfirm: false,
    verify: () => Promise.reject(new Error('not used')),
    confirm: () => Promise.resolve(false),
  };
  return new HostConnection({
    host: { id: hostId(address), address },
    viaInvite: false,
    roomsWithPast: [],
    ask: () => undefined,
    createSession: () =>
      new ChatSession({ address, identity: newKeyPair(), nick: 'alice', trust, rooms: [] }),
  });
}

const NOW = 1_000_000;
const shown = (address: HostAddress, change: StateChange) =>
  nextConnectionState({ status: 'connecting' }, connection(address), change, NOW);

describe('the connection state the UI is told', () => {
  it('a host never reached: "can\'t reach host:port", the failure, and a countdown', () => {
    const state = shown(
      { host: '127.0.0.1', port: 1 },
      {
        state: 'reconnecting',
        attempt: 1,
        retryInMs: 27_000,
        reason: 'connection refused: nothing listens at that address and port (ECONNREFUSED)',
        failure: 'refused',
        neverReached: true,
      },
    );
    expect(state).toEqual({
      status: 'reconnecting',
      host: '127.0.0.1',
      port: 1,
      nick: 'alice',
      attempt: 1,
      retryAt: NOW + 27_000,
      reason:
        "can't reach 127.0.0.1:1: connection refused: nothing listens at that address and port (ECONNREFUSED)",
      failure: 'refused',
      neverReached: true,
    });
  });

  it.each(['unreachable', 'timeout', 'not-found'] as const)(
    'an attempt that failed as %s is worded "can\'t reach", with an IPv6 address in brackets',
    (failure) => {
      const state = shown(
        { host: '::1', port: 7000 },
        { state: 'reconnecting', attempt: 3, reason: 'why', failure },
      );
      expect(state).toMatchObject({ reason: "can't reach [::1]:7000: why", failure });
      expect(state).not.toHaveProperty('neverReached');
    },
  );

  it('a lost connection keeps its own reason; the host cannot hide text in it', () => {
    const state = shown(
      { host: 'chat.example', port: 7000 },
      {
        state: 'reconnecting',
        attempt: 1,
        reason: 'shutdown: back \u202esoon',
        failure: 'lost',
      },
    );
    expect(state).toMatchObject({ reason: 'shutdown: back \\u{202e}soon', failure: 'lost' });
    expect(state?.reason).not.toMatch(/can't reach/);
  });

  it('connecting says whether the host was ever reached; connected says neither', () => {
    const address = { host: '127.0.0.1', port: 1 };
    expect(shown(address, { state: 'connecting', attempt: 0, neverReached: true })).toMatchObject({
      status: 'connecting',
      neverReached: true,
    });
    expect(shown(address, { state: 'connecting', attempt: 2 })).not.toHaveProperty('neverReached');
    const connected = shown(address, { state: 'connected', attempt: 0 });
    expect(connected).not.toHaveProperty('neverReached');
    expect(connected).not.toHaveProperty('failure');
  });
});
