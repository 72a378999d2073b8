import { mkdir } from 'node:fs/promises';
import net, { type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fingerprint } from '../../src-shared/fingerprint.ts';
import { formatInvite } from '../../src-shared/invite.ts';
import type { BackendName, KeyPair } from '../protocol/crypto/crypto-backend.ts';
import { selectBackend } from '../protocol/crypto/select-backend.ts';
import { acceptChannel } from '../protocol/host-handshake.ts';
import type { Suite } from '../protocol/suites.ts';
import type { TransportKeys } from '../protocol/transport-keys.ts';
import { loadOrCreateKeyPair } from '../store/key-file.ts';
import type { HostCertificateSummary } from '../trust/host-certificate.ts';
import { Admission } from './admission.ts';
import { ClientErrorBoundary } from './client-error-boundary.ts';
import { ConnectedClients } from './connected-clients.ts';
import { failureFields } from './failure-fields.ts';
import { HelloHandler } from './hello-handler.ts';
import { HostDatabase } from './host-database.ts';
import { encodeHostInfo } from './host-info.ts';
import { DEFAULT_LIMITS, type HostLimits } from './host-limits.ts';
import { type HostLog, silentLog } from './host-log.ts';
import { IdleSweep } from './idle-sweep.ts';
import { KeyBudgets } from './key-budgets.ts';
import { NicknameRegistry } from './nickname-registry.ts';
import { guessPublicHost } from './public-host.ts';
import { RequestHandler } from './request-handler.ts';
import { RoomRegistry } from './room-registry.ts';

export const DEFAULT_HOST_PORT = 7878;
/** How long a statement waits for a lock held by another connection to the database. */
const DATABASE_BUSY_TIMEOUT_MS = 100;
/** On shutdown, how long clients get to read their goodbye and hang up before they are cut. */
const SHUTDOWN_GRACE_MS = 2000;

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
  /** The host's clock (budgets, the idle sweep, timestamps); default `Date.now`. */
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

/**
 * Starts a host: loads or creates its key, opens history, listens, and serves rooms. A
 * connection passes admission (limits, the handshake), then the hello (its nickname), then
 * each request goes to the request handler inside the per-connection error boundary.
 */
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
  const hostInfo = encodeHostInfo({
    name: options.name ?? 'Parley',
    rooms: roomNames,
    limits,
    ...(certificate ? { certificateChain: certificate.chain } : {}),
  });
  const db = HostDatabase.open(join(options.dataDir, 'history.sqlite'), {
    historyLimit: limits.historyLimit,
    // Every statement runs on the event loop: a lock held elsewhere must fail fast (the send
    // is refused with retryAfterMs and resent), not stall every connection for seconds.
    busyTimeoutMs: DATABASE_BUSY_TIMEOUT_MS,
  });

  let stopping = false;
  const boundary = new ClientErrorBoundary(log);
  const rooms = new RoomRegistry(roomNames);
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
    onClientFailure: boundary.clientFailed,
  });
  const idle = new IdleSweep({ limits, now, onClientFailure: boundary.clientFailed });
  const clients = new ConnectedClients({
    limits,
    log,
    now,
    budgets: new KeyBudgets(limits),
    handler,
    idle,
    boundary,
  });
  const hello = new HelloHandler({
    nicknames,
    stopping: () => stopping,
    welcome: (channel, nick) => clients.welcome(channel, nick),
    onFailure: boundary.admitFailed,
  });
  const admission = new Admission({
    limits,
    log,
    handshake: (socket) =>
      acceptChannel(socket, {
        staticKeyPair: keyPair,
        hostInfo,
        backend: backend.name,
        handshakeTimeoutMs: limits.handshakeTimeoutMs,
        ...(options.suites ? { suites: options.suites } : {}),
        ...(options.transportKeys ? { transportKeys: options.transportKeys } : {}),
      }),
    onChannel: (channel) => hello.greet(channel),
  });

  const server = net.createServer({ noDelay: true }, (socket) => admission.offer(socket));
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? DEFAULT_HOST_PORT, options.host ?? '0.0.0.0', () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    // Not listening (the port is taken, say): nothing was served, so close what was opened.
    db.close();
    throw error;
  }
  idle.start();
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
      admission.close();
      idle.stop();
      server.close();
      // Everything received is committed (and acknowledged) before goodbye; nickname claims
      // still waiting are answered, and, as the host is stopping, told so.
      nicknames.flush();
      handler.flush();
      clients.closeAll(reason);
      await admission.drain(SHUTDOWN_GRACE_MS);
      db.checkpoint();
      db.close();
      log('info', 'host-stopped', {});
    },
  };
}
