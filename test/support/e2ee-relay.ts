import net, { type AddressInfo, type Socket } from 'node:net';
import { once } from 'node:events';
import { encodeBase64Url } from '../../src-shared/base64url.ts';
import type { KeyPair } from '../../src-main/protocol/crypto/crypto-backend.ts';
import { initiateChannel } from '../../src-main/protocol/client-handshake.ts';
import { acceptChannel } from '../../src-main/protocol/host-handshake.ts';
import { pinnedHostKey } from '../../src-main/protocol/host-key.ts';
import type { SecureChannel } from '../../src-main/protocol/secure-channel.ts';
import { encodeMessage } from '../../src-main/protocol/wire/codec.ts';
import type { HostMessage } from '../../src-main/protocol/wire/messages.ts';
import { newKeyPair } from './loopback.ts';

/**
 * A decrypting relay between ONE client identity and a real host, for end-to-end encryption
 * tests: it is the host to the client (its own key, which the client pins as the host's; the
 * real host's info) and that client to the host (the client's own identity key pair, so the host
 * sees the member it knows, and the client's own hello). Every application item the host sends
 * is recorded in the clear exactly as the host wrote it — so a test can say what the host let
 * out — and may be rewritten on its way to the client: a hostile host relaying real ciphertext.
 *
 * Unlike fault-proxy's MITM, the host sees the client's real key, so membership, invites and
 * the MLS delivery service work as they would without the relay.
 */
export interface E2eeRelay {
  readonly port: number;
  readonly address: { readonly host: string; readonly port: number };
  /** The client's key (base64url), as the host knows it. */
  readonly clientKey: string;
  /** The relay's key: give it to the client as the host key. */
  readonly publicKey: Uint8Array;
  /** Every host → client item, as the host sent it (UTF-8 text), over all connections. */
  readonly fromHost: string[];
  /** The same, parsed as JSON (not validated: the host's output is what is under test). */
  readonly fromHostParsed: HostMessage[];
  /** Every client → host item, as the client sent it. */
  readonly fromClient: string[];
  /** Connections relayed so far. */
  readonly connections: number;
  close(): Promise<void>;
}

/** What goes to the client in place of one host item: nothing, it, a changed copy, several. */
export type HostRewrite = (
  message: HostMessage,
  raw: Uint8Array,
) => readonly (HostMessage | Uint8Array)[] | undefined;

type ChatMsg = Extract<HostMessage, { t: 'msg' }>;

/**
 * A rewrite that changes chosen chat messages by id: the test sends, learns the id, and sets
 * `changes.set(id, change)` before the host's copy reaches the relay; every other item passes.
 */
export function rewriteMessagesById(): {
  readonly changes: Map<string, (m: ChatMsg) => ChatMsg>;
  readonly rewrite: HostRewrite;
} {
  const changes = new Map<string, (m: ChatMsg) => ChatMsg>();
  const rewrite: HostRewrite = (m) => {
    const change = m.t === 'msg' ? changes.get(m.id) : undefined;
    return change && m.t === 'msg' ? [change(m)] : undefined;
  };
  return { changes, rewrite };
}

export interface E2eeRelayOptions {
  /** The client's identity: the relay speaks to the host as this key. */
  readonly identity: KeyPair;
  readonly hostPort: number;
  readonly hostKey: Uint8Array;
  /** Changes what the client gets; undefined (or returning undefined) relays as is. */
  readonly rewrite?: HostRewrite;
  /**
   * Holds a host item back this many ms (and, to keep the host's order, everything after it):
   * a slow path to this client, e.g. to make two members commit before either sees the other.
   */
  readonly delayMs?: (message: HostMessage) => number;
}

