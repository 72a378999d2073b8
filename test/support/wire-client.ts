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
  /**
   * Sends a membership request with a fresh `rid` and resolves with its one answer (the reply,
   * `done`, or an `error` carrying that rid).
   */
  request(message: MembershipRequestBody): Promise<RidAnswer>;
  /** Redeems an invite (a link with `?invite=`, or the bare token): the answer. */
  redeem(invite: string): Promise<RidAnswer>;
  /** Joins and resolves with `synced`, or rejects with the `error` about the room. */
  join(room: string): Promise<void>;
  close(): void;
}

type WithRid = Extract<ClientMessage, { rid: number }>;
/** A membership request without its rid (the client picks one). */
export type MembershipRequestBody = WithRid extends infer R
  ? R extends WithRid
    ? Omit<R, 'rid'>
    : never
  : never;
/** Any host message that answers a request: it carries the request's rid. */
export type RidAnswer = Extract<HostMessage, { rid?: number }>;

let nextRid = 1;

/** The token of an invite link, or the text itself if it is no link. */
export function tokenOf(invite: string): string {
  return /[?&]invite=([A-Za-z0-9_-]+)/.exec(invite)?.[1] ?? invite;
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
  const send = (message: ClientMessage) => void channel.send(encodeMessage(message));
  const request = (body: MembershipRequestBody, timeoutMs = 5000): Promise<RidAnswer> => {
    const rid = nextRid++;
    send({ ...body, rid } as ClientMessage);
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = log.received.find(
          (m): m is RidAnswer => 'rid' in m && (m as { rid?: number }).rid === rid,
        );
        if (found) {
          clearInterval(timer);
          clearTimeout(deadline);
          resolve(found);
        }
      };
      const timer = setInterval(check, 5);
      const deadline = setTimeout(() => {
        clearInterval(timer);
        reject(new Error(`no answer to ${body.t} (rid ${rid}) within ${timeoutMs} ms`));
      }, timeoutMs);
      check();
    });
  };
  return {
    keyPair,
    keyText: encodeBase64Url(keyPair.publicKey),
    channel,
    socket,
    hostInfo: decodeMessage(HostInfo, channel.peerPayload),
    received: log.received,
    closed,
    send,
    request,
    redeem: (invite) => request({ t: 'redeem', token: tokenOf(invite) }),
    join: (room) => {
      const before = log.received.length;
      send({ t: 'join', room });
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          const answer = log.received
            .slice(before)
            .find(
              (m) => (m.t === 'synced' && m.room === room) || (m.t === 'error' && m.ref === room),
            );
          if (!answer) return;
          clearInterval(timer);
          clearTimeout(deadline);
          if (answer.t === 'synced') resolve();
          else if (answer.t === 'error') reject(new Error(`join ${room}: ${answer.code}`));
        };
        const timer = setInterval(check, 5);
        const deadline = setTimeout(() => {
          clearInterval(timer);
          reject(new Error(`no answer to join ${room} within 5000 ms`));
        }, 5000);
        check();
      });
    },
    sendRaw: (bytes) => void channel.send(bytes),
    of: (type) => log.of(type),
    waitFor: (type, predicate = () => true, timeoutMs = 5000) =>
      log.waitFor(type, predicate, timeoutMs),
    close: () => channel.close('bye', 'test done'),
  };
}
