import type { Socket } from 'node:net';
import { encodeBase64Url } from '../../../src-shared/base64url.ts';
import type { KeyPair } from '../../../src-main/protocol/crypto/crypto-backend.ts';
import { pinnedHostKey } from '../../../src-main/protocol/host-key.ts';
import type { CloseInfo, SecureChannel } from '../../../src-main/protocol/secure-channel.ts';
import { decodeMessage, encodeMessage } from '../../../src-main/protocol/wire/codec.ts';
import { HostMessage, WIRE_VERSION } from '../../../src-main/protocol/wire/messages.ts';
import { connectSocket, connectTestClient } from '../loopback.ts';

/** What a connection waited for: a message (and where it is in `received`), or the close. */
export type Answer =
  | { readonly kind: 'message'; readonly index: number; readonly message: HostMessage }
  | { readonly kind: 'closed'; readonly info: CloseInfo };

/**
 * One client connection of the model test, at the wire level. Unlike test/support/wire-client.ts
 * it never throws from the channel's listener: a host message that fails the schema is recorded
 * (`undecodable`) so the model reports it as a host bug, and a test can wait for "this answer or
 * the close", which is what a request to a host that may drop the connection needs.
 */
export interface ModelConnection {
  readonly label: string;
  readonly keyText: string;
  readonly received: HostMessage[];
  readonly undecodable: string[];
  readonly closeInfo: CloseInfo | undefined;
  /** Sends any object as one data item: the model sends invalid requests on purpose. */
  send(message: object): void;
  sendRaw(bytes: Uint8Array): void;
  /** The first message at index ≥ `from` that matches, or the close, whichever comes first. */
  answer(from: number, match: (m: HostMessage) => boolean, timeoutMs?: number): Promise<Answer>;
  /** Resolves once the host has answered a ping sent now: everything queued before it arrived. */
  barrier(timeoutMs?: number): Promise<void>;
  waitClosed(timeoutMs?: number): Promise<CloseInfo>;
  /** Ends the TCP connection without a close item, as a crashed client or lost network does. */
  drop(): void;
  /** Ends the session cleanly (`bye`), as a quitting client does. */
  bye(): void;
}

let nextPing = 1;

export async function openModelConnection(
  port: number,
  hostKey: Uint8Array,
  keyPair: KeyPair,
  nick: string,
  label: string,
): Promise<ModelConnection> {
  const socket: Socket = await connectSocket(port);
  const channel: SecureChannel = await connectTestClient(port, {
    socket,
    staticKeyPair: keyPair,
    verifyHost: pinnedHostKey(hostKey),
    hello: encodeMessage({ v: WIRE_VERSION, nick, software: 'host-model-test' }),
  });
  const received: HostMessage[] = [];
  const undecodable: string[] = [];
  const wake = new Set<() => void>();
  let closeInfo: CloseInfo | undefined;
  channel.on('message', (bytes: Uint8Array) => {
    try {
      received.push(decodeMessage(HostMessage, bytes));
    } catch (error) {
      undecodable.push(`${(error as Error).message} (${bytes.length} bytes)`);
    }
    for (const w of [...wake]) w();
  });
  channel.on('close', (info: CloseInfo) => {
    closeInfo = info;
    for (const w of [...wake]) w();
  });
  channel.start();

  function answer(
    from: number,
    match: (m: HostMessage) => boolean,
    timeoutMs = 15_000,
  ): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const check = () => {
        for (let i = from; i < received.length; i++) {
          const message = received[i];
          if (message && match(message)) {
            done();
            resolve({ kind: 'message', index: i, message });
            return;
          }
        }
        if (closeInfo) {
          done();
          resolve({ kind: 'closed', info: closeInfo });
        }
      };
      const timer = setTimeout(() => {
        done();
        const tail = received
          .slice(from)
          .map((m) => m.t)
          .join(',');
        reject(
          new Error(`${label}: no answer from the host within ${timeoutMs} ms (got: ${tail})`),
        );
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        wake.delete(check);
      };
      wake.add(check);
      check();
    });
  }

  return {
    label,
    keyText: encodeBase64Url(keyPair.publicKey),
    received,
    undecodable,
    get closeInfo() {
      return closeInfo;
    },
    send: (message) => void channel.send(encodeMessage(message)),
    sendRaw: (bytes) => void channel.send(bytes),
    answer,
    async barrier(timeoutMs = 15_000) {
      if (closeInfo) return;
      const n = nextPing++;
      const from = received.length;
      channel.send(encodeMessage({ t: 'ping', n }));
      await answer(from, (m) => m.t === 'pong' && m.n === n, timeoutMs);
    },
    async waitClosed(timeoutMs = 15_000) {
      const result = await answer(received.length, () => false, timeoutMs);
      if (result.kind !== 'closed') throw new Error('unreachable');
      return result.info;
    },
    drop: () => socket.destroy(),
    bye: () => channel.close('bye', 'host model test'),
  };
}
