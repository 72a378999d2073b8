// The `--cluster` section of `npm run bench` (#19, docs/scaling.md): what running the host as a
// cluster costs and gives, on this machine, in one run. The same fan-out rows as the default run
// (bench/run.ts's fanout(): same load generator, flow control and windows) are measured back to
// back on
//   - the single process (bench/host-process.ts, SQLite, as shipped),
//   - clusters of 1, 2 and 4 node processes (host-process.ts with PARLEY_BENCH_CLUSTER: each node
//     its own process and port; every cluster its own database on one PostgreSQL, all on one
//     NATS), clients and senders spread round-robin over the nodes,
//   - ngircd (bench/ngircd.ts), the C IRC server every fan-out row is compared with.
// Beside deliveries/s and latency: ack latency (send → ack: for a cluster, the PostgreSQL COMMIT
// is in it), CPU per delivery of the node processes and, apart, of PostgreSQL (the postmaster and
// its backends, from /proc) and NATS, the log's turns per second, and the write rate: messages
// acknowledged per second in one room where every member sends — bounded by the log's lock, one
// turn at a time cluster-wide. Last, the turn's skeleton on PostgreSQL alone (one client, the
// node's statements) with fsync'd and unsynced COMMITs, to say where a turn's time goes.
//
// PostgreSQL and nats-server are started as the cluster tests start them (test/support: Debian's
// packages, a temporary folder, a free 127.0.0.1 port, fsync on, as the `postgres` user when
// root); without them the section says "not measured" and why.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { type NatsServer, startNatsServer } from '../test/support/nats-server.ts';
import { type PostgresServer, startPostgres } from '../test/support/postgres-server.ts';
import { median, monoNow, round, sleep } from './measure.ts';
import type { BenchServer, FanoutResult, FixedLoadResult, ServerStats } from './run.ts';

/** One node process of a cluster (run.ts's BenchHost with the cluster's variables). */
export interface NodeProcess {
  readonly port: number;
  readonly pid: number;
  readonly publicKey: Uint8Array;
  stats(): Promise<ServerStats>;
  /** With --profile: a CPU profile of the node for one row (bench/profiles/). */
  profile<T>(name: string, work: () => Promise<T>): Promise<T>;
  stop(): Promise<void>;
}

/** A server the section starts and stops (the single process, ngircd). */
export type OwnedServer = BenchServer & { stop(): Promise<void> };

export interface ClusterDeps {
  readonly quick: boolean;
  readonly log: (line: string) => void;
  /** Room sizes: each measured with 1 sender and with N/10 senders (as the default rows). */
  readonly memberCounts: readonly number[];
  readonly nodeCounts: readonly number[];
  /** Members (all sending) of the write-rate room. */
  readonly writeMembers: number;
  /** How long the PostgreSQL turn skeleton runs, per variant. */
  readonly skeletonMs: number;
  /** Where the nodes' key file and data folders go. */
  readonly tmpDir: string;
  startSingle(rooms: string[]): Promise<OwnedServer>;
  startNode(rooms: string[], env: Record<string, string>): Promise<NodeProcess>;
  startNgircd(): Promise<(OwnedServer & { readonly version: string }) | { reason: string }>;
  /** Points the load threads at the server (its key, cipher, protocol). */
  target(server: BenchServer): Promise<void>;
  fanout(
    server: BenchServer,
    config: { members: number; senders: number },
    room: string,
  ): Promise<FanoutResult>;
  /** A fixed offered load (bench/run.ts's fixedLoad()), for latency that is not queueing. */
  fixed(
    server: BenchServer,
    config: { members: number; senders: number; ratePerSec: number },
    room: string,
  ): Promise<FixedLoadResult>;
  /** Members of the fixed-load room (a tenth of them send, 10 msg/s each). */
  readonly fixedMembers: number;
}

export type ServerLabel = 'single' | 'cluster' | 'ngircd';

export interface ClusterRow {
  /**
   * fanout: saturating, 1 or N/10 senders; writes: saturating, every member sends; fixed: N/10
   * senders at 10 msg/s each (the default run's fixed-load row), where latency is not a queue's.
   */
  readonly test: 'fanout' | 'writes' | 'fixed';
  readonly server: ServerLabel;
  /** Node processes (1 for the single process and ngircd). */
  readonly nodes: number;
  readonly members: number;
  readonly senders: number;
  /** fixed: messages per second from each sender. */
  readonly ratePerSec: number | null;
  /**
   * Saturating rows: messages in flight per sender (unacknowledged). At saturation the ack
   * latency is mostly this queue: about window ÷ (acks/s per sender) (Little's law).
   */
  readonly senderWindow: number | null;
  readonly deliveriesPerSec: number;
  readonly messagesPerSec: number;
  /** Messages acknowledged per second (Parley only; ngircd has no acks). */
  readonly acksPerSec: number | null;
  readonly ackP50Ms: number | null;
  readonly ackP99Ms: number | null;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Server CPU per delivery (ns): the node processes' sum (the process; ngircd). */
  readonly hostNsPerDelivery: number;
  /** A cluster's PostgreSQL (postmaster and backends) and nats-server, per delivery (ns). */
  readonly postgresNsPerDelivery: number | null;
  readonly natsNsPerDelivery: number | null;
  /** Everything the server side spent per delivery: nodes + PostgreSQL + NATS. */
  readonly totalNsPerDelivery: number;
  /** % of one core. */
  readonly hostCpuPct: number;
  readonly postgresCpuPct: number | null;
  readonly natsCpuPct: number | null;
  readonly loadCpuPct: number;
  readonly machineBusyPct: number;
  /** Log entries committed per second (a cluster's turns that changed something). */
  readonly turnsPerSec: number | null;
  readonly messagesPerTurn: number | null;
  /**
   * Share of samples (every 5 ms, pg_stat_activity) in which a node's session was inside a
   * transaction and not waiting: the log's lock held by a turn (%); and how many sessions waited
   * for it on average. Saturating rows only.
   */
  readonly lockBusyPct: number | null;
  readonly lockWaiters: number | null;
  /** lockBusyPct ÷ turnsPerSec: how long a turn holds the log's lock (ms, derived). */
  readonly lockMsPerTurn: number | null;
  /**
   * fanout: deliveries/s, writes: acks/s (higher is better); fixed: delivery p99 (lower is
   * better): ÷ the single process's, ÷ ngircd's.
   */
  readonly vsSingle: number | null;
  readonly vsNgircd: number | null;
  /** totalNsPerDelivery ÷ the single process's. */
  readonly nsVsSingle: number | null;
  readonly windows: number[];
  readonly problems: string[];
}

