import net, { type AddressInfo, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { encodeBase64Url } from '../../src-shared/base64url.ts';
import { fingerprint } from '../../src-shared/fingerprint.ts';
import { formatInvite } from '../../src-shared/invite.ts';
import type { KeyPair } from '../../src-main/protocol/crypto/crypto-backend.ts';
import { acceptChannel } from '../../src-main/protocol/host-handshake.ts';
import type { CloseInfo, SecureChannel } from '../../src-main/protocol/secure-channel.ts';
import { encodeMessage } from '../../src-main/protocol/wire/codec.ts';
import {
  type ClientMessage,
  type HostInfo,
  type HostMessage,
  type RoomInfo,
  WIRE_VERSION,
} from '../../src-main/protocol/wire/messages.ts';
import { newKeyPair } from './loopback.ts';
import { MessageLog } from './message-log.ts';

/**
 * A scripted host for client tests: it completes a genuine Noise XX handshake with the
 * project's own host code (real TCP on 127.0.0.1), then does exactly what the test says —
 * including what no honest host would: schema-invalid messages, endless member pages, a
 * replay that never ends with `synced`, floods, escape sequences, no `welcome` at all.
 *
 *   const host = await startHostileHost({ welcome: false });      // answers pings only
 *   const host = await startHostileHost({ onJoin: (c, room) => {   // custom join answer
 *     c.send({ t: 'joined', room });
 *     c.flood((i) => ({ t: 'members', room, members: [member(i)] }));
 *   }});
 *   const conn = await host.nextConnection();  conn.send({ t: 'msg', ..., ts: 9e15 });
 *
 * Defaults behave honestly, so a test overrides only the part it attacks:
 * `welcome` sends `welcome` with the hello's nick and then `rooms` (the host's rooms, open,
 * joined by nobody yet), `pong` answers pings, a join is
 * answered with `joined`, one last `members` page (the joiner) and `synced`, and a history
 * request with `history-end` (nothing older).
 */
export interface HostileHostOptions {
  readonly rooms?: readonly string[];
  readonly name?: string;
  /** Replaces the host info sent in handshake message 2 (default: a valid one for `rooms`). */
  readonly hostInfo?: Record<string, unknown>;
  readonly limits?: Partial<HostInfo['limits']>;
  readonly keyPair?: KeyPair;
  /** Send `welcome` once the channel is up (default true). */
  readonly welcome?: boolean;
  /**
   * The `rooms` sent after the welcome (default: every room of `rooms`, open and without a
   * role, so the client joins only what it asks for); false sends none.
   */
  readonly roomList?: readonly RoomInfo[] | false;
  /** Answer the client's pings (default true). */
  readonly pong?: boolean;
  /** Answers a `join`; default: `joined`, the joiner as the only member, `synced`. */
  readonly onJoin?: (connection: HostileConnection, room: string) => void;
  /** Answers a `history` request; default: `history-end` with nothing older. */
  readonly onHistory?: (
    connection: HostileConnection,
    request: Extract<ClientMessage, { t: 'history' }>,
  ) => void;
  /** Called for every client message, after the defaults above; for anything else. */
  readonly onMessage?: (connection: HostileConnection, message: ClientMessage) => void;
  /** Called once per accepted connection, after `welcome` (if any) was queued. */
  readonly onConnection?: (connection: HostileConnection) => void;
}

export interface HostileHost {
  readonly port: number;
  readonly address: { readonly host: string; readonly port: number };
  readonly publicKey: Uint8Array;
  readonly fingerprint: string;
  readonly rooms: readonly string[];
  /** Every connection accepted so far, oldest first. */
  readonly connections: readonly HostileConnection[];
  invite(room?: string): string;
  /** The next connection not yet handed out by this call (one already waiting, or a new one). */
  nextConnection(timeoutMs?: number): Promise<HostileConnection>;
  close(): Promise<void>;
}

/** A flood in progress: sends until `count` items, `stop()`, or the connection closes. */
export interface Flood {
  /** Items queued so far. */
  readonly sent: number;
  stop(): void;
  /** Resolves with the number sent once the flood ends. */
  readonly done: Promise<number>;
}

export interface HostileConnection {
  readonly channel: SecureChannel;
  readonly socket: Socket;
  /** The client's hello (message 3), parsed as JSON but not validated. */
  readonly hello: { nick?: string; [key: string]: unknown };
  /** The client's static key as base64url, and its fingerprint. */
  readonly key: string;
  readonly fp: string;
  /** Every client message received, in order (parsed JSON, not validated). */
  readonly received: ClientMessage[];
  readonly closed: Promise<CloseInfo>;
  readonly isOpen: boolean;
  /** Queues any object as a host message, valid or not (JSON-encoded as is). */
  send(message: HostMessage | Record<string, unknown>): boolean;
  sendRaw(bytes: Uint8Array): boolean;
  /**
   * Sends `make(0)`, `make(1)`, ... while keeping at most `highWaterBytes` (default 256 KiB)
   * queued, yielding to the event loop in between: a flood as fast as the client reads.
   * `make` returning undefined ends it.
   */
  flood(
    make: (index: number) => HostMessage | Record<string, unknown> | undefined,
    options?: { count?: number; highWaterBytes?: number },
  ): Flood;
  /** Resolves with the first client message (already received or coming) that matches. */
  waitFor<T extends ClientMessage['t']>(
    type: T,
    predicate?: (message: Extract<ClientMessage, { t: T }>) => boolean,
    timeoutMs?: number,
  ): Promise<Extract<ClientMessage, { t: T }>>;
  /** Ends the session with an end-of-session item. */
  close(code?: string, reason?: string): void;
}

/** A valid member entry for key index `i` (distinct nick and key per index). */
export function fakeMember(i: number): { nick: string; fp: string; key: string } {
  const bytes = new Uint8Array(32);
  new DataView(bytes.buffer).setUint32(0, i);
  bytes[31] = 1;
  return { nick: `m${i}`, fp: fingerprint(bytes), key: encodeBase64Url(bytes) };
}

/** A chat message from `fakeMember(from)`; override any field, e.g. `{ ts: 9e15 }`. */
export function fakeMessage(
  room: string,
  seq: number,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  const author = fakeMember(1_000_000);
  return {
    t: 'msg',
    room,
    seq,
    id: `msg-${String(seq).padStart(8, '0')}`,
    from: author.nick,
    key: author.key,
    text: `message ${seq}`,
    ts: 1_700_000_000_000 + seq,
    ...overrides,
  };
}

export async function startHostileHost(options: HostileHostOptions = {}): Promise<HostileHost> {
  const keyPair = options.keyPair ?? newKeyPair();
  const rooms = options.rooms ?? ['lobby'];
  const hostInfo = options.hostInfo ?? {
    v: WIRE_VERSION,
    name: options.name ?? 'hostile',
    software: 'hostile-host/1',
    rooms,
    limits: { maxTextBytes: 16384, messagesPerSecond: 1000, messageBurst: 1000, ...options.limits },
  };
  const hostInfoBytes = encodeMessage(hostInfo);
  const connections: HostileConnection[] = [];
  let handedOut = 0;
  const waiters: ((connection: HostileConnection) => void)[] = [];
  const sockets = new Set<Socket>();

  const server: Server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    acceptChannel(socket, { staticKeyPair: keyPair, hostInfo: hostInfoBytes }).then(
      (channel) => {
        const connection = wrap(channel, socket, options, rooms);
        connections.push(connection);
        const waiter = waiters.shift();
        if (waiter) {
          handedOut++;
          waiter(connection);
        }
      },
      () => undefined, // a client that gave up during the handshake: nothing to script
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;

  return {
    port,
    address: { host: '127.0.0.1', port },
    publicKey: keyPair.publicKey,
    fingerprint: fingerprint(keyPair.publicKey),
    rooms,
    connections,
    invite: (room = rooms[0] ?? 'lobby') =>
      formatInvite({ host: '127.0.0.1', port, room, hostKey: keyPair.publicKey }),
    nextConnection(timeoutMs = 10_000) {
      if (handedOut < connections.length) {
        return Promise.resolve(connections[handedOut++] as HostileConnection);
      }
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          const index = waiters.indexOf(take);
          if (index >= 0) waiters.splice(index, 1);
          reject(new Error(`no connection to the hostile host within ${timeoutMs} ms`));
        }, timeoutMs);
        const take = (connection: HostileConnection) => {
          clearTimeout(timer);
          resolve(connection);
        };
        waiters.push(take);
      });
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

function wrap(
  channel: SecureChannel,
  socket: Socket,
  options: HostileHostOptions,
  hostRooms: readonly string[],
): HostileConnection {
  const decoder = new TextDecoder();
  const log = new MessageLog<ClientMessage>('the client');
  const closed = new Promise<CloseInfo>((resolve) => channel.on('close', resolve));
  let hello: HostileConnection['hello'] = {};
  try {
    hello = JSON.parse(decoder.decode(channel.peerPayload)) as HostileConnection['hello'];
  } catch {
    // keep {}: the test sees a client that sent no readable hello
  }
  const key = encodeBase64Url(channel.remoteStaticKey);
  const fp = fingerprint(channel.remoteStaticKey);

  const connection: HostileConnection = {
    channel,
    socket,
    hello,
    key,
    fp,
    received: log.received,
    closed,
    get isOpen() {
      return !channel.closed;
    },
    send: (message) => channel.send(encodeMessage(message)),
    sendRaw: (bytes) => channel.send(bytes),
    flood(make, floodOptions = {}) {
      const highWater = floodOptions.highWaterBytes ?? 256 * 1024;
      const count = floodOptions.count ?? Infinity;
      let sent = 0;
      let stopped = false;
      let finish: (n: number) => void = () => undefined;
      const done = new Promise<number>((resolve) => (finish = resolve));
      const step = () => {
        while (!stopped && !channel.closed && sent < count && channel.bufferedBytes < highWater) {
          const message = make(sent);
          if (message === undefined) {
            stopped = true;
            break;
          }
          channel.send(encodeMessage(message));
          sent++;
        }
        if (stopped || channel.closed || sent >= count) finish(sent);
        else setTimeout(step, channel.bufferedBytes < highWater ? 0 : 2);
      };
      setImmediate(step);
      return {
        get sent() {
          return sent;
        },
        stop: () => {
          stopped = true;
        },
        done,
      };
    },
    waitFor: (type, predicate = () => true, timeoutMs = 10_000) =>
      log.waitFor(type, predicate, timeoutMs),
    close: (code = 'bye', reason = 'the hostile host is done') => channel.close(code, reason),
  };

  channel.on('message', (bytes) => {
    let message: ClientMessage;
    try {
      message = JSON.parse(decoder.decode(bytes)) as ClientMessage;
    } catch {
      return;
    }
    // Waiters resume in a later microtask, after the answers below have been queued.
    log.add(message);
    if (message.t === 'ping' && options.pong !== false) {
      connection.send({ t: 'pong', n: message.n });
    }
    if (message.t === 'join') {
      if (options.onJoin) options.onJoin(connection, message.room);
      else {
        connection.send({ t: 'joined', room: message.room });
        connection.send({
          t: 'members',
          room: message.room,
          members: [{ nick: hello.nick ?? 'client', fp, key }],
          last: true,
        });
        connection.send({ t: 'synced', room: message.room });
      }
    }
    if (message.t === 'history') {
      if (options.onHistory) options.onHistory(connection, message);
      else connection.send({ t: 'history-end', room: message.room, more: false });
    }
    options.onMessage?.(connection, message);
  });
  channel.start();
  if (options.welcome !== false) {
    connection.send({ t: 'welcome', nick: hello.nick ?? 'client', fp });
    if (options.roomList !== false) {
      const rooms =
        options.roomList ?? hostRooms.map((room) => ({ room, kind: 'room' as const, open: true }));
      connection.send({ t: 'rooms', rooms: [...rooms] });
    }
  }
  options.onConnection?.(connection);
  return connection;
}
