import { HostKeyMismatch } from '../protocol/host-key.ts';
import { ProtocolError } from '../protocol/errors.ts';
import type { CloseInfo } from '../protocol/secure-channel.ts';
import { KnownHostsError } from '../store/known-hosts.ts';
import { HostKeyChangedUnvouched, HostKeyUnknown, expectedKeyFrom } from './host-trust.ts';
import type { ConnectFailure, SessionFatal } from './session-events.ts';

/**
 * What to do when a connection ends or cannot be made: try again later, or stop for good.
 * Stopping is for what a retry cannot fix (a nickname someone else owns) or must not paper
 * over (a changed host key).
 */
export type Disposition =
  | {
      readonly kind: 'retry';
      readonly reason: string;
      readonly penalized: boolean;
      readonly failure: ConnectFailure;
    }
  | { readonly kind: 'fatal'; readonly fatal: SessionFatal }
  | { readonly kind: 'ask'; readonly unknown: HostKeyUnknown };

/** The host's HostInfo was not one this client understands. */
export class IncompatibleHost extends Error {
  override readonly name = 'IncompatibleHost';
}

/** Close codes after which reconnecting right away would only repeat the problem. */
const PENALIZED = new Set(['flooding', 'protocol-error', 'full', 'busy', 'bad-record']);
/** Host refusals (in the status line) that no retry can fix. */
const INCOMPATIBLE = new Set(['unsupported-version', 'unsupported-suite', 'bad-preface']);

export function afterClose(info: CloseInfo): Disposition {
  if (info.by === 'peer' && (info.code === 'nick-taken' || info.code === 'bad-hello')) {
    return {
      kind: 'fatal',
      fatal: { code: info.code, message: info.reason || `the host refused us (${info.code})` },
    };
  }
  const reason = info.reason ? `${info.code}: ${info.reason}` : info.code;
  // The connection was up: whatever ended it, it was lost (not "could not reach").
  return { kind: 'retry', reason, penalized: PENALIZED.has(info.code), failure: 'lost' };
}

export function afterConnectFailure(error: unknown): Disposition {
  if (error instanceof HostKeyMismatch) {
    return {
      kind: 'fatal',
      fatal: {
        code: 'host-key-mismatch',
        message: error.message,
        expectedFingerprint: error.expectedFingerprint,
        actualFingerprint: error.actualFingerprint,
        expectedFrom: expectedKeyFrom(error),
        ...(error instanceof HostKeyChangedUnvouched
          ? { certificateProblem: error.certificateProblem }
          : {}),
      },
    };
  }
  if (error instanceof HostKeyUnknown) return { kind: 'ask', unknown: error };
  if (error instanceof KnownHostsError) {
    return { kind: 'fatal', fatal: { code: 'known-hosts', message: error.message } };
  }
  if (error instanceof IncompatibleHost) {
    return { kind: 'fatal', fatal: { code: 'incompatible-host', message: error.message } };
  }
  if (error instanceof ProtocolError) {
    const hostCode = (error as ProtocolError & { hostCode?: string }).hostCode;
    if (error.code === 'bad-preface' || (hostCode && INCOMPATIBLE.has(hostCode))) {
      return { kind: 'fatal', fatal: { code: 'incompatible-host', message: error.message } };
    }
    const errno = errnoOf(error.cause);
    return {
      kind: 'retry',
      reason: errno ? socketErrorText(errno) : `${hostCode ?? error.code}: ${error.message}`,
      penalized: PENALIZED.has(hostCode ?? ''),
      failure: connectFailure(error),
    };
  }
  const code = errnoOf(error);
  return {
    kind: 'retry',
    reason: code ? socketErrorText(code) : 'cannot connect',
    penalized: false,
    failure: connectFailure(error),
  };
}

/** Socket errors by what they mean for reaching the host; any other code is 'other'. */
const FAILURES: Readonly<Record<string, ConnectFailure>> = {
  ECONNREFUSED: 'refused',
  EHOSTUNREACH: 'unreachable',
  ENETUNREACH: 'unreachable',
  ENETDOWN: 'unreachable',
  ETIMEDOUT: 'timeout',
  ENOTFOUND: 'not-found',
  EAI_AGAIN: 'not-found',
};

/**
 * How an attempt to connect failed, from the socket's error code (on the error itself or as
 * the handshake error's cause); the client's own connect/handshake deadline is a 'timeout'.
 * A connection that was up and dropped is not a connect failure: afterClose says 'lost'.
 */
export function connectFailure(error: unknown): ConnectFailure {
  const errno = errnoOf(error) ?? (error instanceof Error ? errnoOf(error.cause) : undefined);
  if (errno !== undefined) return FAILURES[errno] ?? 'other';
  if (error instanceof ProtocolError && error.code === 'handshake-timeout') return 'timeout';
  return 'other';
}

function errnoOf(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException | null | undefined)?.code;
  return typeof code === 'string' && /^E[A-Z_]+$/.test(code) ? code : undefined;
}

/** What a person should read for a socket error: what happened, then the system's code. */
const SOCKET_ERRORS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused: nothing listens at that address and port',
  EHOSTUNREACH: 'no route to host',
  ENETUNREACH: 'no route to host: the network is unreachable',
  ENETDOWN: 'the network is down',
  ETIMEDOUT: 'timed out connecting: the host did not answer',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed (try again later)',
  ECONNRESET: 'the connection was reset',
  EPIPE: 'the connection was reset',
  EADDRNOTAVAIL: 'the address is not available here',
};

export function socketErrorText(code: string): string {
  return `${SOCKET_ERRORS[code] ?? 'cannot connect'} (${code})`;
}
