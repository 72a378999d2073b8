import { type HostAddress, formatAddress } from '../../src-shared/invite.ts';
import type { ConnectionFailure, ConnectionState } from '../../src-shared/ipc/domain.ts';
import type { ConnectFailure, StateChange } from '../client/session-events.ts';
import type { HostConnection } from './host-connection.ts';
import { hostText } from './host-text.ts';
import { trustView } from './trust-view.ts';

/**
 * What the UI is told when the session's state changes: the host, nickname, the host's name
 * and fingerprint once known (kept across reconnects), and why it is not connected. Undefined
 * for a change the UI need not hear about.
 */
export function nextConnectionState(
  previous: ConnectionState,
  live: HostConnection,
  change: StateChange,
  now: number,
): ConnectionState | undefined {
  const { address } = live.host;
  const base: ConnectionState = {
    status: 'connecting',
    host: address.host,
    port: address.port,
    nick: live.session.nick,
    ...(previous.hostFingerprint ? { hostFingerprint: previous.hostFingerprint } : {}),
    ...(previous.hostName ? { hostName: previous.hostName } : {}),
  };
  switch (change.state) {
    case 'idle':
      return undefined;
    case 'connecting':
      return {
        ...base,
        status: 'connecting',
        attempt: change.attempt,
        ...(change.neverReached ? { neverReached: true } : {}),
        ...(change.retried ? { retried: true } : {}),
      };
    case 'connected': {
      const host = live.session.host;
      // The largest file the host takes (plaintext bytes): the attach dialog says it first.
      const maxFileBytes = live.session.maxFileBytes;
      return {
        ...base,
        status: 'connected',
        ...(Number.isSafeInteger(maxFileBytes) ? { maxFileBytes } : {}),
        ...(host
          ? {
              hostName: hostText(host.name),
              hostFingerprint: host.fingerprint,
              ...trustView(host.trust, live.viaInvite),
            }
          : {}),
      };
    }
    case 'reconnecting':
      return {
        ...base,
        status: 'reconnecting',
        attempt: change.attempt,
        ...(change.retryInMs !== undefined ? { retryAt: now + change.retryInMs } : {}),
        ...(change.reason ? { reason: reasonText(address, change.reason, change.failure) } : {}),
        ...(change.failure ? { failure: failureOf(change.failure) } : {}),
        ...(change.neverReached ? { neverReached: true } : {}),
        ...(change.retried ? { retried: true } : {}),
      };
    case 'stopped': {
      const reason = live.fatalReason ?? (live.stopping ? undefined : change.reason);
      return {
        ...base,
        status: live.stopping && !live.fatalReason ? 'idle' : 'offline',
        ...(reason ? { reason } : {}),
      };
    }
  }
}

/** The failures of an attempt that never got to the host: worded "can't reach host:port". */
const NOT_REACHED: ReadonlySet<ConnectFailure> = new Set([
  'refused',
  'unreachable',
  'timeout',
  'not-found',
]);

/**
 * Why the host is not connected, plainly: "can't reach 127.0.0.1:1: connection refused…"
 * when an attempt did not get through, never "connection lost" for a host that was not there.
 * The reason may quote the host (a close reason): its control characters are made visible.
 */
function reasonText(
  address: HostAddress,
  reason: string,
  failure: ConnectFailure | undefined,
): string {
  const text = hostText(reason);
  if (failure && NOT_REACHED.has(failure)) {
    return `can't reach ${formatAddress(address.host, address.port)}: ${text}`;
  }
  return text;
}

/** The session's failure is the IPC's: the same values (a compile error here if they part). */
function failureOf(failure: ConnectFailure): ConnectionFailure {
  return failure;
}
