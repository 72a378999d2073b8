import { mkdir } from 'node:fs/promises';
import net, { type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fingerprint } from '../protocol/node-fingerprint.ts';
import { formatInvite } from '../../src-shared/invite.ts';
import type { BackendName, KeyPair } from '../protocol/crypto/crypto-backend.ts';
import { selectBackend } from '../protocol/crypto/select-backend.ts';
import { acceptChannel } from '../protocol/host-handshake.ts';
import type { Suite } from '../protocol/suites.ts';
import type { Role } from '../protocol/wire/messages.ts';
import type { TransportKeys } from '../protocol/transport-keys.ts';
import { loadOrCreateKeyPair } from '../store/key-file.ts';
import type { HostCertificateSummary } from '../trust/host-certificate.ts';
import { Admission } from './admission.ts';
import { ClientErrorBoundary } from './client-error-boundary.ts';
import type { ClusterNode } from './cluster/cluster-node.ts';
import type { ClusterOptions } from './cluster/cluster-options.ts';
import { ConnectedClients } from './connected-clients.ts';
import type { SyncFunction } from './db/wal-sync.ts';
import { type BackpressureState, DurabilityGate, type SyncGroups } from './durability-gate.ts';
import { failureFields } from './failure-fields.ts';
import { FileSweep } from './file-sweep.ts';
import { HelloHandler } from './hello-handler.ts';
import { HostDatabase } from './host-database.ts';
import { encodeHostInfo } from './host-info.ts';
import { DEFAULT_LIMITS, type HostLimits } from './host-limits.ts';
import { type HostLog, silentLog } from './host-log.ts';
import { IdleSweep } from './idle-sweep.ts';
import { loadHostMlsChecks } from './mls-checks.ts';
import { KeyBudgets } from './key-budgets.ts';
import { NicknameRegistry } from './nickname-registry.ts';
import { guessPublicHost } from './public-host.ts';
import { RequestHandler } from './request-handler.ts';
import { RoomRegistry } from './room-registry.ts';
import { serveAfterSchemas } from './serve-after-schemas.ts';

export const DEFAULT_HOST_PORT = 7878;
/** How long a statement waits for a lock held by another connection to the database. */
const DATABASE_BUSY_TIMEOUT_MS = 100;
/** On shutdown, how long clients get to read their goodbye and hang up before they are cut. */
const SHUTDOWN_GRACE_MS = 2000;
/** An owner invite printed at start is good for one use within this time. */
const OWNER_INVITE_TTL_MS = 7 * 24 * 3600 * 1000;
/** Host info names at most this many open rooms (its schema's bound). */
const MAX_HOST_INFO_ROOMS = 1000;

export interface HostOptions {
  /** Bind address; default all IPv4 interfaces. */
  readonly host?: string;
  /** Default 7878; 0 picks a free port (see `address.port`). */
  readonly port?: number;
  readonly dataDir: string;
  /**
   * The host's static key file; default `<dataDir>/host.key`. Every node of a cluster loads the
   * same one, so an invite works against any of them.
   */
  readonly keyFile?: string;
  /**
   * Run as a node of a cluster (docs/scaling.md): the host's database is a replica of the
   * cluster's log in PostgreSQL, and NATS carries what each node commits to the others.
   * Absent: one process and its SQLite file, as always.
   */
  readonly cluster?: ClusterOptions;
  /** Rooms to have: created at the first start, kept after (default lobby). */
  readonly rooms?: readonly string[];
  /**
   * `--open`: these rooms are open to anyone who connects (created open, and opened at every
   * start with it). Without it a new room is private: members get in by invite only.
   */
  readonly openRooms?: boolean;
  /**
   * Rooms created from now on that are not open (`rooms` on their first start, `create`, direct
   * messages) are end-to-end encrypted: members' devices encrypt with MLS and the host relays
   * what it cannot read (docs/protocol.md §12). Default false here, for the tests and tools that
   * embed a host; `parley --serve` passes true unless `--no-e2ee`.
   */
  readonly e2ee?: boolean;
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
  /** How often files past retention and unclaimed uploads are looked for (tests shorten it). */
  readonly fileSweepIntervalMs?: number;
  /**
   * The host's X.509 chain (DER, its own certificate first), sent in handshake message 2 for
   * clients that trust an authority (docs/trust.md). It must bind this host's static key.
   */
  readonly certificateChain?: readonly Uint8Array[];
  /**
   * How the WAL is made durable after commits (db/wal-sync.ts); default fdatasync on libuv's
   * thread pool. Tests inject one they can hold or fail.
   */
  readonly walSync?: SyncFunction;
  /**
   * A sync of the history failed: what was committed since the last good sync may be lost, so
   * the host has stopped serving (nothing waiting for it was sent). Default: exit with code 70.
   */
  readonly onFatal?: (error: Error) => void;
}