/** One client doing a turn's statements (cluster-log.ts) in a loop: the log's own ceiling. */
export interface TurnSkeleton {
  /** 1 KB of random bytes (a quiet turn), or the entries the write-rate turns wrote, replayed. */
  readonly entries: 'random 1 KB' | 'from the log';
  /** synchronous_commit: on (COMMIT waits for the WAL fsync, as the cluster runs) or off. */
  readonly synchronousCommit: boolean;
  /**
   * The bytea columns' storage: PostgreSQL's default compresses values over ~2 KB (TOAST,
   * pglz), as parley_log has it; 'external' stores them uncompressed.
   */
  readonly storage: 'default' | 'external';
  readonly turnsPerSec: number;
  /** Medians: `BEGIN; SELECT … FOR UPDATE`, the INSERT + UPDATE, COMMIT, and the whole turn. */
  readonly lockMs: number;
  readonly writeMs: number;
  readonly commitMs: number;
  readonly turnMs: number;
  readonly entryBytes: number;
  /** PostgreSQL's CPU (postmaster and backends) per turn, ms. */
  readonly postgresCpuMsPerTurn: number;
}

interface SkeletonVariant {
  readonly entries: TurnSkeleton['entries'];
  readonly synchronousCommit: boolean;
  readonly storage: TurnSkeleton['storage'];
}

type Entry = { readonly changes: Buffer; readonly effects: Buffer };

export interface LogEntries {
  readonly nodes: number;
  readonly entries: number;
  readonly averageChangesBytes: number;
  readonly averageEffectsBytes: number;
  /** Entries whose changes or effects PostgreSQL stored compressed (TOAST, pglz: its CPU). */
  readonly compressed: number;
}

export type ClusterOutcome =
  | { readonly measured: false; readonly reason: string }
  | {
      readonly measured: true;
      readonly postgres: string;
      readonly nats: string;
      readonly ngircd: string;
      readonly nodeCounts: readonly number[];
      /** `SELECT 1` from this process: one round trip to PostgreSQL (median ms). */
      readonly roundTripMs: number;
      readonly rows: ClusterRow[];
      readonly skeleton: TurnSkeleton[];
      readonly entries: LogEntries[];
    };

// ── the services ─────────────────────────────────────────────────────────────────────

/** How often the log's lock is sampled (pg_stat_activity) while a cluster row is measured. */
const SAMPLE_MS = 5;

const clockTicks = (() => {
  const out = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout;
  return Number(out?.trim()) || 100;
})();

/** [pid, ppid, utime+stime, cutime+cstime] in µs, or undefined if it exited. */
function readStat(pid: number): [number, number, number] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const tick = 1e6 / clockTicks;
    return [
      Number(fields[1]),
      (Number(fields[11]) + Number(fields[12])) * tick,
      (Number(fields[13]) + Number(fields[14])) * tick,
    ];
  } catch {
    return undefined;
  }
}

function pids(): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number);
}

/** The process whose command line has all of `parts` among its arguments. */
function findProcess(parts: string[]): number | undefined {
  for (const pid of pids()) {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (parts.every((part) => args.includes(part))) return pid;
    } catch {
      // It exited while we looked.
    }
  }
  return undefined;
}

/**
 * CPU time (µs) of a process and its children: the postmaster's backends are processes of their
 * own, and one that exits leaves its time in the postmaster's cutime (the postmaster reaps it),
 * so the sum only grows. Split into user/system is not kept: /proc's sum is what counts here.
 */
function treeCpuUs(root: number): number {
  let total = 0;
  for (const pid of pids()) {
    const stat = readStat(pid);
    if (!stat) continue;
    if (pid === root) total += stat[1] + stat[2];
    else if (stat[0] === root) total += stat[1] + stat[2];
  }
  return total;
}

class Services {
  readonly postgres: PostgresServer;
  readonly nats: NatsServer;
  readonly postgresPid: number;
  readonly natsPid: number;

  private constructor(postgres: PostgresServer, nats: NatsServer, pgPid: number, natsPid: number) {
    this.postgres = postgres;
    this.nats = nats;
    this.postgresPid = pgPid;
    this.natsPid = natsPid;
  }