export async function startE2eeRelay(options: E2eeRelayOptions): Promise<E2eeRelay> {
  const keyPair = newKeyPair();
  const decoder = new TextDecoder();
  const fromHost: string[] = [];
  const fromHostParsed: HostMessage[] = [];
  const fromClient: string[] = [];
  const sockets = new Set<Socket>();
  const channels = new Set<SecureChannel>();
  let connections = 0;

  const server = net.createServer((client) => {
    connections++;
    client.pause();
    client.on('error', () => undefined);
    const upstream = net.connect(options.hostPort, '127.0.0.1');
    upstream.on('error', () => undefined);
    sockets.add(client).add(upstream);
    let helloArrived: (hello: Uint8Array) => void = () => undefined;
    let helloFailed: (error: Error) => void = () => undefined;
    const hello = new Promise<Uint8Array>((resolve, reject) => {
      helloArrived = resolve;
      helloFailed = reject;
    });
    hello.catch(() => undefined);
    let hostInfoArrived: (info: Uint8Array) => void = () => undefined;
    const hostInfo = new Promise<Uint8Array>((resolve) => (hostInfoArrived = resolve));
    let clientHello: Uint8Array | undefined;
    const checkHost = pinnedHostKey(options.hostKey);
    // To the host we are the client itself; its hello is read once the client sent it to us.
    const toHost = initiateChannel(upstream, {
      staticKeyPair: options.identity,
      get hello() {
        return clientHello ?? new Uint8Array(0);
      },
      verifyHost: async (key, info) => {
        checkHost(key);
        hostInfoArrived(info);
        clientHello = await hello;
      },
    });
    const toClient = hostInfo.then((info) => {
      const accepted = acceptChannel(client, { staticKeyPair: keyPair, hostInfo: info });
      client.resume();
      return accepted;
    });
    const relay = async (): Promise<void> => {
      let clientSide: SecureChannel;
      try {
        clientSide = await toClient;
      } catch {
        helloFailed(new Error('the client did not complete the handshake'));
        upstream.destroy();
        return;
      }
      helloArrived(clientSide.peerPayload);
      const hostSide = await toHost;
      channels.add(clientSide).add(hostSide);
      clientSide.on('message', (bytes) => {
        fromClient.push(decoder.decode(bytes));
        hostSide.send(bytes);
      });
      // Items leave in the host's order; one held back holds back those after it.
      let queue = Promise.resolve();
      const deliver = (items: readonly Uint8Array[], delay: number) => {
        if (delay <= 0 && queue === idle) {
          for (const item of items) clientSide.send(item);
          return;
        }
        const next = queue.then(async () => {
          if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
          for (const item of items) clientSide.send(item);
        });
        queue = next;
        void next.then(() => {
          if (queue === next) queue = idle;
        });
      };
      const idle = queue;
      hostSide.on('message', (bytes) => {
        const text = decoder.decode(bytes);
        fromHost.push(text);
        let parsed: HostMessage | undefined;
        try {
          parsed = JSON.parse(text) as HostMessage;
          fromHostParsed.push(parsed);
        } catch {
          // not JSON: recorded as text above, relayed unchanged
        }
        const out = parsed && options.rewrite ? options.rewrite(parsed, bytes) : undefined;
        const items =
          out === undefined
            ? [bytes]
            : out.map((item) => (item instanceof Uint8Array ? item : encodeMessage(item)));
        deliver(items, parsed && options.delayMs ? options.delayMs(parsed) : 0);
      });
      clientSide.on('close', (info) => hostSide.close(info.code, info.reason));
      hostSide.on('close', (info) => clientSide.close(info.code, info.reason));
      clientSide.start();
      hostSide.start();
    };
    relay().catch(() => client.destroy());
    toHost.catch(() => client.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    address: { host: '127.0.0.1', port },
    publicKey: keyPair.publicKey,
    clientKey: encodeBase64Url(options.identity.publicKey),
    fromHost,
    fromHostParsed,
    fromClient,
    get connections() {
      return connections;
    },
    async close() {
      for (const channel of channels) if (!channel.closed) channel.close('bye', 'relay closed');
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}
