import { encodeBase64Url } from '../../src-shared/base64url.ts';
import type { KeyPair } from '../../src-main/protocol/crypto/crypto-backend.ts';
import { pinnedHostKey } from '../../src-main/protocol/host-key.ts';
import type { CloseInfo, SecureChannel } from '../../src-main/protocol/secure-channel.ts';
import { decodeMessage, encodeMessage } from '../../src-main/protocol/wire/codec.ts';
import {
  type ClientMessage,
  HostInfo,
  HostMessage,
  WIRE_VERSION,
} from '../../src-main/protocol/wire/messages.ts';
import type { Socket } from 'node:net';
import { connectSocket, connectTestClient, newKeyPair } from './loopback.ts';
import { MessageLog } from './message-log.ts';

/**
 * A bare protocol-level client for host tests: speaks the wire messages directly, so a test
 * can do what a real client never would (flood, stop reading, send garbage).
 */
export interface WireClient {
  readonly keyPair: KeyPair;
  readonly keyText: string;
  readonly channel: SecureChannel;
  /** The TCP socket under the channel, to simulate a client that stops reading. */
  readonly socket: Socket;
  readonly hostInfo: HostInfo;
  readonly received: HostMessage[];
  readonly closed: Promise<CloseInfo>;
  send(message: ClientMessage): void;
  sendRaw(bytes: Uint8Array): void;
  /** Resolves with the first received message (from now on or already seen) that matches. */
  waitFor<T extends HostMessage['t']>(
    type: T,
    predicate?: (message: Extract<HostMessage, { t: T }>) => boolean,
    timeoutMs?: number,
  ): Promise<Extract<HostMessage, { t: T }>>;
  of<T extends HostMessage['t']>(type: T): Extract<HostMessage, { t: T }>[];
  close(): void;
}

export async function connectWireClient(
  port: number,
  hostKey: Uint8Array,
  nick: string,
  options: { keyPair?: KeyPair; hello?: Uint8Array } = {},
): Promise<WireClient> {
  const keyPair = options.keyPair ?? newKeyPair();
  const socket = await connectSocket(port);
  const channel = await connectTestClient(port, {
    socket,
    staticKeyPair: keyPair,
    verifyHost: pinnedHostKey(hostKey),
    hello: options.hello ?? encodeMessage({ v: WIRE_VERSION, nick, software: 'test' }),
  });
  const log = new MessageLog<HostMessage>('the host');
  channel.on('message', (bytes) => {
    log.add(decodeMessage(HostMessage, bytes));
  });
  const closed = new Promise<CloseInfo>((resolve) => channel.on('close', resolve));
  channel.start();
  return {
    keyPair,
    keyText: encodeBase64Url(keyPair.publicKey),
    channel,
    socket,
    hostInfo: decodeMessage(HostInfo, channel.peerPayload),
    received: log.received,
    closed,
    send: (message) => void channel.send(encodeMessage(message)),
    sendRaw: (bytes) => void channel.send(bytes),
    of: (type) => log.of(type),
    waitFor: (type, predicate = () => true, timeoutMs = 5000) =>
      log.waitFor(type, predicate, timeoutMs),
    close: () => channel.close('bye', 'test done'),
  };
}