  static async start(): Promise<Services> {
    const [postgres, nats] = await Promise.all([startPostgres(), startNatsServer()]);
    const pgPid = findProcess(['-c', `port=${postgres.port}`]);
    const natsPid = findProcess(['--port', String(nats.port)]);
    if (pgPid === undefined || natsPid === undefined) {
      await Promise.all([postgres.remove(), nats.stop()]);
      throw new Error('could not find the PostgreSQL or nats-server process in /proc');
    }
    return new Services(postgres, nats, pgPid, natsPid);
  }

  cpu(): Record<string, { user: number; system: number }> {
    return {
      postgres: { user: treeCpuUs(this.postgresPid), system: 0 },
      nats: { user: treeCpuUs(this.natsPid), system: 0 },
    };
  }

  /** The URL of database `name`, created now on the same server. */
  async database(name: string): Promise<string> {
    const client = new pg.Client({ connectionString: this.postgres.url });
    await client.connect();
    try {
      await client.query(`CREATE DATABASE ${name}`);
    } finally {
      await client.end();
    }
    const url = new URL(this.postgres.url);
    url.pathname = `/${name}`;
    return url.href;
  }

  async stop(): Promise<void> {
    await Promise.all([this.postgres.remove(), this.nats.stop()]);
  }
}

// ── a cluster as one bench server ────────────────────────────────────────────────────

class ClusterTarget implements BenchServer {
  readonly kind = 'chachapoly';
  readonly cipher = 'chachapoly';
  readonly protocol = 'parley';
  readonly nodes: NodeProcess[];
  readonly #services: Services;
  readonly #log: pg.Client;
  /** A connection of its own for the lock sampler (pg runs one query at a time per client). */
  readonly #sampler: pg.Client;
  readonly #lock = { samples: 0, held: 0, waiting: 0 };
  #sampling: Promise<void> | undefined;
  #sample = false;

  private constructor(
    nodes: NodeProcess[],
    services: Services,
    log: pg.Client,
    sampler: pg.Client,
  ) {
    this.nodes = nodes;
    this.#services = services;
    this.#log = log;
    this.#sampler = sampler;
  }

  /**
   * Samples the nodes' PostgreSQL sessions every few ms while a row is measured: how often one of
   * them is inside a transaction and not waiting for a lock (a turn holds the log's lock: its
   * `SELECT … FOR UPDATE` is the first statement), and how many wait for that lock. The log's lock
   * busy most of the time means the turns are what limits the cluster.
   */
  startSampling(): void {
    if (this.#sampling) return;
    this.#sample = true;
    this.#sampling = (async () => {
      while (this.#sample) {
        const { rows } = await this.#sampler.query<{ held: string; waiting: string }>(
          `SELECT count(*) FILTER (WHERE xact_start IS NOT NULL AND wait_event_type IS DISTINCT FROM 'Lock') AS held,
                  count(*) FILTER (WHERE wait_event_type = 'Lock') AS waiting
             FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'parley'`,
        );
        this.#lock.samples++;
        this.#lock.held += Math.min(1, Number(rows[0]?.held ?? 0));
        this.#lock.waiting += Number(rows[0]?.waiting ?? 0);
        await sleep(SAMPLE_MS);
      }
    })().catch(() => undefined);
  }

  async stopSampling(): Promise<void> {
    this.#sample = false;
    await this.#sampling;
    this.#sampling = undefined;
  }

  static async start(
    count: number,
    services: Services,
    deps: ClusterDeps,
    rooms: string[],
  ): Promise<ClusterTarget> {
    const databaseUrl = await services.database(`parley_c${count}`);
    const keyFile = join(deps.tmpDir, `cluster-${count}.key`);
    const nodes: NodeProcess[] = [];
    const log = new pg.Client({ connectionString: databaseUrl });
    const sampler = new pg.Client({ connectionString: databaseUrl });
    try {
      // One after another: the first creates the log's tables, the key file and the rooms.
      for (let i = 1; i <= count; i++) {
        const cluster = { natsUrl: services.nats.url, databaseUrl, nodeName: `c${count}n${i}` };
        nodes.push(
          await deps.startNode(rooms, {
            PARLEY_BENCH_CLUSTER: JSON.stringify(cluster),
            PARLEY_BENCH_KEY_FILE: keyFile,
          }),
        );
      }
      await log.connect();
      await sampler.connect();
    } catch (error) {
      for (const node of nodes) await node.stop();
      await log.end().catch(() => undefined);
      await sampler.end().catch(() => undefined);
      throw error;
    }
    return new ClusterTarget(nodes, services, log, sampler);
  }

  get port(): number {
    return this.nodes[0]?.port ?? 0;
  }

  get ports(): number[] {
    return this.nodes.map((n) => n.port);
  }

  get publicKey(): Uint8Array {
    return this.nodes[0]?.publicKey ?? new Uint8Array(32);
  }

  async stats(): Promise<ServerStats> {
    const [all, head] = await Promise.all([
      Promise.all(this.nodes.map((n) => n.stats())),
      this.#log.query<{ pos: string }>('SELECT pos FROM parley_head WHERE id = 1'),
    ]);
    const events: Record<string, number> = {};
    for (const [i, s] of all.entries()) {
      for (const [event, n] of Object.entries(s.events)) events[`node ${i + 1}: ${event}`] = n;
    }
    return {
      cpu: {
        user: all.reduce((sum, s) => sum + s.cpu.user, 0),
        system: all.reduce((sum, s) => sum + s.cpu.system, 0),
      },
      // The nodes' own clocks have their own origins: this process's is the span's clock.
      at: monoNow(),
      rss: all.reduce((sum, s) => sum + s.rss, 0),
      clients: all.reduce((sum, s) => sum + s.clients, 0),
      events,
      services: this.#services.cpu(),
      counters: {
        turns: Number(head.rows[0]?.pos ?? NaN),
        lockSamples: this.#lock.samples,
        lockHeld: this.#lock.held,
        lockWaiting: this.#lock.waiting,
      },
    };
  }

  async waitForClients(count: number, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const clients = (await Promise.all(this.nodes.map((n) => n.stats()))).reduce(
        (sum, s) => sum + s.clients,
        0,
      );
      if (clients === count) return;
      if (Date.now() > deadline)
        throw new Error(`the cluster has ${clients} clients, expected ${count}`);
      await sleep(50);
    }
  }

  /** With --profile: every node profiled over the same row, one file each (c<count>n<i>-…). */
  profile<T>(name: string, work: () => Promise<T>): Promise<T> {
    const count = this.nodes.length;
    return this.nodes.reduce<() => Promise<T>>(
      (inner, node, i) => () => node.profile(`c${count}n${i + 1}-${name}`, inner),
      work,
    )();
  }

  /** The log's last entries (the write-rate turns), for the skeleton to replay. */
  async lastEntries(limit: number): Promise<Entry[]> {
    const { rows } = await this.#log.query<Entry>(
      'SELECT changes, effects FROM parley_log ORDER BY pos DESC LIMIT $1',
      [limit],
    );
    return rows;
  }

  /** What the log holds after the run: how big a turn's entry is. */
  async entries(): Promise<LogEntries> {
    const { rows } = await this.#log.query<{
      n: string;
      changes: string;
      effects: string;
      compressed: string;
    }>(
      `SELECT count(*) AS n, avg(octet_length(changes)) AS changes, avg(octet_length(effects)) AS effects,
              count(*) FILTER (WHERE pg_column_compression(changes) IS NOT NULL
                                  OR pg_column_compression(effects) IS NOT NULL) AS compressed
         FROM parley_log`,
    );
    const row = rows[0];
    return {
      nodes: this.nodes.length,
      entries: Number(row?.n ?? 0),
      averageChangesBytes: Math.round(Number(row?.changes ?? 0)),
      averageEffectsBytes: Math.round(Number(row?.effects ?? 0)),
      compressed: Number(row?.compressed ?? 0),
    };
  }

  async stop(): Promise<void> {
    await this.stopSampling();
    await this.#log.end().catch(() => undefined);
    await this.#sampler.end().catch(() => undefined);
    for (const node of this.nodes) await node.stop();
  }
}