/** EX_SOFTWARE: the host stopped itself because its storage failed. */
const FATAL_EXIT_CODE = 70;

export interface RunningHost {
  readonly address: { readonly host: string; readonly port: number };
  readonly publicKey: Uint8Array;
  readonly fingerprint: string;
  readonly rooms: readonly string[];
  /**
   * Invites made at this start, to print: a one-use owner invite (7 days) for each room with no
   * owner, and for each room created now a reusable member invite.
   */
  readonly startInvites: readonly StartInvite[];
  /** Makes an invite (by default: member, no use limit, no expiry) and returns its link. */
  invite(room?: string, options?: InviteOptions): string;
  /** The room's link without a token: it pins the host, and admits members and open rooms. */
  link(room?: string): string;
  /** The certificate the host presents, if any. */
  readonly certificate?: HostCertificateSummary;
  /** Current connections, for status and tests. */
  readonly clientCount: number;
  /** Output held for the disk, and whether the host has stopped reading for it (tests, status). */
  readonly backpressure: BackpressureState;
  /** Tells every client why, commits what is pending, closes the database. */
  stop(reason?: string): Promise<void>;
}

export interface StartInvite {
  readonly room: string;
  readonly role: Role;
  readonly link: string;
}

export interface InviteOptions {
  readonly role?: Role;
  /** null (default): no limit. */
  readonly uses?: number | null;
  /** null (default): never expires. */
  readonly expiresInMs?: number | null;
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
  const e2ee = options.e2ee ?? false;

