import type { ConnectionState } from '../../src-shared/ipc/domain.ts';
import type { StateChange } from '../client/session-events.ts';
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
      return { ...base, status: 'connecting', attempt: change.attempt };
    case 'connected': {
      const host = live.session.host;
      return {
        ...base,
        status: 'connected',
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
        ...(change.reason ? { reason: change.reason } : {}),
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