// ── PostgreSQL alone: a turn's statements, one client ────────────────────────────────

async function roundTripMs(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const times: number[] = [];
    for (let i = 0; i < 200; i++) {
      const began = performance.now();
      await client.query('SELECT 1');
      times.push(performance.now() - began);
    }
    return round(median(times));
  } finally {
    await client.end();
  }
}

/**
 * The statements of one turn (src-main/server/cluster/cluster-log.ts: `BEGIN; SELECT … FOR
 * UPDATE`, the INSERT of the entry with the UPDATE of the head, COMMIT), on tables of the same
 * shape, in a loop from one client: the ceiling of turns per second the log allows here, and
 * what each round trip takes. With synchronous_commit off, COMMIT does not wait for the WAL's
 * fsync: the difference is the fsync's share.
 */
async function turnSkeleton(
  url: string,
  durationMs: number,
  entries: readonly Entry[],
  variant: SkeletonVariant,
  postgresCpuUs: () => number,
): Promise<TurnSkeleton> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`
      DROP TABLE IF EXISTS bench_head, bench_log;
      CREATE TABLE bench_head (id integer PRIMARY KEY, pos bigint NOT NULL);
      CREATE TABLE bench_log (pos bigint PRIMARY KEY, node text NOT NULL,
        at timestamptz NOT NULL DEFAULT now(), changes bytea NOT NULL, effects bytea NOT NULL);
      INSERT INTO bench_head VALUES (1, 0);`);
    if (variant.storage === 'external') {
      await client.query(`ALTER TABLE bench_log ALTER COLUMN changes SET STORAGE EXTERNAL,
                                                ALTER COLUMN effects SET STORAGE EXTERNAL`);
    }
    await client.query(`SET synchronous_commit = ${variant.synchronousCommit ? 'on' : 'off'}`);
    const entryBytes = Math.round(
      entries.reduce((sum, e) => sum + e.changes.length + e.effects.length, 0) / entries.length,
    );
    const cpuBefore = postgresCpuUs();
    const lock: number[] = [];
    const write: number[] = [];
    const commit: number[] = [];
    const turn: number[] = [];
    const end = performance.now() + durationMs;
    let pos = 0;
    while (performance.now() < end) {
      const t0 = performance.now();
      await client.query('BEGIN; SELECT pos FROM bench_head WHERE id = 1 FOR UPDATE');
      const t1 = performance.now();
      const entry = entries[pos % entries.length] as Entry;
      pos++;
      await client.query(
        `WITH entry AS (
           INSERT INTO bench_log (pos, node, changes, effects) VALUES ($1, $2, $3, $4)
         )
         UPDATE bench_head SET pos = $1 WHERE id = 1`,
        [pos, 'bench', entry.changes, entry.effects],
      );
      const t2 = performance.now();
      await client.query('COMMIT');
      const t3 = performance.now();
      lock.push(t1 - t0);
      write.push(t2 - t1);
      commit.push(t3 - t2);
      turn.push(t3 - t0);
    }
    const cpuUs = postgresCpuUs() - cpuBefore;
    await client.query('DROP TABLE bench_head, bench_log');
    return {
      ...variant,
      turnsPerSec: Math.round(turn.length / (durationMs / 1000)),
      lockMs: round(median(lock)),
      writeMs: round(median(write)),
      commitMs: round(median(commit)),
      turnMs: round(median(turn)),
      entryBytes,
      postgresCpuMsPerTurn: round(cpuUs / 1000 / turn.length),
    };
  } finally {
    await client.end();
  }
}

