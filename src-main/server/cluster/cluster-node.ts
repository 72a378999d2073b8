// What makes a host process a cluster node (docs/scaling.md): a replica of the host's database
// rebuilt from the cluster's log in PostgreSQL, turns that write the log, and NATS between the
// nodes. host.ts wires it in place of the single process's SQLite file and WAL sync; the rest of
// the host is the same code.
import fs from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { SCHEMA_VERSION } from '../db/schema.ts';
import type { Fanout, LocalFanout } from '../fanout.ts';
import { failureFields } from '../failure-fields.ts';
import { HostDatabase, type HostDatabaseOptions } from '../host-database.ts';
import type { HostLog } from '../host-log.ts';
import { BusSeal } from './bus-seal.ts';
import { ClusterBus } from './cluster-bus.ts';
import { ClusterLog } from './cluster-log.ts';
import type { ClusterOptions } from './cluster-options.ts';
import { ClusterTurns, CompactedPast } from './cluster-turns.ts';
import { LOG_FORMAT_VERSION } from './log-entry.ts';
import { RecordingFanout } from './recording-fanout.ts';
import { RemotePresence } from './remote-presence.ts';
import { DEFAULT_COMPACTION, LogCompaction } from './log-compaction.ts';
import { encodeMessage } from '../../protocol/wire/codec.ts';
import { fingerprint } from '../../protocol/node-fingerprint.ts';
import { decodePublicKeyText } from '../../../src-shared/identifiers.ts';
import type { RoomRegistry } from '../room-registry.ts';

/** Each node sends its whole presence list this often; a node silent for 3 lists is gone. */
const PRESENCE_LIST_MS = 5000;
const PRESENCE_EXPIRY_MS = 3 * PRESENCE_LIST_MS;

/** What the node asks of the host it is part of (bound once the host has made them). */
export interface ClusterNodeHooks {
  /** Commits what the turn's work batched (the request handler's and nicknames' queues). */
  flush: () => void;
  /** Another node's entry changed the replica. */
  applied: () => void;
  /** A turn's COMMIT failed: its answers were dropped; the node's connections must reconnect. */
  turnFailed: (error: Error) => void;
  /** The replica does not match the log: the node must stop. */
  diverged: (error: Error) => void;
}

export interface ClusterNode {
  readonly name: string;
  readonly db: HostDatabase;
  readonly turns: ClusterTurns;
  readonly hooks: ClusterNodeHooks;
  /** Wraps the request handler's own fan-out so that other nodes replay it. */
  fanout(local: LocalFanout): Fanout;
  /** The room registry's presence changes (its `onPresence`), told to the other nodes. */
  presenceChanged(room: string, keyText: string, present: boolean): void;
  /** Starts sending this node's presence list, and watching for nodes that went silent. */
  watchPresence(rooms: RoomRegistry): void;
  /** Stops turns (after the queued ones), NATS and PostgreSQL, and removes the replica. */
  close(): Promise<void>;
}

export interface ClusterNodeOptions {
  readonly cluster: ClusterOptions;
  /** The host's static private key: the NATS messages' seal is derived from it (bus-seal.ts). */
  readonly hostPrivateKey: Uint8Array;
  /** The host's static public key: the cluster's log records it, and refuses another. */
  readonly hostPublicKey: Uint8Array;
  readonly dataDir: string;
  readonly log: HostLog;
  readonly database: Pick<HostDatabaseOptions, 'historyLimit' | 'busyTimeoutMs' | 'onSkippedRow'>;
}

/**
 * Opens the node: PostgreSQL (the log's tables made or checked), a fresh replica with every entry
 * of the log applied, and NATS subscribed before that catch-up so no entry falls between them.
 */
