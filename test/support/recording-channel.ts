import type { ProtocolError } from '../../src-main/protocol/errors.ts';
import { decodeMessage } from '../../src-main/protocol/wire/codec.ts';
import { HostMessage } from '../../src-main/protocol/wire/messages.ts';
import type { ClientChannel } from '../../src-main/server/connected-client.ts';

/**
 * A stand-in for the host's side of one client's SecureChannel, for tests of the host's parts
 * without sockets: it records what the host sends (decoded, so the host's output is checked
 * against the wire schema too) and how the channel was closed.
 */
export class RecordingChannel implements ClientChannel {
  readonly remoteStaticKey: Uint8Array;
  readonly remoteAddress = '192.0.2.1';
  readonly sent: HostMessage[] = [];
  closedWith: { code: string; reason: string; discardPending: boolean } | undefined;
  /** What the test says is still waiting to be written (slow-reader checks). */
  bufferedBytes = 0;

  constructor(remoteStaticKey: Uint8Array) {
    this.remoteStaticKey = remoteStaticKey;
  }

  get closed(): boolean {
    return this.closedWith !== undefined;
  }

  send(message: Uint8Array): boolean {
    if (this.closed) return false;
    this.sent.push(decodeMessage(HostMessage, message));
    return true;
  }

  close(code: string, reason: string, options: { discardPending?: boolean } = {}): void {
    this.closedWith ??= { code, reason, discardPending: options.discardPending ?? false };
  }

  destroy(error: ProtocolError): void {
    this.closedWith ??= { code: error.code, reason: error.message, discardPending: true };
  }

  /** The messages of one type sent so far, typed. */
  of<T extends HostMessage['t']>(t: T): Extract<HostMessage, { t: T }>[] {
    return this.sent.filter((m): m is Extract<HostMessage, { t: T }> => m.t === t);
  }

  /** Forgets what was sent so far: the next assertions see only what follows. */
  clear(): void {
    this.sent.length = 0;
  }
}