// ── the section ──────────────────────────────────────────────────────────────────────

function versionOf(command: string, pattern: RegExp): string {
  const out = spawnSync(command, ['--version'], { encoding: 'utf8' });
  return pattern.exec(`${out.stdout ?? ''}${out.stderr ?? ''}`)?.[1] ?? 'unknown';
}

/** The rows: N members with one sender, and with N/10 (as bench/run.ts's fan-out matrix). */
export function clusterConfigs(memberCounts: readonly number[]) {
  return memberCounts.flatMap((members) =>
    [1, Math.floor(members / 10)]
      .filter((senders, i, all) => senders >= 1 && all.indexOf(senders) === i)
      .map((senders) => ({ members, senders })),
  );
}

export async function measureCluster(deps: ClusterDeps): Promise<ClusterOutcome> {
  const { log } = deps;
  let services: Services;
  try {
    services = await Services.start();
  } catch (error) {
    const reason = (error as Error).message.split('\n')[0] ?? 'unknown';
    log(`cluster: not measured (${reason})`);
    return { measured: false, reason };
  }
  const configs = clusterConfigs(deps.memberCounts);
  // One room per fan-out row, then the write-rate room and the fixed-load room.
  const rooms = Array.from({ length: configs.length + 2 }, (_, i) => `c${i + 1}`);
  const writeRoom = `c${configs.length + 1}`;
  const servers: { label: ServerLabel; nodes: number; server: OwnedServer | ClusterTarget }[] = [];
  const rows: ClusterRow[] = [];
  let ngircdVersion = 'not measured';
  try {
    const pgVersion = await (async () => {
      const client = new pg.Client({ connectionString: services.postgres.url });
      await client.connect();
      try {
        return (
          (await client.query<{ v: string }>("SELECT current_setting('server_version') AS v"))
            .rows[0]?.v ?? '?'
        );
      } catch {
        return '?';
      } finally {
        await client.end();
      }
    })();
    log(
      `cluster: PostgreSQL ${pgVersion} on :${services.postgres.port}, nats-server on :${services.nats.port}`,
    );
    servers.push({ label: 'single', nodes: 1, server: await deps.startSingle(rooms) });
    for (const count of deps.nodeCounts) {
      log(`cluster: starting ${count} node process${count > 1 ? 'es' : ''}…`);
      servers.push({
        label: 'cluster',
        nodes: count,
        server: await ClusterTarget.start(count, services, deps, rooms),
      });
    }
    const ngircd = await deps.startNgircd();
    if ('reason' in ngircd) log(`cluster: ngircd not measured (${ngircd.reason})`);
    else {
      servers.push({ label: 'ngircd', nodes: 1, server: ngircd });
      ngircdVersion = ngircd.version;
    }

    const measure = async (
      test: ClusterRow['test'],
      entry: (typeof servers)[number],
      config: { members: number; senders: number },
      room: string,
    ) => {
      await deps.target(entry.server);
      const name = entry.label === 'cluster' ? `cluster×${entry.nodes}` : entry.label;
      log(`cluster ${test}: ${name} N=${config.members} S=${config.senders}…`);
      if (entry.server instanceof ClusterTarget) entry.server.startSampling();
      const r = await deps.fanout(entry.server, config, room);
      if (entry.server instanceof ClusterTarget) await entry.server.stopSampling();
      const row = toRow(test, entry.label, entry.nodes, r);
      log(
        `  ${Math.round(r.deliveriesPerSec)} deliveries/s, ${r.acksPerSec ?? '—'} acks/s, ack p50 ${r.ackP50Ms ?? '—'} p99 ${r.ackP99Ms ?? '—'} ms, delivery p99 ${r.p99Ms} ms, nodes ${r.hostNsPerDelivery} + pg ${row.postgresNsPerDelivery ?? '—'} + nats ${row.natsNsPerDelivery ?? '—'} ns/delivery, ${row.turnsPerSec ?? '—'} turns/s${r.problems.length ? ` PROBLEMS: ${r.problems.join('; ')}` : ''}`,
      );
      rows.push(row);
    };
    for (const [i, config] of configs.entries()) {
      for (const entry of servers) await measure('fanout', entry, config, `c${i + 1}`);
    }
    // Latency at an offered load well below every server's capacity: the ack is then the turn.
    const fixedConfig = {
      members: deps.fixedMembers,
      senders: Math.max(1, Math.floor(deps.fixedMembers / 10)),
      ratePerSec: 10,
    };
    for (const entry of servers) {
      await deps.target(entry.server);
      const name = entry.label === 'cluster' ? `cluster×${entry.nodes}` : entry.label;
      log(
        `cluster fixed: ${name} N=${fixedConfig.members}, ${fixedConfig.senders} × ${fixedConfig.ratePerSec} msg/s…`,
      );
      const r = await deps.fixed(entry.server, fixedConfig, `c${configs.length + 2}`);
      log(
        `  ack p50 ${r.ackP50Ms ?? '—'} p99 ${r.ackP99Ms ?? '—'} ms, delivery p50 ${r.p50Ms} p99 ${r.p99Ms} ms, nodes ${r.hostNsPerDelivery} ns/delivery${r.problems.length ? ` PROBLEMS: ${r.problems.join('; ')}` : ''}`,
      );
      rows.push(toFixedRow(entry.label, entry.nodes, r));
    }
    // The write rate: every member sends (ngircd has no acks to count).
    const writes = { members: deps.writeMembers, senders: deps.writeMembers };
    for (const entry of servers) {
      if (entry.label !== 'ngircd') await measure('writes', entry, writes, writeRoom);
    }
    const entries: LogEntries[] = [];
    for (const { server } of servers) {
      if (server instanceof ClusterTarget) entries.push(await server.entries());
    }
    // The skeleton replays what the last cluster's write-rate turns wrote (the last entries of
    // its log), and a quiet turn's size in random bytes (which no compression shrinks).
    const last = servers
      .map((s) => s.server)
      .filter((s) => s instanceof ClusterTarget)
      .pop();
    const logged = last ? await last.lastEntries(50) : [];
    const random: Entry[] = [{ changes: randomBytes(600), effects: randomBytes(424) }];
    log(`cluster: a turn's statements on PostgreSQL alone, one client…`);
    const skeleton: TurnSkeleton[] = [];
    const variants: { replayed: readonly Entry[]; variant: SkeletonVariant }[] = [
      {
        replayed: random,
        variant: { entries: 'random 1 KB', synchronousCommit: true, storage: 'default' },
      },
      {
        replayed: random,
        variant: { entries: 'random 1 KB', synchronousCommit: false, storage: 'default' },
      },
    ];
    if (logged.length > 0) {
      for (const [synchronousCommit, storage] of [
        [true, 'default'],
        [false, 'default'],
        [true, 'external'],
      ] as const) {
        variants.push({
          replayed: logged,
          variant: { entries: 'from the log', synchronousCommit, storage },
        });
      }
    }
    for (const { replayed, variant } of variants) {
      const s = await turnSkeleton(services.postgres.url, deps.skeletonMs, replayed, variant, () =>
        treeCpuUs(services.postgresPid),
      );
      skeleton.push(s);
      log(
        `  ${s.entries} (${s.entryBytes} B), synchronous_commit=${s.synchronousCommit ? 'on' : 'off'}, storage ${s.storage}: ${s.turnsPerSec} turns/s (lock ${s.lockMs} + write ${s.writeMs} + commit ${s.commitMs} ms), PostgreSQL CPU ${s.postgresCpuMsPerTurn} ms/turn`,
      );
    }
    return {
      measured: true,
      postgres: pgVersion,
      nats: versionOf(natsPath(), /v(\d[\d.]*)/),
      ngircd: ngircdVersion,
      nodeCounts: deps.nodeCounts,
      roundTripMs: await roundTripMs(services.postgres.url),
      rows: withRatios(rows),
      skeleton,
      entries,
    };
  } finally {
    for (const { server } of servers) await server.stop();
    await services.stop();
  }
}

