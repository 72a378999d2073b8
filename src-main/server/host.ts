import { mkdir } from 'node:fs/promises';
import net, { type AddressInfo, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { encodeBase64Url } from '../../src-shared/base64url.ts';
import { fingerprint } from '../../src-shared/fingerprint.ts';
import { formatInvite } from '../../src-shared/invite.ts';
import type { BackendName, KeyPair } from '../protocol/crypto/crypto-backend.ts';
import { selectBackend } from '../protocol/crypto/select-backend.ts';
import { ProtocolError } from '../protocol/errors.ts';
import { acceptChannel, refuseConnection } from '../protocol/host-handshake.ts';
import type { SecureChannel } from '../protocol/secure-channel.ts';
import type { Suite } from '../protocol/suites.ts';
import type { TransportKeys } from '../protocol/transport-keys.ts';
import { WireError, decodeMessage, encodeMessage } from '../protocol/wire/codec.ts';
import { CloseCode, Hello, type HostInfo, WIRE_VERSION } from '../protocol/wire/messages.ts';
import { loadOrCreateKeyPair } from '../store/key-file.ts';
import type { HostCertificateSummary } from '../trust/host-certificate.ts';
import { ConnectedClient } from './connected-client.ts';
import { failureFields } from './failure-fields.ts';
import { HostDatabase } from './host-database.ts';
import { DEFAULT_LIMITS, type HostLimits } from './host-limits.ts';
import { type HostLog, silentLog } from './host-log.ts';
import { KeyBudgets } from './key-budgets.ts';
import { NicknameRegistry } from './nickname-registry.ts';
import { RequestHandler } from './request-handler.ts';
import { RoomRegistry } from './room-registry.ts';

export const SOFTWARE = 'parley/0.1.0';
export const DEFAULT_HOST_PORT = 7878;
/** Message 2 is one frame: 65535 bytes less e (32), encrypted s (48) and the payload's tag (16). */
const MAX_HOST_INFO_BYTES = 65535 - 32 - 48 - 16;
/** How long a statement waits for a lock held by another connection to the database. */
const DATABASE_BUSY_TIMEOUT_MS = 100;

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
  /**
   * How a finished handshake becomes transport ciphers; default Noise's Split(). Only the
   * benchmark's host passes another (bench/null-cipher.ts, which src-main may not import).
   */
  readonly transportKeys?: TransportKeys;
  /**
   * The host's X.509 chain (DER, its own certificate first), sent in handshake message 2 for
   * clients that trust an authority (docs/trust.md). It must bind this host's static key.
   */
  readonly certificateChain?: readonly Uint8Array[];
}

