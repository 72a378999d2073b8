import { ProtocolError } from '../protocol/errors.ts';
import { CloseCode } from '../protocol/wire/constants.ts';
import type { ClientChannel, ConnectedClient } from './connected-client.ts';
import { failureFields } from './failure-fields.ts';
import type { HostLog } from './host-log.ts';

/**
 * The error boundary around each connection: whatever fails while admitting or serving one
 * connection ends that connection (`internal`), logged with a code and its fingerprint or
 * address, never the message; the process and everyone else go on.
 */
export class ClientErrorBoundary {
  readonly #log: HostLog;

  constructor(log: HostLog) {
    this.#log = log;
  }

  /** Serving a welcomed connection failed. Bound, so it can be handed on as a callback. */
  readonly clientFailed = (client: ConnectedClient, error: unknown): void => {
    this.#log('error', 'client-failed', { fp: client.fingerprint, ...failureFields(error) });
    try {
      client.channel.close(CloseCode.internal, 'the host failed serving you; reconnect', {
        discardPending: true,
      });
    } catch {
      client.channel.destroy(new ProtocolError('bad-record', 'internal host error'));
    }
  };

  /** Reading a hello, or welcoming its sender, failed. */
  readonly admitFailed = (channel: ClientChannel, error: unknown): void => {
    this.#log('error', 'admit-failed', {
      ip: channel.remoteAddress ?? 'unknown',
      ...failureFields(error),
    });
    channel.close(CloseCode.internal, 'the host failed admitting you; reconnect', {
      discardPending: true,
    });
  };
}