function natsPath(): string {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/sbin'];
  return (
    dirs.map((dir) => join(dir, 'nats-server')).find((path) => existsSync(path)) ?? 'nats-server'
  );
}

function toRow(
  test: ClusterRow['test'],
  server: ServerLabel,
  nodes: number,
  r: FanoutResult,
): ClusterRow {
  const pgNs = r.servicesNsPerDelivery?.['postgres'];
  const natsNs = r.servicesNsPerDelivery?.['nats'];
  const turns = r.countersPerSec?.['turns'];
  const samples = r.countersPerSec?.['lockSamples'];
  const messages = test === 'writes' ? (r.acksPerSec ?? r.messagesPerSec) : r.messagesPerSec;
  return {
    test,
    server,
    nodes,
    members: r.members,
    senders: r.senders,
    ratePerSec: null,
    senderWindow: server === 'ngircd' ? null : r.senderWindow,
    deliveriesPerSec: r.deliveriesPerSec,
    messagesPerSec: r.messagesPerSec,
    acksPerSec: server === 'ngircd' ? null : (r.acksPerSec ?? null),
    ackP50Ms: nullIfNaN(r.ackP50Ms),
    ackP99Ms: nullIfNaN(r.ackP99Ms),
    p50Ms: r.p50Ms,
    p99Ms: r.p99Ms,
    hostNsPerDelivery: r.hostNsPerDelivery,
    postgresNsPerDelivery: pgNs === undefined ? null : Math.round(pgNs),
    natsNsPerDelivery: natsNs === undefined ? null : Math.round(natsNs),
    totalNsPerDelivery: Math.round(r.hostNsPerDelivery + (pgNs ?? 0) + (natsNs ?? 0)),
    hostCpuPct: r.hostCpuPct,
    postgresCpuPct: nullIfNaN(r.servicesCpuPct?.['postgres']),
    natsCpuPct: nullIfNaN(r.servicesCpuPct?.['nats']),
    loadCpuPct: r.loadCpuPct,
    machineBusyPct: r.machineBusyPct,
    turnsPerSec: turns === undefined ? null : Math.round(turns),
    messagesPerTurn: turns ? round(messages / turns) : null,
    lockBusyPct: samples
      ? Math.round(((r.countersPerSec?.['lockHeld'] ?? NaN) / samples) * 100)
      : null,
    lockWaiters: samples ? round((r.countersPerSec?.['lockWaiting'] ?? NaN) / samples) : null,
    lockMsPerTurn:
      samples && turns
        ? round(((r.countersPerSec?.['lockHeld'] ?? NaN) / samples / turns) * 1000)
        : null,
    vsSingle: null,
    vsNgircd: null,
    nsVsSingle: null,
    windows: r.windows,
    problems: r.problems,
  };
}