  await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
  const keyPair: KeyPair = await loadOrCreateKeyPair(
    options.keyFile ?? join(options.dataDir, 'host.key'),
    backend,
  );
  // forge is loaded only for a host that has a certificate, and refuses one for another key.
  const certificate = options.certificateChain
    ? (await import('../trust/host-certificate.ts')).checkHostChain(
        options.certificateChain,
        keyPair.publicKey,
        now(),
      )
    : undefined;
  for (const warning of certificate?.warnings ?? []) log('warn', 'host-certificate', { warning });
  // Until the host serves, a failed sync is kept and reported once it does (below).
  let earlyFailure: Error | undefined;
  let fatal = (error: Error): void => {
    earlyFailure ??= error;
  };
  const databaseOptions = {
    historyLimit: limits.historyLimit,
    // Every statement runs on the event loop: a lock held elsewhere must fail fast (the send
    // is refused with retryAfterMs and resent), not stall every connection for seconds.
    busyTimeoutMs: DATABASE_BUSY_TIMEOUT_MS,
    // A damaged event row is left out of what clients get; the operator hears of it.
    onSkippedRow: (seq: number, room: string) => log('warn', 'history-row-skipped', { seq, room }),
  };
  // A cluster node's database is a replica of the cluster's log (cluster/cluster-node.ts),
  // loaded only here: a single process never loads pg or nats.
  const cluster: ClusterNode | undefined = options.cluster
    ? await (
        await import('./cluster/cluster-node.ts')
      ).openClusterNode({
        cluster: options.cluster,
        hostPrivateKey: keyPair.privateKey,
        hostPublicKey: keyPair.publicKey,
        dataDir: options.dataDir,
        log,
        database: databaseOptions,
      })
    : undefined;
  const db =
    cluster?.db ??
    HostDatabase.open(join(options.dataDir, 'history.sqlite'), {
      ...databaseOptions,
      durability: {
        ...(options.walSync ? { sync: options.walSync } : {}),
        onFailure: (error) => fatal(error),
      },
    });
  // Host info is sent before the host knows who connects, so it names open rooms only; it is
  // encoded again whenever a room is opened or closed.
  const encodeInfo = () =>
    encodeHostInfo({
      name: options.name ?? 'Parley',
      rooms: db.rooms
        .openRooms()
        .map((room) => room.name)
        .slice(0, MAX_HOST_INFO_ROOMS),
      limits,
      ...(certificate ? { certificateChain: certificate.chain } : {}),
    });
  let hostInfo: Uint8Array;
  let pendingInvites: { room: string; role: Role; token: string }[];
  const prepare = () => {
    const invites = prepareRooms(db, roomNames, options.openRooms ?? false, e2ee, now(), log);
    // Devices unseen for 90 days are forgotten with their KeyPackages (docs/protocol.md §12).
    db.mls.retireUnseen(now());
    return invites;
  };
  try {
    // A cluster node writes only in a turn (cluster/cluster-turns.ts).
    pendingInvites = cluster ? await cluster.turns.run(prepare) : prepare();
    hostInfo = encodeInfo();
  } catch (error) {
    if (cluster) await cluster.close();
    else db.close();
    throw error;
  }

