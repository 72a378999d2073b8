import { mkdir } from 'node:fs/promises';
import net, { type AddressInfo, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { fingerprint } from '../../src-shared/fingerprint.ts';
import { formatInvite } from '../../src-shared/invite.ts';
import type { BackendName, KeyPair } from '../protocol/crypto/crypto-backend.ts';
import { selectBackend } from '../protocol/crypto/select-backend.ts';
import { ProtocolError } from '../protocol/errors.ts';
import { acceptChannel, refuseConnection } from '../protocol/host-handshake.ts';
import type { SecureChannel } from '../protocol/secure-channel.ts';
import type { Suite } from '../protocol/suites.ts';
import { WireError, decodeMessage, encodeMessage } from '../protocol/wire/codec.ts';
import { CloseCode, Hello, type HostInfo, WIRE_VERSION } from '../protocol/wire/messages.ts';
import { loadOrCreateKeyPair } from '../store/key-file.ts';
import { ConnectedClient } from './connected-client.ts';
import { HostDatabase } from './host-database.ts';
import { DEFAULT_LIMITS, type HostLimits } from './host-limits.ts';
import { type HostLog, silentLog } from './host-log.ts';
import { RequestHandler } from './request-handler.ts';
import { RoomRegistry } from './room-registry.ts';

export const SOFTWARE = 'parley/0.1.0';
export const DEFAULT_HOST_PORT = 7878;

export interface HostOptions {
  /** Bind address; default all IPv4 interfaces. */
  readonly host?: string;
  /** Default 7878; 0 picks a free port (see `address.port`). */
  readonly port?: number;
  readonly dataDir: string;
  readonly rooms?: readonly string[];
  readonly name?: string;
  /** The address written into invite links; default: the bind address, or this machine's. */
  readonly publicHost?: string;
  readonly limits?: Partial<HostLimits>;
  readonly backend?: BackendName;
  readonly suites?: readonly Suite[];
  readonly log?: HostLog;
  readonly now?: () => number;
}

export interface RunningHost {
  readonly address: { readonly host: string; readonly port: number };
  readonly publicKey: Uint8Array;
  readonly fingerprint: string;
  readonly rooms: readonly string[];
  invite(room?: string): string;
  /** Current connections, for status and tests. */
  readonly clientCount: number;
  /** Tells every client why, commits what is pending, closes the database. */
  stop(reason?: string): Promise<void>;
}

/** Starts a host: loads or creates its key, opens history, listens, and serves rooms. */
export async function startHost(options: HostOptions): Promise<RunningHost> {
  const limits: HostLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const log = options.log ?? silentLog;
  const now = options.now ?? Date.now;
  const roomNames = options.rooms?.length ? [...new Set(options.rooms)] : ['lobby'];
  const backend = selectBackend(options.backend);

  await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
  const keyPair: KeyPair = await loadOrCreateKeyPair(join(options.dataDir, 'host.key'), backend);
  const db = HostDatabase.open(join(options.dataDir, 'history.sqlite'), {
    historyLimit: limits.historyLimit,
  });
  const rooms = new RoomRegistry(roomNames);
  const handler = new RequestHandler({ rooms, db, limits, log, now });
  const hostInfo: HostInfo = {
    v: WIRE_VERSION,
    name: options.name ?? 'Parley',
    software: SOFTWARE,
    rooms: roomNames,
    limits: {
      maxTextBytes: limits.maxTextBytes,
      messagesPerSecond: limits.messagesPerSecond,
      messageBurst: limits.messageBurst,
    },
  };
  const hostInfoBytes = encodeMessage(hostInfo);

  const sockets = new Set<Socket>();
  const perIp = new Map<string, number>();
  const clients = new Set<ConnectedClient>();
  let stopping = false;

  const server = net.createServer({ noDelay: true }, (socket) => {
    const ip = socket.remoteAddress ?? 'unknown';
    if (stopping) return refuseConnection(socket, 'shutdown', 'the host is shutting down');
    if (sockets.size >= limits.maxClients) {
      log('warn', 'connection-refused', { ip, reason: 'full' });
      return refuseConnection(socket, 'full', 'the host is full; try again later');
    }
    const fromIp = perIp.get(ip) ?? 0;
    if (fromIp >= limits.maxClientsPerIp) {
      log('warn', 'connection-refused', { ip, reason: 'per-ip-limit' });
      return refuseConnection(socket, 'busy', 'too many connections from your address');
    }
    sockets.add(socket);
    perIp.set(ip, fromIp + 1);
    socket.on('close', () => {
      sockets.delete(socket);
      const left = (perIp.get(ip) ?? 1) - 1;
      if (left > 0) perIp.set(ip, left);
      else perIp.delete(ip);
    });
    acceptChannel(socket, {
      staticKeyPair: keyPair,
      hostInfo: hostInfoBytes,
      backend: backend.name,
      handshakeTimeoutMs: limits.handshakeTimeoutMs,
      ...(options.suites ? { suites: options.suites } : {}),
    }).then(
      (channel) => admit(channel),
      (error: unknown) => {
        const code = error instanceof ProtocolError ? error.code : 'unknown';
        log('debug', 'handshake-failed', { ip, code });
      },
    );
  });

  function admit(channel: SecureChannel): void {
    if (stopping) {
      channel.close(CloseCode.shutdown, 'the host is shutting down');
      return;
    }
    let hello: Hello;
    try {
      hello = decodeMessage(Hello, channel.peerPayload);
    } catch (error) {
      const reason = error instanceof WireError ? error.message : 'unreadable hello';
      channel.close(CloseCode.badHello, reason);
      return;
    }
    const claim = db.claimNick(hello.nick, channel.remoteStaticKey);
    if (!claim.ok) {
      channel.close(
        CloseCode.nickTaken,
        `the nickname "${hello.nick}" belongs to another key on this host; choose another`,
      );
      return;
    }
    const client = new ConnectedClient(channel, hello.nick, limits, now());
    clients.add(client);
    channel.on('message', (bytes) => handler.handle(client, bytes));
    channel.on('close', (info) => {
      clients.delete(client);
      handler.disconnected(client);
      log('info', 'client-left', {
        fp: client.fingerprint,
        nick: client.nick,
        code: info.code,
        by: info.by,
      });
    });
    client.send({ t: 'welcome', nick: client.nick, fp: client.fingerprint });
    channel.start();
    log('info', 'client-joined', {
      fp: client.fingerprint,
      nick: client.nick,
      ip: client.ip,
      suite: channel.protocolName,
    });
  }

  // Idle sweep: ping the quiet, drop the silent. One timer for all connections.
  const sweep = setInterval(
    () => {
      const t = now();
      for (const client of clients) {
        const quiet = t - client.lastHeardAt;
        if (quiet >= limits.idleTimeoutMs) {
          client.channel.close(CloseCode.idleTimeout, 'no traffic for too long');
        } else if (quiet >= limits.pingAfterMs && !client.pingOutstanding) {
          client.pingOutstanding = true;
          client.send({ t: 'ping', n: t });
        }
      }
    },
    Math.max(50, Math.min(5000, limits.pingAfterMs / 2)),
  );
  sweep.unref();

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? DEFAULT_HOST_PORT, options.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (error: NodeJS.ErrnoException) =>
    log('error', 'listener-error', { code: error.code }),
  );
  const bound = server.address() as AddressInfo;
  const publicHost = options.publicHost ?? guessPublicHost(bound.address);
  log('info', 'host-started', {
    address: `${bound.address}:${bound.port}`,
    rooms: roomNames.join(','),
    backend: backend.name,
  });

  return {
    address: { host: bound.address, port: bound.port },
    publicKey: keyPair.publicKey,
    fingerprint: fingerprint(keyPair.publicKey),
    rooms: roomNames,
    invite: (room = roomNames[0] ?? 'lobby') =>
      formatInvite({ host: publicHost, port: bound.port, room, hostKey: keyPair.publicKey }),
    get clientCount() {
      return clients.size;
    },
    async stop(reason = 'the host is shutting down') {
      if (stopping) return;
      stopping = true;
      clearInterval(sweep);
      server.close();
      handler.flush(); // everything received is committed (and acknowledged) before goodbye
      for (const client of clients) client.channel.close(CloseCode.shutdown, reason);
      const deadline = Date.now() + 2000;
      while (sockets.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      for (const socket of sockets) socket.destroy();
      db.checkpoint();
      db.close();
      log('info', 'host-stopped', {});
    },
  };
}

/** For invite links when no --public-host is given: the bind address, unless it is a wildcard. */
function guessPublicHost(bound: string): string {
  if (bound !== '0.0.0.0' && bound !== '::') return bound;
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) {
      if (address.family === 'IPv4' && !address.internal) return address.address;
    }
  }
  return '127.0.0.1';
}