function toFixedRow(server: ServerLabel, nodes: number, r: FixedLoadResult): ClusterRow {
  const pgNs = r.servicesNsPerDelivery?.['postgres'];
  const natsNs = r.servicesNsPerDelivery?.['nats'];
  return {
    test: 'fixed',
    server,
    nodes,
    members: r.members,
    senders: r.senders,
    ratePerSec: r.ratePerSec,
    senderWindow: null,
    deliveriesPerSec: r.senders * r.ratePerSec * (r.members - 1),
    messagesPerSec: r.senders * r.ratePerSec,
    acksPerSec: null,
    ackP50Ms: nullIfNaN(r.ackP50Ms),
    ackP99Ms: nullIfNaN(r.ackP99Ms),
    p50Ms: r.p50Ms,
    p99Ms: r.p99Ms,
    hostNsPerDelivery: r.hostNsPerDelivery,
    postgresNsPerDelivery: pgNs === undefined ? null : Math.round(pgNs),
    natsNsPerDelivery: natsNs === undefined ? null : Math.round(natsNs),
    totalNsPerDelivery: Math.round(r.hostNsPerDelivery + (pgNs ?? 0) + (natsNs ?? 0)),
    hostCpuPct: r.hostCpuPct,
    postgresCpuPct: nullIfNaN(r.servicesCpuPct?.['postgres']),
    natsCpuPct: nullIfNaN(r.servicesCpuPct?.['nats']),
    loadCpuPct: r.loadCpuPct,
    machineBusyPct: r.machineBusyPct,
    turnsPerSec: null,
    messagesPerTurn: null,
    lockBusyPct: null,
    lockWaiters: null,
    lockMsPerTurn: null,
    vsSingle: null,
    vsNgircd: null,
    nsVsSingle: null,
    windows: r.windowsP99Ms,
    problems: r.problems,
  };
}

function nullIfNaN(value: number | undefined): number | null {
  return value === undefined || !Number.isFinite(value) ? null : value;
}

/** cluster ÷ single and ÷ ngircd, row by row (the same test, members and senders). */
function withRatios(rows: ClusterRow[]): ClusterRow[] {
  const peer = (r: ClusterRow, server: ServerLabel) =>
    rows.find(
      (x) =>
        x.server === server &&
        x.test === r.test &&
        x.members === r.members &&
        x.senders === r.senders,
    );
  const figure = (r: ClusterRow) =>
    r.test === 'writes' ? (r.acksPerSec ?? NaN) : r.test === 'fixed' ? r.p99Ms : r.deliveriesPerSec;
  return rows.map((r) => {
    const single = peer(r, 'single');
    const ngircd = peer(r, 'ngircd');
    return {
      ...r,
      vsSingle: single && r.server !== 'single' ? round(figure(r) / figure(single)) : null,
      vsNgircd: ngircd && r.server !== 'ngircd' ? round(figure(r) / figure(ngircd)) : null,
      nsVsSingle:
        single && r.server !== 'single'
          ? round(r.totalNsPerDelivery / single.totalNsPerDelivery)
          : null,
    };
  });
}

// ── the table ────────────────────────────────────────────────────────────────────────