  const walSync = db.walSync;
  if (!walSync && !cluster) throw new Error('the host database was opened without durability');
  // What the output gate waits for: the WAL's syncs, or a cluster node's turns in PostgreSQL.
  const syncGroups: SyncGroups | undefined = cluster?.turns ?? walSync;
  if (!syncGroups) throw new Error('the host has nothing to make its answers durable');
  const serialize = cluster?.turns.serialize;
  // A slow disk stops the host reading its clients (durability-gate.ts); their silence meanwhile
  // is the host's doing, so the idle sweep does not count it.
  const gate = new DurabilityGate(syncGroups, {
    now,
    backpressure: { maxHeldPerChannel: Math.floor(limits.maxQueueBytes / 4) },
    onResumed: (from, to) => idle.excuse(from, to),
  });
  let stopping = false;
  const boundary = new ClientErrorBoundary(log);
  const rooms = new RoomRegistry(
    cluster
      ? { onPresence: (room, key, present) => cluster.presenceChanged(room, key, present) }
      : {},
  );
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
    e2ee,
    mlsChecks: loadHostMlsChecks,
    onClientFailure: boundary.clientFailed,
    ...(cluster ? { fanout: cluster.fanout, serialize: cluster.turns.serialize } : {}),
    openRoomsChanged: () => {
      try {
        hostInfo = encodeInfo();
      } catch (error) {
        // The previous host info stays: it names a room less or more, nothing worse.
        log('error', 'host-info-failed', failureFields(error));
      }
    },
  });
  const idle = new IdleSweep({
    limits,
    now,
    onClientFailure: boundary.clientFailed,
    hostStalled: () => gate.stalled,
  });
  const fileSweep = new FileSweep({
    files: () => db.files,
    retentionDays: limits.fileRetentionDays,
    now,
    log,
    ...(options.fileSweepIntervalMs ? { intervalMs: options.fileSweepIntervalMs } : {}),
    // Other nodes' uploads are in progress: only the retention sweeps run on a cluster node.
    ...(serialize ? { serialize, dropUnfinishedAtStart: false } : {}),
  });
  const clients = new ConnectedClients({
    limits,
    log,
    now,
    budgets: new KeyBudgets(limits),
    handler,
    idle,
    boundary,
    ...(serialize ? { serialize } : {}),
  });
  const hello = new HelloHandler({
    nicknames,
    stopping: () => stopping,
    welcome: (channel, nick, device) => clients.welcome(channel, nick, device),
    onFailure: boundary.admitFailed,
    ...(serialize ? { serialize } : {}),
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
    onChannel: (channel) => {
      // Nothing the host says leaves before the commits it reports are durable.
      channel.useOutputGate(gate);
      hello.greet(channel);
    },
  });

  // The invites startHost returns get printed (an operator acts on them), and the rooms they
  // name were created just now: like any answer, they wait until those commits are durable.
  // Waited for before listening, while nothing else commits (a failed sync resolves it too).
  await walSync?.idle();
  if (cluster) bindCluster(cluster);
  // The schemas load with the first connection, not at start (serve-after-schemas.ts).
  const accept = serveAfterSchemas((socket) => admission.offer(socket), log);
  const server = net.createServer({ noDelay: true }, accept);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? DEFAULT_HOST_PORT, options.host ?? '0.0.0.0', () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    // Not listening (the port is taken, say): nothing was served, so close what was opened
    // (the WAL's descriptor once a startup commit's sync has returned).
    if (cluster) {
      await cluster.close();
    } else {
      db.close();
      await walSync?.idle();
    }
    throw error;
  }
  if (!cluster) db.startCheckpointer();
  idle.start();
  fileSweep.start();
  fatal = (error) => {
    // Fail-stop: after a failed sync the page cache may have dropped what it held, and a later
    // sync proves nothing. Held output never leaves (no later group completes); no more is taken.
    log('error', cluster ? 'cluster-node-stopped' : 'wal-sync-failed', failureFields(error));
    stopping = true;
    admission.close();
    idle.stop();
    fileSweep.stop();
    server.close();
    // Told at once: what is held is dropped (the goodbye would otherwise wait behind it for ever).
    clients.closeAll('the host stopped: its storage failed', { discardHeld: true });
    if (options.onFatal) options.onFatal(error);
    else process.exit(FATAL_EXIT_CODE);
  };
  if (earlyFailure) fatal(earlyFailure);
  cluster?.watchPresence(rooms);
  server.on('error', (error: NodeJS.ErrnoException) =>
    log('error', 'listener-error', { code: error.code }),
  );
  const bound = server.address() as AddressInfo;
  const publicHost = options.publicHost ?? guessPublicHost(bound.address);
  const linkTo = (room: string, token?: string) =>
    formatInvite({
      host: publicHost,
      port: bound.port,
      room,
      hostKey: keyPair.publicKey,
      ...(token === undefined ? {} : { token }),
    });
  try {
    // `parley host invite`, run on this machine while the host runs, builds its links from this
    // (a single host's file only: a cluster's nodes have no file of their own to share).
    if (!cluster) db.rooms.setPublicAddress(publicHost, bound.port);
  } catch (error) {
    log('error', 'public-address-failed', failureFields(error));
  }
  const startInvites = pendingInvites.map(({ room, role, token }) => ({
    room,
    role,
    link: linkTo(room, token),
  }));
  log('info', 'host-started', {
    address: `${bound.address}:${bound.port}`,
    rooms: roomNames.join(','),
    backend: backend.name,
  });

  /** The node's part in the host: what its turns need, and what stops it. */
  function bindCluster(node: ClusterNode): void {
    node.hooks.flush = () => {
      nicknames.flush();
      handler.flush();
    };
    let infoScheduled = false;
    node.hooks.applied = () => {
      // Another node may have opened or closed a room: the host info names open rooms. Once per
      // event-loop turn, however many entries it applied.
      if (infoScheduled) return;
      infoScheduled = true;
      setImmediate(() => {
        infoScheduled = false;
        try {
          hostInfo = encodeInfo();
        } catch (error) {
          log('error', 'host-info-failed', failureFields(error));
        }
      });
    };
    node.hooks.turnFailed = () => {
      // What the turn answered was never in the log: it is dropped, and every connection of
      // this node starts again (clients resend what was not acknowledged).
      clients.closeAll('the host lost its database in the middle of a write; reconnect', {
        discardHeld: true,
      });
    };
    node.hooks.diverged = (error) => {
      log('error', 'cluster-replica-diverged', failureFields(error));
      fatal(error);
    };
  }

  return {
    address: { host: bound.address, port: bound.port },
    publicKey: keyPair.publicKey,
    fingerprint: fingerprint(keyPair.publicKey),
    rooms: roomNames,
    startInvites,
    ...(certificate ? { certificate: certificate.summary } : {}),
    invite: (room = roomNames[0] ?? 'lobby', invite: InviteOptions = {}) => {
      if (cluster) {
        throw new Error(
          "a cluster node writes only in its turns: use the start invites, or an owner's invite",
        );
      }
      const ttl = invite.expiresInMs ?? null;
      const { token } = db.rooms.createInvite(
        {
          room,
          role: invite.role ?? 'member',
          uses: invite.uses ?? null,
          expiresAt: ttl === null ? null : now() + ttl,
        },
        now(),
      );
      return linkTo(room, token);
    },
    link: (room = roomNames[0] ?? 'lobby') => linkTo(room),
    get clientCount() {
      return clients.size;
    },
    get backpressure() {
      return gate.state;
    },
    async stop(reason = 'the host is shutting down') {
      if (stopping) return;
      stopping = true;
      admission.close();
      idle.stop();
      fileSweep.stop();
      server.close();
      // Everything received is committed (and acknowledged) before goodbye; nickname claims
      // still waiting are answered, and, as the host is stopping, told so.
      if (cluster) {
        await cluster.turns.run(() => {}).catch(() => {});
      } else {
        nicknames.flush();
        handler.flush();
      }
      clients.closeAll(reason);
      await admission.drain(SHUTDOWN_GRACE_MS);
      if (cluster) await cluster.close();
      else await db.shutdown();
      log('info', 'host-stopped', {});
    },
  };
}