export interface RunningHost {
  readonly address: { readonly host: string; readonly port: number };
  readonly publicKey: Uint8Array;
  readonly fingerprint: string;
  readonly rooms: readonly string[];
  invite(room?: string): string;
  /** The certificate the host presents, if any. */
  readonly certificate?: HostCertificateSummary;
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
  // forge is loaded only for a host that has a certificate, and refuses one for another key.
  const certificate = options.certificateChain
    ? (await import('../trust/host-certificate.ts')).checkHostChain(
        options.certificateChain,
        keyPair.publicKey,
        now(),
      )
    : undefined;
  for (const warning of certificate?.warnings ?? []) log('warn', 'host-certificate', { warning });
  const db = HostDatabase.open(join(options.dataDir, 'history.sqlite'), {
    historyLimit: limits.historyLimit,
    // Every statement runs on the event loop: a lock held elsewhere must fail fast (the send
    // is refused with retryAfterMs and resent), not stall every connection for seconds.
    busyTimeoutMs: DATABASE_BUSY_TIMEOUT_MS,
  });
  const rooms = new RoomRegistry(roomNames);
  const budgets = new KeyBudgets(limits);
  const nicknames = new NicknameRegistry(db, {
    onStoreError: (error, claims) =>
      log('error', 'nick-store-failed', { claims, ...failureFields(error) }),
    onCallbackError: (error) => log('error', 'nick-claim-failed', failureFields(error)),
  });
  const handler = new RequestHandler({
    rooms,
    db,
    nicknames,
    limits,
    log,
    now,
    onClientFailure: (client, error) => clientFailed(client, error),
  });
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
    ...(certificate
      ? { certs: certificate.chain.map((der) => Buffer.from(der).toString('base64')) }
      : {}),
  };
  const hostInfoBytes = encodeMessage(hostInfo);
  if (hostInfoBytes.length > MAX_HOST_INFO_BYTES) {
    db.close();
    throw new Error(
      `the host info (rooms, certificate chain) takes ${hostInfoBytes.length} bytes; ` +
        `handshake message 2 carries at most ${MAX_HOST_INFO_BYTES}`,
    );
  }

  const sockets = new Set<Socket>();
  const perIp = new Map<string, number>();
  const clients = new Set<ConnectedClient>();
  // Unauthenticated connections never take an authenticated one's place: handshakes in progress
  // have their own bound (oldest evicted first), and only completed ones count as clients.
  const handshaking = new Set<Socket>();
  const established = new Set<Socket>();
  let stopping = false;

  const server = net.createServer({ noDelay: true }, (socket) => {
    const ip = socket.remoteAddress ?? 'unknown';
    if (stopping) return refuseConnection(socket, 'shutdown', 'the host is shutting down');
    if (established.size >= limits.maxClients) {
      log('warn', 'connection-refused', { ip, reason: 'full' });
      return refuseConnection(socket, 'full', 'the host is full; try again later');
    }
    const fromIp = perIp.get(ip) ?? 0;
    if (fromIp >= limits.maxClientsPerIp) {
      log('warn', 'connection-refused', { ip, reason: 'per-ip-limit' });
      return refuseConnection(socket, 'busy', 'too many connections from your address');
    }
    if (handshaking.size >= limits.maxHandshakes) {
      // The oldest handshake has had the longest to finish: a stalled one, under attack.
      const oldest = handshaking.values().next().value;
      if (oldest) {
        handshaking.delete(oldest);
        oldest.destroy();
        log('warn', 'handshake-evicted', { ip: oldest.remoteAddress ?? 'unknown' });
      }
    }
    sockets.add(socket);
    handshaking.add(socket);
    perIp.set(ip, fromIp + 1);
    socket.on('close', () => {
      sockets.delete(socket);
      handshaking.delete(socket);
      established.delete(socket);
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
      ...(options.transportKeys ? { transportKeys: options.transportKeys } : {}),
    }).then(
      (channel) => {
        handshaking.delete(socket);
        if (established.size >= limits.maxClients) {
          channel.close(CloseCode.full, 'the host is full; try again later');
          return;
        }
        established.add(socket);
        try {
          admit(channel);
        } catch (error) {
          admitFailed(channel, error);
        }
      },
      (error: unknown) => {
        handshaking.delete(socket);
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
    nicknames.claim(hello.nick, channel.remoteStaticKey, (outcome) => {
      // Answered later (after the turn's commit), so outside the caller's boundary: its own.
      try {
        if (channel.closed) return;
        if (stopping) channel.close(CloseCode.shutdown, 'the host is shutting down');
        else if (outcome === 'ok') welcome(channel, hello);
        else if (outcome === 'taken') refuseNick(channel, hello.nick);
        else
          channel.close(
            CloseCode.shutdown,
            'the host could not check your nickname; try again later',
          );
      } catch (error) {
        admitFailed(channel, error);
      }
    });
  }

  function admitFailed(channel: SecureChannel, error: unknown): void {
    log('error', 'admit-failed', {
      ip: channel.remoteAddress ?? 'unknown',
      ...failureFields(error),
    });
    channel.close(CloseCode.internal, 'the host failed admitting you; reconnect', {
      discardPending: true,
    });
  }

  function refuseNick(channel: SecureChannel, nick: string): void {
    channel.close(
      CloseCode.nickTaken,
      `the nickname "${nick}" belongs to another key on this host; choose another`,
    );
  }

  /**
   * The error boundary: whatever fails while serving one connection ends that connection
   * (`internal`), logged with a code and its fingerprint; the process and everyone else go on.
   */
  function clientFailed(client: ConnectedClient, error: unknown): void {
    log('error', 'client-failed', { fp: client.fingerprint, ...failureFields(error) });
    try {
      client.channel.close(CloseCode.internal, 'the host failed serving you; reconnect', {
        discardPending: true,
      });
    } catch {
      client.channel.destroy(new ProtocolError('bad-record', 'internal host error'));
    }
  }

  function welcome(channel: SecureChannel, hello: Hello): void {
    const client = new ConnectedClient(
      channel,
      hello.nick,
      limits,
      now(),
      budgets.for(encodeBase64Url(channel.remoteStaticKey), now()),
    );
    clients.add(client);
    handler.connected(client);
    channel.on('message', (bytes) => {
      try {
        handler.handle(client, bytes);
      } catch (error) {
        clientFailed(client, error);
      }
    });
    channel.on('close', (info) => {
      clients.delete(client);
      // A goodbye (`bye`) is leaving; anything else is a disconnection.
      const event = info.by === 'peer' && info.code === CloseCode.bye ? 'left' : 'disconnected';
      try {
        handler.disconnected(client, event);
      } catch (error) {
        log('error', 'client-cleanup-failed', { fp: client.fingerprint, ...failureFields(error) });
      }
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
        try {
          const quiet = t - client.lastHeardAt;
          if (quiet >= limits.idleTimeoutMs) {
            client.channel.close(CloseCode.idleTimeout, 'no traffic for too long');
          } else if (quiet >= limits.pingAfterMs && !client.pingOutstanding) {
            client.pingOutstanding = true;
            client.send({ t: 'ping', n: t });
          }
        } catch (error) {
          clientFailed(client, error);
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
    ...(certificate ? { certificate: certificate.summary } : {}),
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
      // Everything received is committed (and acknowledged) before goodbye; nickname claims
      // still waiting are answered, and, as the host is stopping, told so.
      nicknames.flush();
      handler.flush();
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