export async function openClusterNode(options: ClusterNodeOptions): Promise<ClusterNode> {
  const name = options.cluster.nodeName ?? `${hostname()}-${process.pid}`;
  const log = options.log;
  const replicaDir = join(options.dataDir, 'replica');
  fs.mkdirSync(replicaDir, { recursive: true, mode: 0o700 });
  const replicaPath = join(replicaDir, `${safeFileName(name)}.sqlite`);
  // The replica is a cache of the log: whatever a previous run left is rebuilt from scratch.
  removeReplica(replicaPath);

  const clusterLog = await ClusterLog.open(
    options.cluster.databaseUrl,
    { schema: SCHEMA_VERSION, format: LOG_FORMAT_VERSION, hostKey: options.hostPublicKey },
    (error) => log('warn', 'cluster-database-connection-lost', failureFields(error)),
  );
  let db: HostDatabase;
  let startPos: number;
  let applied: number;
  try {
    // The newest snapshot and the entries after it. A compaction that ends between the two (the
    // entries this start needs are gone) means starting over from the snapshot it made.
    for (let attempt = 1; ; attempt++) {
      startPos = await loadSnapshot(clusterLog, replicaPath);
      db = HostDatabase.open(replicaPath, { ...options.database, replica: true });
      try {
        applied = await applyLog(clusterLog, db, startPos);
        break;
      } catch (error) {
        db.close();
        removeReplica(replicaPath);
        if (!(error instanceof CompactedPast) || attempt === 3) throw error;
      }
    }
  } catch (error) {
    await clusterLog.close();
    removeReplica(replicaPath);
    throw error;
  }
  const hooks: ClusterNodeHooks = {
    flush: () => {},
    applied: () => {},
    turnFailed: () => {},
    diverged: () => {},
  };
  let bus: ClusterBus | undefined;
  const remote = new RemotePresence({ expiryMs: PRESENCE_EXPIRY_MS });
  let recording: RecordingFanout | undefined;
  let registry: RoomRegistry | undefined;
  const sendPresence = () => {
    if (registry) bus?.publishPresence(registry.presence());
  };
  let presenceTimer: NodeJS.Timeout | undefined;
  // Members of a node that went silent (killed, cut off) or restarted empty are told gone here,
  // unless they are still in the room through this node.
  const tellGone = (pairs: readonly { room: string; key: string }[]) => {
    for (const { room, key } of pairs) {
      if (!registry || registry.present(room, key)) continue;
      const bytes = departure(db, room, key);
      if (bytes) recording?.local.toRoomExceptKey(room, bytes, key);
    }
  };
  const turns = new ClusterTurns({
    db,
    log: clusterLog,
    node: name,
    hostLog: log,
    flush: () => hooks.flush(),
    publish: (entry) => bus?.publishEntry(entry),
    publishLive: (effects) => bus?.publishLive(effects),
    applied: () => hooks.applied(),
    turnFailed: (error) => hooks.turnFailed(error),
    diverged: (error) => hooks.diverged(error),
  });
  turns.startAt(applied);
  try {
    const seal = new BusSeal(options.hostPrivateKey, clusterLog.cluster);
    bus = await ClusterBus.connect(options.cluster.natsUrl, clusterLog.cluster, name, seal, {
      onEntry: (entry) => turns.received(entry),
      onLive: (_node, effects) => turns.live(effects),
      onReconnected: () => {
        log('info', 'cluster-bus-reconnected', {});
        turns.reconnected();
        bus?.requestPresence();
      },
      onPresenceList: (node, rooms) => tellGone(remote.replace(node, rooms)),
      onPresenceRequest: () => sendPresence(),
      onBadMessage: (error) => log('warn', 'cluster-bus-bad-message', failureFields(error)),
    });
    await turns.catchUpAll();
  } catch (error) {
    await bus?.close();
    await clusterLog.close();
    db.close();
    removeReplica(replicaPath);
    throw error;
  }
  turns.startPolling();
  const compaction = new LogCompaction({
    log: clusterLog,
    db,
    turns,
    node: name,
    dir: replicaDir,
    hostLog: log,
    policy: { ...DEFAULT_COMPACTION, ...options.cluster.compaction },
  });
  compaction.start();
  log('info', 'cluster-node-ready', { node: name, snapshot: startPos, applied: turns.applied });

  return {
    name,
    db,
    turns,
    hooks,
    fanout: (local) => {
      recording = new RecordingFanout(local, name, remote);
      turns.fanout = recording;
      return recording;
    },
    presenceChanged: (room, keyText, present) => recording?.here(room, keyText, present),
    watchPresence: (rooms) => {
      registry = rooms;
      bus?.requestPresence();
      presenceTimer = setInterval(() => {
        sendPresence();
        tellGone(remote.expire());
      }, PRESENCE_LIST_MS);
      presenceTimer.unref();
    },
    close: async () => {
      clearInterval(presenceTimer);
      await compaction.stop();
      await turns.stop();
      turns.close();
      await bus?.close();
      await clusterLog.close();
      db.close();
      removeReplica(replicaPath);
    },
  };
}

/** A `disconnected` presence for a key of a node that went silent (its nickname from the store). */
function departure(db: HostDatabase, room: string, keyText: string): Uint8Array | undefined {
  const key = decodePublicKeyText(keyText);
  if (!key) return undefined;
  try {
    const nick = db.nickOf(key);
    if (nick === undefined) return undefined;
    return encodeMessage({
      t: 'presence',
      room,
      event: 'disconnected',
      nick,
      fp: fingerprint(key),
      key: keyText,
    });
  } catch {
    return undefined;
  }
}

/** Writes the newest complete snapshot to `path` (none: an empty file); its position. */
async function loadSnapshot(log: ClusterLog, path: string): Promise<number> {
  // Another node may replace (and delete) the snapshot while it is read: take the new one.
  for (let tries = 0; tries < 5; tries++) {
    const snapshot = await log.latestSnapshot();
    if (!snapshot) return 0;
    if (await log.readSnapshot(snapshot.id, path)) return snapshot.pos;
    removeReplica(path);
  }
  throw new Error('the log was compacted five times while this node started');
}

/** Applies every entry after `from` to a replica no one uses yet; the last position applied. */
async function applyLog(log: ClusterLog, db: HostDatabase, from: number): Promise<number> {
  let applied = from;
  for (;;) {
    const entries = await log.entriesAfter(applied);
    if (entries.length === 0) return applied;
    for (const entry of entries) {
      if (entry.pos !== applied + 1) throw new CompactedPast(entry.pos, applied);
      if (entry.changes.length > 0) db.applyChanges(entry.changes);
      applied = entry.pos;
    }
  }
}

function removeReplica(path: string): void {
  for (const suffix of ['', '-wal', '-shm']) fs.rmSync(`${path}${suffix}`, { force: true });
}

/** A node name as a file name: letters, digits, dot, dash and underscore. */
function safeFileName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 100) || 'node';
}