function fmtInt(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

export function clusterTable(
  outcome: ClusterOutcome,
  grid: (header: string[], rows: string[][], left?: number) => string[],
): string[] {
  if (!outcome.measured) return [`Cluster: not measured (${outcome.reason})`];
  const n = (v: number | null, digits = 0) =>
    v === null ? '—' : digits ? v.toFixed(digits) : Math.round(v).toLocaleString('en-US');
  const name = (r: ClusterRow) => (r.server === 'cluster' ? `cluster×${r.nodes}` : r.server);
  const fanout = outcome.rows.filter((r) => r.test === 'fanout');
  const writes = outcome.rows.filter((r) => r.test === 'writes');
  const fixed = outcome.rows.filter((r) => r.test === 'fixed');
  const lines = [
    `Cluster (#19): PostgreSQL ${outcome.postgres}, nats-server ${outcome.nats}, ngircd ${outcome.ngircd}; one round trip to PostgreSQL ${outcome.roundTripMs} ms`,
    'Fan-out, saturating; clients and senders round-robin over the nodes; ns/dlv: CPU per delivery (nodes = the node processes together);',
    'ratios of deliveries/s; window: unacknowledged messages per sender (at saturation, ack latency ≈ window ÷ acks/s per sender)',
    ...grid(
      [
        'server',
        'N',
        'S',
        'deliveries/s',
        '÷ single',
        '÷ ngircd',
        'window',
        'ack p50',
        'ack p99',
        'dlv p99',
        'nodes ns/dlv',
        'pg ns/dlv',
        'nats ns/dlv',
        'total ns/dlv',
        'ns ÷ single',
        'nodes %',
        'pg %',
        'nats %',
        'machine %',
        'turns/s',
        'msg/turn',
        'lock %',
        'ms/turn',
        'waiters',
      ],
      fanout.map((r) => [
        name(r),
        String(r.members),
        String(r.senders),
        n(r.deliveriesPerSec),
        n(r.vsSingle, 2),
        n(r.vsNgircd, 2),
        n(r.senderWindow),
        n(r.ackP50Ms, 1),
        n(r.ackP99Ms, 1),
        n(r.p99Ms, 1),
        n(r.hostNsPerDelivery),
        n(r.postgresNsPerDelivery),
        n(r.natsNsPerDelivery),
        n(r.totalNsPerDelivery),
        n(r.nsVsSingle, 2),
        String(r.hostCpuPct),
        n(r.postgresCpuPct),
        n(r.natsCpuPct),
        String(r.machineBusyPct),
        n(r.turnsPerSec),
        n(r.messagesPerTurn, 1),
        n(r.lockBusyPct),
        n(r.lockMsPerTurn, 1),
        n(r.lockWaiters, 2),
      ]),
      3,
    ),
    '',
    'Latency at a fixed offered load (S senders × msg/s each; ratios: delivery p99, lower is better)',
    ...grid(
      [
        'server',
        'N',
        'S',
        'msg/s',
        'ack p50',
        'ack p99',
        'dlv p50',
        'dlv p99',
        'p99 ÷ single',
        'p99 ÷ ngircd',
        'nodes ns/dlv',
        'pg ns/dlv',
        'nats ns/dlv',
        'nodes %',
        'pg %',
        'nats %',
      ],
      fixed.map((r) => [
        name(r),
        String(r.members),
        String(r.senders),
        n(r.ratePerSec),
        n(r.ackP50Ms, 1),
        n(r.ackP99Ms, 1),
        n(r.p50Ms, 1),
        n(r.p99Ms, 1),
        n(r.vsSingle, 2),
        n(r.vsNgircd, 2),
        n(r.hostNsPerDelivery),
        n(r.postgresNsPerDelivery),
        n(r.natsNsPerDelivery),
        String(r.hostCpuPct),
        n(r.postgresCpuPct),
        n(r.natsCpuPct),
      ]),
      3,
    ),
    '',
    'Write rate: one room, every member sending (acks/s: messages acknowledged, i.e. committed in PostgreSQL for a cluster)',
    "lock %: share of 5 ms samples in which a turn held the log's lock (a node's session in a transaction, not waiting); ms/turn: lock % ÷ turns/s; waiters: sessions waiting for it",
    ...grid(
      [
        'server',
        'N',
        'S',
        'acks/s',
        '÷ single',
        'ack p50',
        'ack p99',
        'dlv p99',
        'turns/s',
        'msg/turn',
        'lock %',
        'ms/turn',
        'waiters',
        'nodes %',
        'pg %',
        'nats %',
      ],
      writes.map((r) => [
        name(r),
        String(r.members),
        String(r.senders),
        n(r.acksPerSec),
        n(r.vsSingle, 2),
        n(r.ackP50Ms, 1),
        n(r.ackP99Ms, 1),
        n(r.p99Ms, 1),
        n(r.turnsPerSec),
        n(r.messagesPerTurn, 1),
        n(r.lockBusyPct),
        n(r.lockMsPerTurn, 1),
        n(r.lockWaiters, 2),
        String(r.hostCpuPct),
        n(r.postgresCpuPct),
        n(r.natsCpuPct),
      ]),
      3,
    ),
    '',
    "A turn's statements on PostgreSQL alone, one client (BEGIN; SELECT … FOR UPDATE | INSERT + UPDATE | COMMIT; median ms)",
    'as run: synchronous_commit on, default storage (bytea over ~2 KB compressed by pglz); pg CPU: postmaster and backends per turn',
    ...grid(
      [
        'entries',
        'synchronous_commit',
        'storage',
        'entry B',
        'turns/s',
        'lock',
        'write',
        'commit',
        'turn',
        'pg CPU ms/turn',
      ],
      outcome.skeleton.map((s) => [
        s.entries,
        s.synchronousCommit ? 'on' : 'off',
        s.storage === 'default' ? 'default (pglz)' : 'external',
        fmtInt(s.entryBytes),
        n(s.turnsPerSec),
        String(s.lockMs),
        String(s.writeMs),
        String(s.commitMs),
        String(s.turnMs),
        String(s.postgresCpuMsPerTurn),
      ]),
      3,
    ),
    ...outcome.entries.map(
      (e) =>
        `cluster×${e.nodes}: ${e.entries} log entries, ${e.averageChangesBytes} B changeset + ${e.averageEffectsBytes} B effects on average, ${e.compressed} stored compressed by PostgreSQL`,
    ),
  ];
  const problems = outcome.rows.filter((r) => r.problems.length > 0);
  for (const r of problems)
    lines.push(`PROBLEMS ${name(r)} ${r.test} N=${r.members}: ${r.problems.join('; ')}`);
  return lines;
}