/**
 * Makes sure the named rooms exist (a new one private unless `open`, and then end-to-end
 * encrypted with `e2ee`; with `open`, an existing one is opened unless it is end-to-end
 * encrypted: such a room stays private), and returns the invites to print: for a room created now a reusable member
 * invite, and for every room without an owner (new, or from a version without membership) a
 * one-use owner invite, so the operator can hand the room to someone.
 */
function prepareRooms(
  db: HostDatabase,
  names: readonly string[],
  open: boolean,
  e2ee: boolean,
  now: number,
  log: HostLog,
): { room: string; role: Role; token: string }[] {
  const store = db.rooms;
  const created = new Set<string>();
  for (const name of names) {
    const room = store.room(name);
    if (!room) {
      store.createRoom({ name, kind: 'room', open, e2ee: e2ee && !open }, [], undefined, now);
      created.add(name);
    } else if (open && room.kind === 'room' && !room.open && room.e2ee) {
      log('warn', 'room-stays-private', { room: name, why: 'end-to-end encrypted' });
    } else if (open && room.kind === 'room' && !room.open) {
      store.setOpen(name, true, undefined, now);
    }
  }
  const invites: { room: string; role: Role; token: string }[] = [];
  const ordered = [
    ...names,
    ...store
      .rooms()
      .map((room) => room.name)
      .filter((name) => !names.includes(name)),
  ];
  for (const name of ordered) {
    const room = store.room(name);
    if (room?.kind !== 'room') continue;
    if (!store.members(name).some((member) => member.role === 'owner')) {
      const { token } = store.createInvite(
        { room: name, role: 'owner', uses: 1, expiresAt: now + OWNER_INVITE_TTL_MS },
        now,
      );
      invites.push({ room: name, role: 'owner', token });
    }
    if (created.has(name)) {
      const { token } = store.createInvite(
        { room: name, role: 'member', uses: null, expiresAt: null },
        now,
      );
      invites.push({ room: name, role: 'member', token });
    }
  }
  return invites;
}
