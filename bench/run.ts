// `npm run bench` — fan-out, latency, handshakes and memory of a real Parley host, with same-run
// baselines (the null transport cipher, raw AEAD throughput). See docs/benchmarks.md.
//
//   npm run bench                 full run (a few minutes): a table, then the JSON
//   npm run bench -- --json       only the JSON object on stdout
//   npm run bench -- --quick      under a minute
//   other options: --only=aead,mls,search,fanout,fixed,handshakes,memory,files  --ciphers=chachapoly,null,aesgcm
//                  --members=100,1000 (fan-out and fixed-load rows)  --workers=N  --seconds=S (per window)
//                  --lag=M (in flight)  --repeat=K (the fan-out/fixed matrix K times: spread over repeats)
//                  --profile (CPU profiles of the host per scenario, into bench/profiles/)
//   ngircd (bench/ngircd.ts), the C IRC server, is measured beside every fan-out and fixed-load row
//   with the same load generator speaking IRC: the `÷ ngircd` columns (installed from Debian if
//   missing and we are root; otherwise "not measured")
//   files (bench/files.ts, in the default set: ~30 s, ~12 s with --quick): a 1 MiB file to a room of
//   100 beside another room's chat stream, whose p99 is compared with and without the transfer
//   --cluster (bench/cluster.ts; only when asked: it needs PostgreSQL and nats-server): the single
//   process, clusters of 1, 2 and 4 node processes on one PostgreSQL and one NATS, and ngircd, on the
//   same fan-out rows, and the log's write rate. Alone, it is the only section run (add --only=… for
//   others); --nodes=1,2,4 picks the cluster sizes, --members the rows. ~5 min, ~1.5 min with --quick
//
// Environment, for investigations: PARLEY_BENCH_HOST_FLAGS (Node flags for the host process),
// PARLEY_BENCH_HOST_SCRIPT (another checkout's host-process.ts), PARLEY_BENCH_IDLE_WAIT (ms before
// the idle-memory reading), PARLEY_BENCH_DEBUG (heap spaces + host heap snapshots, written to the
// current directory), PARLEY_BENCH_SKIP_FRESH (skip the new-key handshake test),
// PARLEY_BENCH_NGIRCD (the ngircd binary to compare with; a missing path means "not measured").
//
// The host runs in a child process (bench/host-process.ts) so its CPU and memory are its own; the
// load runs in worker threads of this process, so "load CPU" is this whole process. Everything
// stays on 127.0.0.1 and stops by itself.
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import {
  closeSync,
  fdatasyncSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeSync,
} from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import type { KeyPair } from '../src-main/protocol/crypto/crypto-backend.ts';
import { selectBackend } from '../src-main/protocol/crypto/select-backend.ts';
import { decodeBase64Url } from '../src-shared/base64url.ts';
import { measureAead, type AeadResult } from './aead.ts';
import { type ClusterOutcome, clusterTable, measureCluster } from './cluster.ts';
import {
  FILE_ROOMS,
  type FilesOutcome,
  P99_RATIO_GOAL,
  P99_SLACK_MS,
  filesTable,
  measureFiles,
} from './files.ts';
import { type StartFootprint, measureStartFootprint, serveNodeFlags } from './footprint.ts';
import { Histogram } from './histogram.ts';
import { machineTicks, median, round, sleep } from './measure.ts';
import { type MlsBenchResult, measureMls } from './mls.ts';
import { type SearchBenchResult, measureSearch, searchTable } from './search.ts';
import {
  type SearchHistoryBenchResult,
  measureSearchHistory,
  searchHistoryTable,
} from './search-history.ts';
import type { ConnectionSpec, LoadProtocol, Report, RunOptions } from './load-worker.ts';
import { type NgircdBinary, NgircdServer, ensureNgircd } from './ngircd.ts';
import {
  type TlsHandshakeResult,
  type TlsNotMeasured,
  measureTlsHandshakes,
} from './tls-handshakes.ts';
import type { BenchCipher } from './wire.ts';

const HERE = fileURLToPath(new URL('.', import.meta.url));

/** The Node flags `npm run serve` starts the host with (package.json): measured as shipped. */
const SERVE_NODE_FLAGS: string[] = serveNodeFlags();
const TEXT_BYTES = 200;

const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    only: { type: 'string' },
    ciphers: { type: 'string' },
    members: { type: 'string' },
    workers: { type: 'string' },
    seconds: { type: 'string' },
    lag: { type: 'string' },
    repeat: { type: 'string' },
    cluster: { type: 'boolean', default: false },
    nodes: { type: 'string' },
  },
});
const repeats = Math.max(1, Math.floor(Number(args.repeat ?? 1)) || 1);
const quick = args.quick ?? false;
// The cluster section needs PostgreSQL and nats-server, so only `--cluster` runs it; alone, it is
// the run (the other sections then need --only).
const only = new Set(
  (args.only ?? (args.cluster ? '' : 'aead,mls,search,fanout,fixed,handshakes,memory,files'))
    .split(',')
    .filter(Boolean),
);
if (args.cluster) only.add('cluster');
const workerCount = Number(args.workers ?? Math.max(2, os.availableParallelism()));
const began = performance.now();
const log = (line: string): void => {
  const at = ((performance.now() - began) / 1000).toFixed(1).padStart(6);
  process.stderr.write(`${at}s ${line}\n`);
};

// ── timing plan ────────────────────────────────────────────────────────────────────

const plan = quick
  ? {
      warmupMs: 400,
      windowMs: Number(args.seconds ?? 1.5) * 1000,
      windows: 1,
      fixedMs: 2500,
      handshakeMs: 1500,
      freshHandshakeMs: 750,
      aeadMs: 200,
    }
  : {
      warmupMs: 1000,
      windowMs: Number(args.seconds ?? 2) * 1000,
      windows: 3,
      fixedMs: 10_000,
      handshakeMs: 5000,
      freshHandshakeMs: 3000,
      aeadMs: 1000,
    };

interface FanoutConfig {
  readonly members: number;
  readonly senders: number;
}

const fullConfigs: FanoutConfig[] = [
  { members: 10, senders: 1 },
  { members: 100, senders: 1 },
  { members: 100, senders: 10 },
  { members: 500, senders: 1 },
  { members: 500, senders: 50 },
  { members: 1000, senders: 1 },
  { members: 1000, senders: 100 },
];
const memberFilter = args.members ? new Set(args.members.split(',').map(Number)) : undefined;
/** --members picks from the full matrix; --quick alone keeps N=100 and N=1000 with one sender. */
const configs = memberFilter
  ? fullConfigs.filter((c) => memberFilter.has(c.members))
  : quick
    ? fullConfigs.filter((c) => c.senders === 1 && (c.members === 100 || c.members === 1000))
    : fullConfigs;
/** AES-GCM is the second suite: measured where it tells something (small and large rooms). */
const aesConfigs = configs.filter(
  (c) => c.senders === 1 && (c.members === 100 || c.members === 1000),
);
const ciphers = (args.ciphers ?? (quick ? 'chachapoly,null' : 'chachapoly,null,aesgcm')).split(
  ',',
) as BenchCipher[];

interface FixedConfig {
  readonly members: number;
  readonly senders: number;
  /** Messages per second from each sender. */
  readonly ratePerSec: number;
}

/** A large room with one talker, and a busy mid-size room where ten people talk at once (#18). */
const fullFixedConfigs: FixedConfig[] = [
  { members: 500, senders: 1, ratePerSec: 100 },
  { members: 100, senders: 10, ratePerSec: 10 },
];
const fixedConfigs = memberFilter
  ? fullFixedConfigs.filter((c) => memberFilter.has(c.members))
  : fullFixedConfigs;

/** Parley with a cipher, or the ngircd baseline (plaintext IRC): what a result row measured. */
export type ServerKind = BenchCipher | 'ngircd';

// ── the host process ───────────────────────────────────────────────────────────────

/** What every measured server reports (Parley's host over IPC, ngircd from /proc). */
export interface ServerStats {
  /** CPU time in µs. */
  cpu: { user: number; system: number };
  /** ms, a monotonic clock of the server's choosing (only differences are used). */
  at: number;
  rss: number;
  clients: number;
  /** Warnings and dropped clients since start: a clean run has none. */
  events: Record<string, number>;
  /** A cluster's PostgreSQL and NATS processes: CPU time in µs, apart from the server's. */
  services?: Record<string, { user: number; system: number }>;
  /** A cluster's running counts (log entries = turns): rates per second over a window. */
  counters?: Record<string, number>;
}

/** A server the fan-out and fixed-load tests drive. */
export interface BenchServer {
  readonly kind: ServerKind;
  readonly protocol: LoadProtocol;
  /** Where the load connects: one port, or a cluster's nodes (clients spread round-robin). */
  readonly port: number;
  readonly ports?: readonly number[];
  readonly publicKey?: Uint8Array;
  stats(): Promise<ServerStats>;
  waitForClients(count: number, timeoutMs?: number): Promise<void>;
  profile<T>(name: string, work: () => Promise<T>): Promise<T>;
}

interface HostStats extends ServerStats {
  elu: { idle: number; active: number; utilization: number };
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  clients: number;
  events: Record<string, number>;
  spaces?: Record<string, { size: number; used: number }>;
}

const tmpRoot = mkdtempSync(join(os.tmpdir(), 'parley-bench-'));
const profileDir = join(HERE, 'profiles');
let hostSerial = 0;

class BenchHost implements BenchServer {
  readonly protocol = 'parley';
  readonly child: ChildProcess;
  readonly pid: number;
  readonly port: number;
  readonly publicKey: Uint8Array;
  readonly cipher: BenchCipher;
  readonly kind: ServerKind;
  readonly #waiters = new Map<number, (message: Record<string, unknown>) => void>();
  #serial = 0;

  private constructor(child: ChildProcess, ready: Record<string, unknown>, cipher: BenchCipher) {
    this.child = child;
    this.port = ready['port'] as number;
    this.pid = ready['pid'] as number;
    this.publicKey = decodeBase64Url(ready['publicKey'] as string) ?? new Uint8Array(32);
    this.cipher = cipher;
    this.kind = cipher;
    child.on('message', (message: Record<string, unknown>) => {
      const id = message['id'] as number;
      this.#waiters.get(id)?.(message);
      this.#waiters.delete(id);
    });
  }

  static async start(
    cipher: BenchCipher,
    rooms: string[],
    exposeGc = false,
    nodeFlags: string[] = SERVE_NODE_FLAGS,
    /** More of host-process.ts's variables (a cluster node's, from bench/cluster.ts). */
    env: Record<string, string> = {},
  ): Promise<BenchHost> {
    const dataDir = join(tmpRoot, `host-${++hostSerial}-${cipher}`);
    const execArgv = [
      ...(exposeGc ? ['--expose-gc'] : []),
      ...(process.env.PARLEY_BENCH_HOST_FLAGS?.split(' ').filter(Boolean) ?? []),
      ...nodeFlags,
    ];
    // PARLEY_BENCH_HOST_SCRIPT: another checkout's host-process.ts, to compare host code
    // before/after a change against the same load generator.
    const script = process.env.PARLEY_BENCH_HOST_SCRIPT ?? join(HERE, 'host-process.ts');
    const child = fork(script, [], {
      execArgv,
      env: {
        ...process.env,
        PARLEY_BENCH_DATA_DIR: dataDir,
        PARLEY_BENCH_ROOMS: rooms.join(','),
        PARLEY_BENCH_CIPHER: cipher === 'null' ? 'null' : 'real',
        ...env,
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    // A host that fails to start (a cluster node without its database) must fail the run, not
    // leave it waiting for a ready message that never comes.
    const [ready] = (await Promise.race([
      once(child, 'message'),
      once(child, 'exit').then(([code]) => {
        throw new Error(`the host process exited (${String(code)}) before it was ready`);
      }),
    ])) as [Record<string, unknown>];
    return new BenchHost(child, ready, cipher);
  }

  #ask(message: object): Promise<Record<string, unknown>> {
    const id = ++this.#serial;
    return new Promise((resolve) => {
      this.#waiters.set(id, resolve);
      this.child.send({ ...message, id });
    });
  }

  async stats(gc = false): Promise<HostStats> {
    return (await this.#ask({ op: 'stats', gc })) as unknown as HostStats;
  }

  /** Writes a heap snapshot in the host's working directory (for `PARLEY_BENCH_DEBUG`). */
  async snapshot(): Promise<Record<string, unknown>> {
    return this.#ask({ op: 'snapshot' });
  }

  async waitForClients(count: number, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { clients } = await this.stats();
      if (clients === count) return;
      if (Date.now() > deadline) throw new Error(`host has ${clients} clients, expected ${count}`);
      await sleep(50);
    }
  }

  /** With --profile: a CPU profile of the host for one scenario, in bench/profiles/. */
  async profile<T>(name: string, work: () => Promise<T>): Promise<T> {
    if (!args.profile) return work();
    mkdirSync(profileDir, { recursive: true });
    await this.#ask({ op: 'profile-start' });
    try {
      return await work();
    } finally {
      const file = join(profileDir, `host-${this.cipher}-${name}.cpuprofile`);
      await this.#ask({ op: 'profile-stop', file });
      log(`  profile: ${file}`);
    }
  }

  async stop(): Promise<void> {
    const exited = once(this.child, 'exit');
    await this.#ask({ op: 'stop' });
    await exited;
  }
}

/** ngircd as a BenchServer: CPU and RSS from /proc, clients by LUSERS, no profiles (C code). */
class NgircdTarget implements BenchServer {
  readonly kind = 'ngircd';
  readonly protocol = 'irc';
  readonly server: NgircdServer;

  constructor(server: NgircdServer) {
    this.server = server;
  }

  get port(): number {
    return this.server.port;
  }

  stats(): Promise<ServerStats> {
    return this.server.stats();
  }

  waitForClients(count: number, timeoutMs?: number): Promise<void> {
    return this.server.waitForClients(count, timeoutMs);
  }

  profile<T>(_name: string, work: () => Promise<T>): Promise<T> {
    return work();
  }
}

// ── the load workers ───────────────────────────────────────────────────────────────

class LoadPool {
  readonly workers: Worker[];
  #serial = 0;
  readonly #pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void }
  >();

  constructor(count: number, keys: KeyPair[]) {
    const shared = new SharedArrayBuffer(8 * 2 * count);
    this.workers = Array.from({ length: count }, (_, id) => {
      const worker = new Worker(new URL('./load-worker.ts', import.meta.url), {
        workerData: { id, workers: count, shared, keys },
      });
      worker.on('message', (message: { id: number; result?: unknown; error?: string }) => {
        const pending = this.#pending.get(message.id);
        this.#pending.delete(message.id);
        if (message.error) pending?.reject(new Error(message.error));
        else pending?.resolve(message.result);
      });
      worker.on('error', (error) => log(`load worker ${id} failed: ${error.stack ?? error}`));
      return worker;
    });
  }

  call<T>(index: number, command: object): Promise<T> {
    const id = ++this.#serial;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.workers[index]?.postMessage({ id, command });
    });
  }

  all<T>(command: object | ((index: number) => object)): Promise<T[]> {
    return Promise.all(
      this.workers.map((_, i) =>
        this.call<T>(i, typeof command === 'function' ? command(i) : command),
      ),
    );
  }

  /** Spreads connections over the workers (i mod workers) and opens them. */
  async open(specs: ConnectionSpec[], concurrency = 32): Promise<void> {
    const results = await this.all<{ errors: string[] }>((w) => ({
      cmd: 'open',
      specs: specs.filter((_, i) => i % this.workers.length === w),
      concurrency,
    }));
    const errors = results.flatMap((r) => r.errors);
    if (errors.length > 0) throw new Error(`could not open connections: ${errors.join('; ')}`);
  }

  async target(server: BenchServer & { readonly cipher?: BenchCipher }): Promise<void> {
    await this.all(
      server.protocol === 'parley'
        ? {
            cmd: 'target',
            protocol: 'parley',
            port: server.port,
            hostKey: server.publicKey,
            cipher: server.cipher ?? 'chachapoly',
          }
        : {
            cmd: 'target',
            protocol: 'irc',
            port: server.port,
            hostKey: new Uint8Array(0),
            cipher: 'null',
          },
    );
  }

  async terminate(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

// ── measurements ───────────────────────────────────────────────────────────────────

/** CPU used by the host and by this (load) process over a span, in % of one core. */
class CpuSpan<S extends ServerStats = ServerStats> {
  readonly #host: { stats(): Promise<S> };
  #hostStart!: S;
  #machine = machineTicks();
  #loadCpu = process.cpuUsage();
  #loadAt = performance.now();

  constructor(host: { stats(): Promise<S> }) {
    this.#host = host;
  }

  async begin(): Promise<void> {
    this.#hostStart = await this.#host.stats();
    this.#loadCpu = process.cpuUsage();
    this.#loadAt = performance.now();
    this.#machine = machineTicks();
  }

  async end() {
    const host = await this.#host.stats();
    const load = process.cpuUsage(this.#loadCpu);
    const loadMs = performance.now() - this.#loadAt;
    const hostCpu =
      host.cpu.user + host.cpu.system - this.#hostStart.cpu.user - this.#hostStart.cpu.system;
    const hostMs = host.at - this.#hostStart.at;
    const [busy, total] = machineTicks();
    const servicesCpuUs: Record<string, number> = {};
    for (const [name, now] of Object.entries(host.services ?? {})) {
      const then = this.#hostStart.services?.[name];
      if (then) servicesCpuUs[name] = now.user + now.system - then.user - then.system;
    }
    const counters: Record<string, number> = {};
    for (const [name, now] of Object.entries(host.counters ?? {})) {
      const then = this.#hostStart.counters?.[name];
      if (then !== undefined) counters[name] = now - then;
    }
    return {
      servicesCpuUs,
      counters,
      /** Every process on the machine, % of all cores: near 100 means no core was left idle. */
      machineBusyPct: ((busy - this.#machine[0]) / (total - this.#machine[1])) * 100,
      hostSystemPct:
        ((host.cpu.system - this.#hostStart.cpu.system) / 1000 / (host.at - this.#hostStart.at)) *
        100,
      hostCpuUs: hostCpu,
      loadCpuUs: load.user + load.system,
      hostCpuPct: (hostCpu / 1000 / hostMs) * 100,
      loadCpuPct: ((load.user + load.system) / 1000 / loadMs) * 100,
      hostRssMb: host.rss / 2 ** 20,
      wallMs: loadMs,
      host,
    };
  }
}

export interface FanoutResult {
  members: number;
  senders: number;
  bytes: number;
  /** The Parley host's transport cipher, or 'ngircd' for the IRC baseline's rows. */
  cipher: ServerKind;
  /** 1…K with --repeat=K: which pass over the matrix this row comes from. */
  repeat: number;
  deliveriesPerSec: number;
  messagesPerSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  hostCpuPct: number;
  /** The kernel's part of hostCpuPct: on loopback, sending also runs the receiver's TCP input. */
  hostSystemCpuPct: number;
  /** All processes, % of all cores (Linux): near 100 = no idle core, others' load included. */
  machineBusyPct: number;
  loadCpuPct: number;
  hostRssMb: number;
  /** CPU time per delivery, host and load side (ns): how cost grows with N, robust to noise. */
  hostNsPerDelivery: number;
  loadNsPerDelivery: number;
  /**
   * 1e9 / hostNsPerDelivery: what the host's CPU cost per delivery allows on one core of its own.
   * Derived, not measured: on two shared cores the load generator takes the other half.
   */
  hostCoreDeliveriesPerSec: number;
  /** Messages per record a receiver decrypts: the batching the host achieved. */
  deliveriesPerRecord: number;
  /**
   * Flow control: messages in flight per receiver (average), unacknowledged per sender (0 for
   * ngircd: IRC has no acks, its senders are bounded by the receivers' lag alone).
   */
  inFlightPerReceiver: number;
  senderWindow: number;
  /** Per-window deliveries/s, the median of which is `deliveriesPerSec`. */
  windows: number[];
  problems: string[];
  /** With `timeAcks` (the cluster section): send → ack, and acks per second over the room. */
  ackP50Ms?: number;
  ackP99Ms?: number;
  acksPerSec?: number;
  /** A cluster's PostgreSQL and NATS: CPU per delivery (ns) and % of one core, median of windows. */
  servicesNsPerDelivery?: Record<string, number>;
  servicesCpuPct?: Record<string, number>;
  /** A cluster's counters per second (turns: log entries committed), median of windows. */
  countersPerSec?: Record<string, number>;
}

/** What a section asks of a fan-out run beyond the default rows' figures. */
export interface FanoutExtras {
  readonly timeAcks?: boolean;
}

let runSerial = 0;

async function openRoom(
  pool: LoadPool,
  room: string,
  members: number,
  senders: number,
  protocol: LoadProtocol,
  ports?: readonly number[],
) {
  const specs: ConnectionSpec[] = Array.from({ length: members }, (_, i) => ({
    index: i,
    room,
    sender: i < senders,
    protocol,
    // A cluster: member i on node i mod nodes, so senders are spread over the nodes too.
    ...(ports?.length ? { port: ports[i % ports.length] } : {}),
  }));
  await pool.open(specs);
}

/**
 * What one delivered 200-byte text costs ngircd's per-client send queue: the line
 * `:k123!~k123@127.0.0.1 PRIVMSG #f12 :<text>` with CRLF.
 */
const IRC_LINE_BYTES = TEXT_BYTES + 40;
/**
 * IRC receivers' average lag, in bytes, at most: ngircd drops a client whose queue passes 32 KiB
 * beyond what the kernel's socket buffers hold (~128 KiB receive buffer to start with, here
 * net.ipv4.tcp_rmem). A receiver thread can be twice the average behind, so the budget is set
 * with that margin; it binds only at N=10 (Parley's 1024 messages would be 240 KiB).
 */
const IRC_LAG_BYTES = 96 * 1024;

/** Window and lag bounds for a saturating run: enough in flight to keep the host's turns full,
 * little enough that no receiver approaches the host's 4 MiB slow-reader bound. */
function flowControl(
  members: number,
  senders: number,
  protocol: LoadProtocol = 'parley',
): { window: number; lagLimit: number } {
  // About 16 MiB of ~450-byte deliveries in flight in total, 64–1024 messages per receiver.
  const parleyLag =
    Number(args.lag) ||
    Math.max(64, Math.min(1024, Math.floor((16 * 2 ** 20) / (450 * (members - 1)))));
  // The same bound for ngircd, within what its send queues take (see IRC_LAG_BYTES).
  const lagLimit =
    protocol === 'irc'
      ? Math.min(parleyLag, Math.floor(IRC_LAG_BYTES / IRC_LINE_BYTES))
      : parleyLag;
  // IRC has no acknowledgement, so no sender window (0): its senders take turns within the lag.
  return { lagLimit, window: protocol === 'irc' ? 0 : Math.max(4, Math.ceil(lagLimit / senders)) };
}

async function fanout(
  host: BenchServer,
  pool: LoadPool,
  config: FanoutConfig,
  repeat: number,
  extras: FanoutExtras = {},
  /** A room of the caller's (the cluster section's servers have their own list). */
  roomName?: string,
): Promise<FanoutResult> {
  const serial = ++runSerial;
  const room = roomName ?? `f${serial}`;
  await openRoom(pool, room, config.members, config.senders, host.protocol, host.ports);
  await host.waitForClients(config.members);
  const timeAcks = extras.timeAcks === true && host.protocol === 'parley';
  const options: RunOptions = {
    mode: 'saturate',
    members: config.members,
    runId: `r${serial}`,
    textBytes: TEXT_BYTES,
    ratePerSec: 0,
    ...flowControl(config.members, config.senders, host.protocol),
    ...(timeAcks ? { timeAcks } : {}),
  };
  await pool.all({ cmd: 'run', options });
  await sleep(plan.warmupMs);
  const histogram = new Histogram();
  const windows: {
    deliveries: number;
    messages: number;
    host: number;
    load: number;
    rss: number;
    hostNs: number;
    loadNs: number;
    hostSystem: number;
    machine: number;
    acks: number;
    servicesNs: Record<string, number>;
    servicesPct: Record<string, number>;
    counters: Record<string, number>;
  }[] = [];
  const acks = new Histogram();
  let records = 0;
  let deliveriesTotal = 0;
  const problems: string[] = [];
  await host.profile(`fanout-N${config.members}-S${config.senders}`, async () => {
    for (let w = 0; w < plan.windows; w++) {
      const span = new CpuSpan(host);
      await Promise.all([span.begin(), pool.all({ cmd: 'measure' })]);
      await sleep(plan.windowMs);
      const [reports, cpu] = await Promise.all([pool.all<Report>({ cmd: 'report' }), span.end()]);
      const seconds = cpu.wallMs / 1000;
      const deliveries = reports.reduce((s, r) => s + r.deliveries, 0);
      for (const r of reports) {
        histogram.merge(r.histogram);
        if (r.ackHistogram) acks.merge(r.ackHistogram);
        records += r.records;
        problems.push(...r.closes);
      }
      deliveriesTotal += deliveries;
      const perService = (scale: (us: number) => number) =>
        Object.fromEntries(Object.entries(cpu.servicesCpuUs).map(([k, us]) => [k, scale(us)]));
      windows.push({
        deliveries: deliveries / seconds,
        messages: deliveries / (config.members - 1) / seconds,
        host: cpu.hostCpuPct,
        load: cpu.loadCpuPct,
        rss: cpu.hostRssMb,
        hostSystem: cpu.hostSystemPct,
        machine: cpu.machineBusyPct,
        hostNs: (cpu.hostCpuUs * 1000) / deliveries,
        loadNs: (cpu.loadCpuUs * 1000) / deliveries,
        acks: reports.reduce((s, r) => s + r.acks, 0) / seconds,
        servicesNs: perService((us) => (us * 1000) / deliveries),
        servicesPct: perService((us) => (us / 1000 / cpu.wallMs) * 100),
        counters: Object.fromEntries(
          Object.entries(cpu.counters).map(([k, n]) => [k, n / seconds]),
        ),
      });
      for (const [event, count] of Object.entries(cpu.host.events)) {
        problems.push(`host logged ${event} ×${count}`);
      }
    }
  });
  await pool.all({ cmd: 'halt' });
  await pool.all({ cmd: 'closeAll' });
  await host.waitForClients(0);
  const medianOf = (pick: (w: (typeof windows)[number]) => Record<string, number>) => {
    const names = Object.keys(windows[0] ? pick(windows[0]) : {});
    return Object.fromEntries(
      names.map((k) => [k, round(median(windows.map((w) => pick(w)[k] ?? NaN)))]),
    );
  };
  const services = windows[0] && Object.keys(windows[0].servicesNs).length > 0;
  const counted = windows[0] && Object.keys(windows[0].counters).length > 0;
  return {
    members: config.members,
    senders: config.senders,
    bytes: TEXT_BYTES,
    cipher: host.kind,
    repeat,
    deliveriesPerSec: Math.round(median(windows.map((w) => w.deliveries))),
    messagesPerSec: Math.round(median(windows.map((w) => w.messages))),
    p50Ms: round(histogram.quantile(0.5)),
    p99Ms: round(histogram.quantile(0.99)),
    maxMs: round(histogram.max),
    hostCpuPct: Math.round(median(windows.map((w) => w.host))),
    hostSystemCpuPct: Math.round(median(windows.map((w) => w.hostSystem))),
    machineBusyPct: Math.round(median(windows.map((w) => w.machine))),
    loadCpuPct: Math.round(median(windows.map((w) => w.load))),
    hostRssMb: Math.round(Math.max(...windows.map((w) => w.rss))),
    hostNsPerDelivery: Math.round(median(windows.map((w) => w.hostNs))),
    hostCoreDeliveriesPerSec: Math.round(1e9 / median(windows.map((w) => w.hostNs))),
    loadNsPerDelivery: Math.round(median(windows.map((w) => w.loadNs))),
    deliveriesPerRecord: round(records > 0 ? deliveriesTotal / records : 0),
    inFlightPerReceiver: options.lagLimit,
    senderWindow: options.window,
    windows: windows.map((w) => Math.round(w.deliveries)),
    problems: [...new Set(problems)],
    ...(timeAcks
      ? {
          ackP50Ms: round(acks.quantile(0.5)),
          ackP99Ms: round(acks.quantile(0.99)),
          acksPerSec: Math.round(median(windows.map((w) => w.acks))),
        }
      : {}),
    ...(services
      ? {
          servicesNsPerDelivery: medianOf((w) => w.servicesNs),
          servicesCpuPct: medianOf((w) => w.servicesPct),
        }
      : {}),
    ...(counted ? { countersPerSec: medianOf((w) => w.counters) } : {}),
  };
}

export interface FixedLoadResult {
  members: number;
  senders: number;
  /** Messages per second from each sender (the room gets senders × this). */
  ratePerSec: number;
  cipher: ServerKind;
  repeat: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  deliveries: number;
  hostCpuPct: number;
  /** Server CPU time per delivery (ns): at a fixed load, what the same work costs each server. */
  hostNsPerDelivery: number;
  loadCpuPct: number;
  machineBusyPct: number;
  /** p99 of each measurement window (the row's p99 is over all of them together). */
  windowsP99Ms: number[];
  problems: string[];
  /** With `timeAcks` (the cluster section): send → ack at this offered load. */
  ackP50Ms?: number;
  ackP99Ms?: number;
  /** A cluster's PostgreSQL and NATS: CPU per delivery (ns) and % of one core over the row. */
  servicesNsPerDelivery?: Record<string, number>;
  servicesCpuPct?: Record<string, number>;
}

async function fixedLoad(
  host: BenchServer,
  pool: LoadPool,
  config: FixedConfig,
  repeat: number,
  extras: FanoutExtras & { readonly durationMs?: number } = {},
  roomName?: string,
): Promise<FixedLoadResult> {
  const { members, senders, ratePerSec } = config;
  const serial = ++runSerial;
  const room = roomName ?? `f${serial}`;
  await openRoom(pool, room, members, senders, host.protocol, host.ports);
  await host.waitForClients(members);
  const timeAcks = extras.timeAcks === true && host.protocol === 'parley';
  const options: RunOptions = {
    mode: 'fixed',
    members,
    runId: `r${serial}`,
    textBytes: TEXT_BYTES,
    ratePerSec,
    senders,
    window: 0,
    lagLimit: 0,
    ...(timeAcks ? { timeAcks } : {}),
  };
  await pool.all({ cmd: 'run', options });
  await sleep(Math.min(1000, plan.warmupMs * 2));
  // The same span split into windows, for the spread of the p99 (one histogram per window).
  const histogram = new Histogram();
  const acks = new Histogram();
  const windowsP99Ms: number[] = [];
  const problems: string[] = [];
  const servicesCpuUs: Record<string, number> = {};
  let hostCpuUs = 0;
  let loadCpuUs = 0;
  let wallMs = 0;
  let machine = 0;
  await host.profile(`fixed-N${members}-S${senders}-${ratePerSec}`, async () => {
    for (let w = 0; w < plan.windows; w++) {
      const span = new CpuSpan(host);
      await Promise.all([span.begin(), pool.all({ cmd: 'measure' })]);
      await sleep((extras.durationMs ?? plan.fixedMs) / plan.windows);
      const [reports, cpu] = await Promise.all([pool.all<Report>({ cmd: 'report' }), span.end()]);
      const window = new Histogram();
      for (const [name, us] of Object.entries(cpu.servicesCpuUs)) {
        servicesCpuUs[name] = (servicesCpuUs[name] ?? 0) + us;
      }
      for (const r of reports) {
        if (r.ackHistogram) acks.merge(r.ackHistogram);
        window.merge(r.histogram);
        histogram.merge(r.histogram);
        problems.push(...r.closes);
      }
      windowsP99Ms.push(round(window.quantile(0.99)));
      hostCpuUs += cpu.hostCpuUs;
      loadCpuUs += cpu.loadCpuUs;
      machine += cpu.machineBusyPct * cpu.wallMs;
      wallMs += cpu.wallMs;
      for (const [e, n] of Object.entries(cpu.host.events)) problems.push(`host logged ${e} ×${n}`);
    }
  });
  await pool.all({ cmd: 'halt' });
  await pool.all({ cmd: 'closeAll' });
  await host.waitForClients(0);
  return {
    members,
    senders,
    ratePerSec,
    cipher: host.kind,
    repeat,
    p50Ms: round(histogram.quantile(0.5)),
    p99Ms: round(histogram.quantile(0.99)),
    maxMs: round(histogram.max),
    deliveries: histogram.count,
    hostCpuPct: Math.round((hostCpuUs / 1000 / wallMs) * 100),
    hostNsPerDelivery: Math.round((hostCpuUs * 1000) / histogram.count),
    loadCpuPct: Math.round((loadCpuUs / 1000 / wallMs) * 100),
    machineBusyPct: Math.round(machine / wallMs),
    windowsP99Ms,
    problems: [...new Set(problems)],
    ...(timeAcks
      ? { ackP50Ms: round(acks.quantile(0.5)), ackP99Ms: round(acks.quantile(0.99)) }
      : {}),
    ...(Object.keys(servicesCpuUs).length > 0
      ? {
          servicesNsPerDelivery: Object.fromEntries(
            Object.entries(servicesCpuUs).map(([k, us]) => [
              k,
              Math.round((us * 1000) / histogram.count),
            ]),
          ),
          servicesCpuPct: Object.fromEntries(
            Object.entries(servicesCpuUs).map(([k, us]) => [k, round((us / 1000 / wallMs) * 100)]),
          ),
        }
      : {}),
  };
}

interface HandshakeResult {
  perSec: number;
  concurrency: number;
  p50Ms: number;
  p99Ms: number;
  hostCpuPct: number;
  loadCpuPct: number;
  machineBusyPct: number;
  failed: number;
  errors: string[];
}

async function handshakes(
  host: BenchHost,
  pool: LoadPool,
  fresh: boolean,
  durationMs: number,
  concurrencyPerWorker: number,
): Promise<HandshakeResult> {
  if (!fresh) {
    // Returning users: their nicknames are already bound to their keys (as after a host restart).
    await pool.open(
      Array.from({ length: 1000 }, (_, i) => ({ index: i, room: null, sender: false })),
    );
    await pool.all({ cmd: 'closeAll' });
    await host.waitForClients(0);
  }
  const span = new CpuSpan(host);
  const [results, cpu] = await host.profile(fresh ? 'handshakes-new' : 'handshakes', async () => {
    await span.begin();
    const results = await pool.all<{
      completed: number;
      failed: number;
      errors: string[];
      histogram: { counts: Float64Array; max: number };
    }>({ cmd: 'handshakes', durationMs, concurrency: concurrencyPerWorker, fresh, keyFrom: 0 });
    return [results, await span.end()] as const;
  });
  await host.waitForClients(0);
  const histogram = new Histogram();
  for (const r of results) histogram.merge(r.histogram);
  const completed = results.reduce((s, r) => s + r.completed, 0);
  return {
    perSec: Math.round(completed / (durationMs / 1000)),
    concurrency: concurrencyPerWorker * pool.workers.length,
    p50Ms: round(histogram.quantile(0.5)),
    p99Ms: round(histogram.quantile(0.99)),
    hostCpuPct: Math.round(cpu.hostCpuPct),
    loadCpuPct: Math.round(cpu.loadCpuPct),
    machineBusyPct: Math.round(cpu.machineBusyPct),
    failed: results.reduce((s, r) => s + r.failed, 0),
    errors: results.flatMap((r) => r.errors),
  };
}

interface MemoryResult {
  connections: number;
  rssBytesPerConnection: number;
  heapBytesPerConnection: number;
  heapCommittedBytesPerConnection: number;
  externalBytesPerConnection: number;
  hostRssMb: number;
}

async function idleMemory(
  pool: LoadPool,
  steps: number[],
  nodeFlags: string[] = SERVE_NODE_FLAGS,
): Promise<MemoryResult[]> {
  const rooms = Array.from({ length: 100 }, (_, i) => `i${i}`);
  const host = await BenchHost.start('chachapoly', rooms, true, nodeFlags);
  try {
    await pool.target(host);
    // Warm up code paths, buffer pools and the nickname table, then take the baseline.
    const last = steps[steps.length - 1] ?? 0;
    const spec = (i: number): ConnectionSpec => ({ index: i, room: `i${i % 100}`, sender: false });
    await pool.open(Array.from({ length: 200 }, (_, i) => spec(last + i)));
    await pool.all({ cmd: 'closeAll' });
    await host.waitForClients(0);
    await sleep(300);
    const base = await host.stats(true);
    if (process.env.PARLEY_BENCH_DEBUG) log(JSON.stringify(await host.snapshot()));
    const results: MemoryResult[] = [];
    let open = 0;
    for (const step of steps) {
      await pool.open(Array.from({ length: step - open }, (_, i) => spec(open + i)));
      open = step;
      await host.waitForClients(open);
      await sleep(Number(process.env.PARLEY_BENCH_IDLE_WAIT ?? 500));
      const now = await host.stats(true);
      if (process.env.PARLEY_BENCH_DEBUG) {
        log(JSON.stringify({ base: base.spaces, now: now.spaces }));
        log(JSON.stringify(await host.snapshot()));
      }
      results.push({
        connections: step,
        rssBytesPerConnection: Math.round((now.rss - base.rss) / step),
        heapBytesPerConnection: Math.round((now.heapUsed - base.heapUsed) / step),
        heapCommittedBytesPerConnection: Math.round((now.heapTotal - base.heapTotal) / step),
        externalBytesPerConnection: Math.round((now.external - base.external) / step),
        hostRssMb: Math.round(now.rss / 2 ** 20),
      });
    }
    await pool.all({ cmd: 'closeAll' });
    await host.waitForClients(0);
    return results;
  } finally {
    await host.stop();
  }
}

// ── the run ────────────────────────────────────────────────────────────────────────

/** How long a durable commit takes here (the host fsyncs once per turn that stored messages). */
function fsyncMs(): number {
  const file = join(tmpRoot, 'fsync-probe');
  const fd = openSync(file, 'w');
  const block = Buffer.alloc(4096);
  const times: number[] = [];
  for (let i = 0; i < 30; i++) {
    writeSync(fd, block);
    const began = performance.now();
    fdatasyncSync(fd);
    times.push(performance.now() - began);
  }
  closeSync(fd);
  rmSync(file);
  return round(median(times));
}

/** Linux pressure stall information: the share of time runnable tasks waited for a CPU. */
function cpuPressure(): number | null {
  try {
    const line = readFileSync('/proc/pressure/cpu', 'utf8').split('\n')[0] ?? '';
    return Number(/avg60=([\d.]+)/.exec(line)?.[1] ?? NaN);
  } catch {
    return null;
  }
}

function machine() {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model ?? 'unknown',
    cores: os.availableParallelism(),
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    openssl: process.versions.openssl,
    cryptoBackend: selectBackend().name,
    loadWorkers: workerCount,
    hostNodeFlags: [
      ...SERVE_NODE_FLAGS,
      ...(process.env.PARLEY_BENCH_HOST_FLAGS?.split(' ').filter(Boolean) ?? []),
    ],
    loadAverageAtStart: os.loadavg().map((l) => round(l)),
    cpuPressureAvg60AtStart: cpuPressure(),
    fsyncMsAtStart: fsyncMs(),
    tmpDir: os.tmpdir(),
    quick,
    cpuPctMeans: '% of one core (100 = one core busy)',
  };
}

function makeKeys(count: number): KeyPair[] {
  const backend = selectBackend();
  return Array.from({ length: count }, () => backend.generateKeyPair());
}

async function main(): Promise<void> {
  const started = performance.now();
  const info = machine();
  const result: Record<string, unknown> = { machine: info };
  const memorySteps = [1000, 5000];
  const keys = makeKeys(Math.max(...memorySteps) + 200);
  const pool = new LoadPool(workerCount, keys);
  await pool.all({ cmd: 'ready' }); // workers loaded, so they do not share the AEAD measurement

  if (only.has('aead')) {
    log('aead: raw seal throughput of the selected backend…');
    const aead: AeadResult[] = measureAead(plan.aeadMs);
    result['aead'] = aead;
    result['aeadMessagesPerSec'] = aead.find(
      (a) => a.cipher === 'chachapoly' && a.items === 1,
    )?.sealsPerSec;
  }

  if (only.has('mls')) {
    // Client-side costs: before any host starts, with the load workers idle.
    log('e2ee: MLS per message, per membership change and per join (ts-mls, both providers)…');
    result['e2ee'] = await measureMls(quick, log);
  }

  if (only.has('search')) {
    // Client-side too: 100 000 messages indexed in memory, then searched (bench/search.ts).
    log('search: FTS5 index of 100 000 messages, and a String.includes scan of them…');
    result['search'] = measureSearch(quick, log);
    // The desktop's path: from a sealed local history, built in the background (search-history.ts).
    log("search: the desktop's index built in slices from a local history of 100 000 sealed rows…");
    result['searchHistory'] = await measureSearchHistory(quick, log);
  }

  const fanoutResults: FanoutResult[] = [];
  const fixedResults: FixedLoadResult[] = [];
  // Every fan-out and fixed-load run takes a fresh room (the run serial is shared by all servers).
  const roomCount = (configs.length + fixedConfigs.length) * (ciphers.length + 1) * repeats + 1;
  const fanoutRooms = Array.from({ length: Math.max(40, roomCount) }, (_, i) => `f${i + 1}`);
  // One host per cipher, all started up front, and each configuration measured with every cipher
  // back to back: a neighbour's load then weighs on both sides of a ratio alike.
  const hosts = new Map<BenchCipher, BenchHost>();
  const hostFor = async (cipher: BenchCipher): Promise<BenchHost> => {
    let host = hosts.get(cipher);
    if (!host) {
      host = await BenchHost.start(cipher, fanoutRooms);
      hosts.set(cipher, host);
    }
    await pool.target(host);
    return host;
  };
  // ngircd, the baseline of every fan-out and fixed-load row: started once, like the hosts, and
  // measured right after Parley's ciphers for each configuration.
  let ngircd: NgircdTarget | undefined;
  let ngircdBinary: NgircdBinary | undefined;
  if (only.has('fanout') || only.has('fixed')) {
    ngircdBinary = ensureNgircd(log);
    if ('reason' in ngircdBinary) {
      log(`ngircd: not measured (${ngircdBinary.reason})`);
      result['ngircd'] = { measured: false, reason: ngircdBinary.reason };
    } else {
      try {
        ngircd = new NgircdTarget(await NgircdServer.start(ngircdBinary));
        log(`ngircd ${ngircdBinary.version} (${ngircdBinary.path}) on 127.0.0.1:${ngircd.port}`);
        result['ngircd'] = {
          measured: true,
          version: ngircdBinary.version,
          path: ngircdBinary.path,
          installedByBench: ngircdBinary.installed,
          config:
            'bench/ngircd.ts ngircdConfig(): MaxPenaltyTime 0, user mode +F, no connection caps',
        };
      } catch (error) {
        const reason = (error as Error).message;
        log(`ngircd: not measured (${reason})`);
        result['ngircd'] = { measured: false, reason };
      }
    }
  }
  const serverFor = async (kind: ServerKind): Promise<BenchServer | undefined> => {
    if (kind !== 'ngircd') return hostFor(kind);
    if (ngircd) await pool.target(ngircd);
    return ngircd;
  };
  const kinds: ServerKind[] = [...ciphers, 'ngircd'];
  try {
    for (let repeat = 1; repeat <= repeats; repeat++) {
      const pass = repeats > 1 ? ` (repeat ${repeat}/${repeats})` : '';
      if (only.has('fanout')) {
        for (const config of configs) {
          for (const kind of kinds) {
            if (kind === 'aesgcm' && !aesConfigs.includes(config)) continue;
            // --quick keeps the one baseline a target needs (N=100) and stays under a minute.
            if (quick && kind === 'null' && config.members !== 100 && !memberFilter) continue;
            const server = await serverFor(kind);
            if (!server) continue;
            log(`fan-out ${kind} N=${config.members} S=${config.senders}${pass}…`);
            const r = await fanout(server, pool, config, repeat);
            log(
              `  ${fmt(r.deliveriesPerSec)} deliveries/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, host ${r.hostCpuPct}% (sys ${r.hostSystemCpuPct}%) load ${r.loadCpuPct}% machine ${r.machineBusyPct}%, host ${r.hostNsPerDelivery} ns/delivery, load ${r.loadNsPerDelivery} ns/delivery, ${r.deliveriesPerRecord}/record${r.problems.length ? ` PROBLEMS: ${r.problems.join('; ')}` : ''}`,
            );
            fanoutResults.push(r);
          }
        }
      }
      if (only.has('fixed')) {
        for (const config of fixedConfigs) {
          for (const kind of kinds) {
            if (kind === 'aesgcm' || (quick && kind === 'null')) continue;
            const server = await serverFor(kind);
            if (!server) continue;
            log(
              `fixed load ${kind}: N=${config.members}, ${config.senders} × ${config.ratePerSec} msg/s${pass}…`,
            );
            const r = await fixedLoad(server, pool, config, repeat);
            log(
              `  p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms (windows ${r.windowsP99Ms.join(', ')}), max ${r.maxMs} ms, host ${r.hostCpuPct}%, ${fmt(r.hostNsPerDelivery)} ns/delivery${r.problems.length ? ` PROBLEMS: ${r.problems.join('; ')}` : ''}`,
            );
            fixedResults.push(r);
          }
        }
      }
    }
    if (only.has('handshakes') && ciphers.includes('chachapoly')) {
      // Node's own TLS 1.3 first, on the same load threads' count and concurrency: the baseline
      // #18 measures the handshake against (bench/tls-handshakes.ts).
      log('handshakes: Node TLS 1.3 baseline (ECDSA P-256, full handshakes)…');
      const tls = await measureTlsHandshakes({
        durationMs: plan.handshakeMs,
        workers: pool.workers.length,
        concurrencyPerWorker: 8,
        log,
      });
      if (tls.measured) {
        log(`  ${tls.perSec}/s (server ${tls.hostCpuPct}%, load ${tls.loadCpuPct}%)`);
      }
      result['tlsHandshakes'] = tls;
      const host = await hostFor('chachapoly');
      log('handshakes: returning keys…');
      const returning = await handshakes(host, pool, false, plan.handshakeMs, 8);
      log(`  ${returning.perSec}/s (host ${returning.hostCpuPct}%, load ${returning.loadCpuPct}%)`);
      log('handshakes: new keys (each claims a nickname: one durable write)…');
      const fresh = await handshakes(
        host,
        pool,
        true,
        process.env.PARLEY_BENCH_SKIP_FRESH ? 100 : plan.freshHandshakeMs,
        8,
      );
      log(`  ${fresh.perSec}/s (host ${fresh.hostCpuPct}%, load ${fresh.loadCpuPct}%)`);
      result['handshakesPerSec'] = returning.perSec;
      result['handshakesNewKeysPerSec'] = fresh.perSec;
      result['handshakes'] = { returningKeys: returning, newKeys: fresh };
    }
  } finally {
    for (const host of hosts.values()) await host.stop();
    await ngircd?.server.stop();
  }
  if (fanoutResults.length) result['fanout'] = fanoutResults;
  if (fixedResults.length) result['fixedLoad'] = fixedResults;
  if (ngircd) result['vsNgircd'] = compareWithNgircd(fanoutResults, fixedResults);

  if (only.has('cluster')) {
    log('cluster: the single process, clusters of node processes and ngircd (bench/cluster.ts)…');
    result['cluster'] = await measureCluster({
      quick,
      log,
      memberCounts: memberFilter ? [...memberFilter] : quick ? [100] : [100, 500],
      nodeCounts: (args.nodes ?? '1,2,4').split(',').map(Number),
      // Every member sends: enough senders that a turn has several messages to commit.
      writeMembers: Math.min(20, ...(memberFilter ?? [20])),
      skeletonMs: args.seconds ? plan.windowMs : quick ? 1000 : 3000,
      tmpDir: tmpRoot,
      startSingle: (rooms) => BenchHost.start('chachapoly', rooms),
      startNode: (rooms, env) => BenchHost.start('chachapoly', rooms, false, SERVE_NODE_FLAGS, env),
      startNgircd: async () => {
        const binary = ensureNgircd(log);
        if ('reason' in binary) return binary;
        const target = new NgircdTarget(await NgircdServer.start(binary));
        return Object.assign(target, {
          version: binary.version,
          stop: () => target.server.stop(),
        });
      },
      target: (server) => pool.target(server),
      fanout: (server, config, room) => fanout(server, pool, config, 1, { timeAcks: true }, room),
      // The default run's busy mid-size room (fullFixedConfigs): 100 members, 10 talking.
      fixedMembers: Math.min(100, ...(memberFilter ?? [100])),
      fixed: (server, config, room) =>
        fixedLoad(
          server,
          pool,
          config,
          1,
          { timeAcks: true, durationMs: plan.windowMs * plan.windows },
          room,
        ),
    });
  }

  if (only.has('files')) {
    log("files: 1 MiB to a room of 100 beside another room's chat stream (bench/files.ts)…");
    const host = await BenchHost.start('chachapoly', FILE_ROOMS);
    try {
      result['files'] = await measureFiles(host, { quick, log });
    } finally {
      await host.stop();
    }
  }

  if (only.has('memory')) {
    log('start footprint: RSS of the host as shipped, from source, and of bare Node…');
    const footprint = await measureStartFootprint({ runs: quick ? 1 : 3 });
    log(
      `  shipped ${footprint.shipped.rssMiB} MiB, type-stripped ${footprint.typeStripped.rssMiB} MiB, bare Node ${footprint.bareNode.rssMiB} MiB`,
    );
    result['startFootprint'] = footprint;
    log(`idle memory: ${memorySteps.join(', ')} connections…`);
    const memory = await idleMemory(pool, memorySteps);
    for (const m of memory)
      log(`  ${m.connections}: ${m.rssBytesPerConnection} B RSS per connection`);
    result['idleBytesPerConnection'] = Object.fromEntries(
      memory.map((m) => [String(m.connections), m.rssBytesPerConnection]),
    );
    result['idleMemory'] = memory;
    if (!quick && SERVE_NODE_FLAGS.length > 0) {
      // What the shipped flags are for: without them V8 sizes the young generation from the
      // machine's memory (here up to 64 MiB semi-spaces) and keeps it after a connection storm.
      log('idle memory, host with no Node flags…');
      const plain = await idleMemory(pool, memorySteps, []);
      for (const m of plain)
        log(`  ${m.connections}: ${m.rssBytesPerConnection} B RSS per connection`);
      result['idleBytesPerConnectionNoFlags'] = Object.fromEntries(
        plain.map((m) => [String(m.connections), m.rssBytesPerConnection]),
      );
      result['idleMemoryNoFlags'] = { nodeFlags: [], steps: plain };
    }
  }

  await pool.terminate();
  result['machine'] = {
    ...info,
    loadAverageAtEnd: os.loadavg().map((l) => round(l)),
    cpuPressureAvg60AtEnd: cpuPressure(),
  };
  result['targets'] = targets(result, fanoutResults);
  result['durationSec'] = Math.round((performance.now() - started) / 1000);
  rmSync(tmpRoot, { recursive: true, force: true });

  if (!args.json) process.stdout.write(`${table(result, fanoutResults, fixedResults)}\n`);
  process.stdout.write(`${JSON.stringify(result, null, args.json ? 0 : 2)}\n`);
}

function find(
  results: FanoutResult[],
  cipher: ServerKind,
  members: number,
  senders = 1,
  repeat = 1,
) {
  return results.find(
    (r) =>
      r.cipher === cipher && r.members === members && r.senders === senders && r.repeat === repeat,
  );
}

/** The lowest and highest value a ratio took. */
export interface Spread {
  min: number;
  max: number;
}

/**
 * Parley ÷ ngircd for one row (one Parley cipher, one configuration), over the repeats:
 * `ratio` is the median of the repeats' ratios (each the ratio of the two rows' medians);
 * `overWindows` pairs every window of Parley's row with every window of ngircd's in the same
 * repeat (lowest ÷ highest … highest ÷ lowest: the two servers' windows are not simultaneous, so
 * no pairing is more right than another); `overRepeats` is each repeat's ratio.
 */
export interface NgircdComparison {
  test: 'fanout' | 'fixed';
  members: number;
  senders: number;
  ratePerSec?: number;
  cipher: BenchCipher;
  /** fanout: deliveries/s ÷ ngircd's (higher is better); fixed: p99 ÷ ngircd's (lower is better). */
  ratio: number;
  overWindows: Spread;
  overRepeats: number[];
  hostNsPerDelivery: number;
  ngircdNsPerDelivery: number;
  /**
   * Host CPU per delivery ÷ ngircd's (lower is better; #18's "half the CPU per delivery"): the
   * figure a shared machine disturbs least, since each server's CPU time is its own.
   */
  nsPerDeliveryRatio: number;
  hostCpuPct: number;
  ngircdCpuPct: number;
}

function windowSpread(parley: number[], ngircd: number[]): Spread {
  return {
    min: Math.min(...parley) / Math.max(...ngircd),
    max: Math.max(...parley) / Math.min(...ngircd),
  };
}

function compareRows<R extends { cipher: ServerKind; repeat: number }>(
  rows: R[],
  sameConfig: (a: R, b: R) => boolean,
  figure: (r: R) => number,
  windows: (r: R) => number[],
): { parley: R[]; ngircd: R[]; ratio: number; overWindows: Spread; overRepeats: number[] }[] {
  const out = [];
  const seen = new Set<R>();
  for (const first of rows) {
    if (first.cipher === 'ngircd' || seen.has(first)) continue;
    const parley = rows.filter(
      (r) => r.cipher === first.cipher && sameConfig(r, first) && !seen.has(r),
    );
    for (const r of parley) seen.add(r);
    const pairs = parley.flatMap((p) => {
      const n = rows.find(
        (r) => r.cipher === 'ngircd' && r.repeat === p.repeat && sameConfig(r, p),
      );
      return n ? [[p, n] as const] : [];
    });
    if (pairs.length === 0) continue;
    const spreads = pairs.map(([p, n]) => windowSpread(windows(p), windows(n)));
    const overRepeats = pairs.map(([p, n]) => round(figure(p) / figure(n)));
    out.push({
      parley: pairs.map(([p]) => p),
      ngircd: pairs.map(([, n]) => n),
      ratio: round(median(pairs.map(([p, n]) => figure(p) / figure(n)))),
      overWindows: {
        min: round(Math.min(...spreads.map((x) => x.min))),
        max: round(Math.max(...spreads.map((x) => x.max))),
      },
      overRepeats,
    });
  }
  return out;
}

function compareWithNgircd(
  fanoutResults: FanoutResult[],
  fixedResults: FixedLoadResult[],
): NgircdComparison[] {
  const cpu = (rows: { hostNsPerDelivery: number; hostCpuPct: number }[]) => ({
    ns: Math.round(median(rows.map((r) => r.hostNsPerDelivery))),
    pct: Math.round(median(rows.map((r) => r.hostCpuPct))),
  });
  const fanout = compareRows(
    fanoutResults,
    (a, b) => a.members === b.members && a.senders === b.senders,
    (r) => r.deliveriesPerSec,
    (r) => r.windows,
  ).map((c): NgircdComparison => {
    const first = c.parley[0] as FanoutResult;
    const [p, n] = [cpu(c.parley), cpu(c.ngircd)];
    return {
      test: 'fanout',
      members: first.members,
      senders: first.senders,
      cipher: first.cipher as BenchCipher,
      ratio: c.ratio,
      overWindows: c.overWindows,
      overRepeats: c.overRepeats,
      hostNsPerDelivery: p.ns,
      ngircdNsPerDelivery: n.ns,
      nsPerDeliveryRatio: round(p.ns / n.ns),
      hostCpuPct: p.pct,
      ngircdCpuPct: n.pct,
    };
  });
  const fixed = compareRows(
    fixedResults,
    (a, b) => a.members === b.members && a.senders === b.senders && a.ratePerSec === b.ratePerSec,
    (r) => r.p99Ms,
    (r) => r.windowsP99Ms,
  ).map((c): NgircdComparison => {
    const first = c.parley[0] as FixedLoadResult;
    const [p, n] = [cpu(c.parley), cpu(c.ngircd)];
    return {
      test: 'fixed',
      members: first.members,
      senders: first.senders,
      ratePerSec: first.ratePerSec,
      cipher: first.cipher as BenchCipher,
      ratio: c.ratio,
      overWindows: c.overWindows,
      overRepeats: c.overRepeats,
      hostNsPerDelivery: p.ns,
      ngircdNsPerDelivery: n.ns,
      nsPerDeliveryRatio: round(p.ns / n.ns),
      hostCpuPct: p.pct,
      ngircdCpuPct: n.pct,
    };
  });
  return [...fanout, ...fixed];
}

export interface Target {
  target: string;
  value: number | null;
  goal: string;
  /** null: not measured (the row, or ngircd, was not part of this run). */
  met: boolean | null;
  /** Ratios: the lowest and highest over windows, and each repeat's value. */
  overWindows?: Spread;
  overRepeats?: number[];
}

/** #18's targets, and the earlier files and idle-memory ones; the lead adds handshakes and RSS. */
function targets(result: Record<string, unknown>, fanoutResults: FanoutResult[]): Target[] {
  const out: Target[] = [];
  const add = (
    target: string,
    value: number | undefined,
    goal: string,
    ok: (v: number) => boolean,
    spread: Pick<Target, 'overWindows' | 'overRepeats'> = {},
  ) =>
    out.push({
      target,
      value: value === undefined ? null : round(value),
      goal,
      met: value === undefined ? null : ok(value),
      ...(value === undefined ? {} : spread),
    });
  const vs = (result['vsNgircd'] as NgircdComparison[] | undefined) ?? [];
  for (const members of [100, 500, 1000]) {
    for (const senders of [1, members / 10]) {
      const c = vs.find(
        (x) =>
          x.test === 'fanout' &&
          x.cipher === 'chachapoly' &&
          x.members === members &&
          x.senders === senders,
      );
      add(
        `fan-out deliveries/s ÷ ngircd, N=${members}, ${senders} sender${senders > 1 ? 's' : ''}`,
        c?.ratio,
        '>= 0.8',
        (v) => v >= 0.8,
        c ? { overWindows: c.overWindows, overRepeats: c.overRepeats } : {},
      );
    }
  }
  for (const config of fullFixedConfigs) {
    const c = vs.find(
      (x) =>
        x.test === 'fixed' &&
        x.cipher === 'chachapoly' &&
        x.members === config.members &&
        x.senders === config.senders &&
        x.ratePerSec === config.ratePerSec,
    );
    add(
      `fixed-load p99 ÷ ngircd p99, N=${config.members}, ${config.senders === 1 ? 'one sender' : `${config.senders} senders`} at ${config.ratePerSec} msg/s${config.senders > 1 ? ' each' : ''}`,
      c?.ratio,
      '<= 2',
      (v) => v <= 2,
      c ? { overWindows: c.overWindows, overRepeats: c.overRepeats } : {},
    );
  }
  const perRepeat: number[] = [];
  for (let repeat = 1; repeat <= repeats; repeat++) {
    const chacha = find(fanoutResults, 'chachapoly', 100, 1, repeat);
    const plain = find(fanoutResults, 'null', 100, 1, repeat);
    if (chacha && plain) perRepeat.push(chacha.deliveriesPerSec / plain.deliveriesPerSec);
  }
  add(
    'encrypted ÷ null-cipher fan-out, N=100, 1 sender',
    perRepeat.length ? median(perRepeat) : undefined,
    '>= 0.8',
    (v) => v >= 0.8,
    { overRepeats: perRepeat.map(round) },
  );
  const files = result['files'] as FilesOutcome | undefined;
  const measured = files && 'verdict' in files ? files : undefined;
  out.push({
    target: 'chat p99 with a 1 MiB file to 100 ÷ without (files)',
    value: measured ? measured.p99Ratio : null,
    goal: `<= ${P99_RATIO_GOAL} or +${P99_SLACK_MS} ms`,
    met: measured ? measured.verdict.met : null,
  });
  const tls = result['tlsHandshakes'] as TlsHandshakeResult | TlsNotMeasured | undefined;
  const tlsRate = tls?.measured ? tls.perSec : undefined;
  for (const [label, key] of [
    ['returning keys', 'handshakesPerSec'],
    ['new keys', 'handshakesNewKeysPerSec'],
  ] as const) {
    const parley = result[key] as number | undefined;
    add(
      `handshakes/s ÷ Node TLS 1.3 (ECDSA P-256), ${label}`,
      parley !== undefined && tlsRate ? parley / tlsRate : undefined,
      '>= 1.2',
      (v) => v >= 1.2,
    );
  }
  const footprint = result['startFootprint'] as StartFootprint | undefined;
  add('host RSS at start, as shipped (MiB)', footprint?.shipped.rssMiB, '<= 60', (v) => v <= 60);
  const idle = result['idleBytesPerConnection'] as Record<string, number> | undefined;
  for (const n of ['1000', '5000']) {
    add(`RSS per idle connection at ${n} (bytes)`, idle?.[n], '<= 12288', (v) => v <= 12288);
  }
  return out;
}

/** `0.45 (0.41–0.50)`: a ratio of two rows' medians, and its range over their windows. */
function ratioCell(ratio: number, spread: Spread): string {
  return `${ratio.toFixed(2)} (${spread.min.toFixed(2)}–${spread.max.toFixed(2)})`;
}

function fmt(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '—';
  return Math.round(n).toLocaleString('en-US');
}

function table(
  result: Record<string, unknown>,
  fanoutResults: FanoutResult[],
  fixedResults: FixedLoadResult[],
): string {
  const lines: string[] = [];
  const m = result['machine'] as Record<string, unknown>;
  lines.push(
    `Parley host benchmark — ${m['cpuModel']}, ${m['cores']} cores, ${m['node']}, OpenSSL ${m['openssl']}, backend ${m['cryptoBackend']}`,
  );
  lines.push(
    `Before the run: load avg ${(m['loadAverageAtStart'] as number[]).join(' ')}, CPU pressure (avg60) ${m['cpuPressureAvg60AtStart']} %, fdatasync ${m['fsyncMsAtStart']} ms in ${m['tmpDir']}`,
  );
  const flags = m['hostNodeFlags'] as string[];
  lines.push(`Host Node flags (as \`npm run serve\`): ${flags.length ? flags.join(' ') : 'none'}`);
  lines.push('CPU % is of one core; the load generator shares the same cores.');
  lines.push('');
  if (fanoutResults.length) {
    lines.push('Room fan-out (200-byte messages, saturating, median of windows)');
    const header = [
      'N',
      'S',
      'cipher',
      ...(repeats > 1 ? ['rep'] : []),
      'deliveries/s',
      'vs null',
      '÷ ngircd (windows)',
      'p50 ms',
      'p99 ms',
      'max ms',
      'host %',
      'load %',
      'machine %',
      'host ns/dlv',
      'host MB',
      'msg/record',
    ];
    const rows = fanoutResults.map((r) => {
      const base = find(fanoutResults, 'null', r.members, r.senders, r.repeat);
      const irc = find(fanoutResults, 'ngircd', r.members, r.senders, r.repeat);
      return [
        String(r.members),
        String(r.senders),
        r.cipher,
        ...(repeats > 1 ? [String(r.repeat)] : []),
        fmt(r.deliveriesPerSec),
        base && r.cipher !== 'null' && r.cipher !== 'ngircd'
          ? `${Math.round((r.deliveriesPerSec / base.deliveriesPerSec) * 100)}%`
          : '',
        irc && r.cipher !== 'ngircd'
          ? ratioCell(
              r.deliveriesPerSec / irc.deliveriesPerSec,
              windowSpread(r.windows, irc.windows),
            )
          : '',
        String(r.p50Ms),
        String(r.p99Ms),
        String(r.maxMs),
        String(r.hostCpuPct),
        String(r.loadCpuPct),
        String(r.machineBusyPct),
        fmt(r.hostNsPerDelivery),
        String(r.hostRssMb),
        String(r.deliveriesPerRecord),
      ];
    });
    lines.push(...grid(header, rows));
    lines.push('');
  }
  if (fixedResults.length) {
    lines.push(
      'Latency at a fixed offered load (msg/s per sender; senders spread over the interval)',
    );
    lines.push(
      ...grid(
        [
          'N',
          'S',
          'cipher',
          ...(repeats > 1 ? ['rep'] : []),
          'msg/s',
          'p50 ms',
          'p99 ms',
          'p99 per window',
          'p99 ÷ ngircd (windows)',
          'max ms',
          'host %',
          'host ns/dlv',
          'load %',
          'machine %',
        ],
        fixedResults.map((r) => {
          const irc = fixedResults.find(
            (x) =>
              x.cipher === 'ngircd' &&
              x.repeat === r.repeat &&
              x.members === r.members &&
              x.senders === r.senders &&
              x.ratePerSec === r.ratePerSec,
          );
          return [
            String(r.members),
            String(r.senders),
            r.cipher,
            ...(repeats > 1 ? [String(r.repeat)] : []),
            String(r.ratePerSec),
            String(r.p50Ms),
            String(r.p99Ms),
            r.windowsP99Ms.join(' '),
            irc && r.cipher !== 'ngircd'
              ? ratioCell(r.p99Ms / irc.p99Ms, windowSpread(r.windowsP99Ms, irc.windowsP99Ms))
              : '',
            String(r.maxMs),
            String(r.hostCpuPct),
            fmt(r.hostNsPerDelivery),
            String(r.loadCpuPct),
            String(r.machineBusyPct),
          ];
        }),
      ),
    );
    lines.push('');
  }
  const ngircd = result['ngircd'] as
    { measured: boolean; reason?: string; version?: string } | undefined;
  if (ngircd && !ngircd.measured) lines.push(`ngircd: not measured (${ngircd.reason})`, '');
  const vs = result['vsNgircd'] as NgircdComparison[] | undefined;
  if (vs?.length) {
    lines.push(
      `Parley ÷ ngircd ${ngircd?.version ?? ''} (fan-out: deliveries/s, higher is better; fixed: p99, lower is better)`,
      `median of ${repeats} repeat${repeats > 1 ? 's' : ''}; windows: lowest–highest pairing of the two rows' windows; ns/dlv: server CPU per delivery (ratio: Parley's ÷ ngircd's, lower is better)`,
    );
    lines.push(
      ...grid(
        [
          'test',
          'N',
          'S',
          'cipher',
          'ratio',
          'over windows',
          'over repeats',
          'host ns/dlv',
          'ngircd ns/dlv',
          'ns/dlv ratio',
          'host %',
          'ngircd %',
        ],
        vs.map((c) => [
          c.test === 'fanout' ? 'fan-out' : `fixed ${c.ratePerSec}/s`,
          String(c.members),
          String(c.senders),
          c.cipher,
          c.ratio.toFixed(2),
          `${c.overWindows.min.toFixed(2)}–${c.overWindows.max.toFixed(2)}`,
          c.overRepeats.map((x) => x.toFixed(2)).join(' '),
          fmt(c.hostNsPerDelivery),
          fmt(c.ngircdNsPerDelivery),
          c.nsPerDeliveryRatio.toFixed(2),
          String(c.hostCpuPct),
          String(c.ngircdCpuPct),
        ]),
        4,
      ),
    );
    lines.push('');
  }
  if (result['handshakesPerSec'] !== undefined) {
    const h = result['handshakes'] as { returningKeys: HandshakeResult; newKeys: HandshakeResult };
    lines.push(
      `Handshakes (Noise XX + hello + welcome, ${h.returningKeys.concurrency} concurrent): ${fmt(h.returningKeys.perSec)}/s returning keys (host ${h.returningKeys.hostCpuPct}%, load ${h.returningKeys.loadCpuPct}%, machine ${h.returningKeys.machineBusyPct}%, p50 ${h.returningKeys.p50Ms} ms); ${fmt(h.newKeys.perSec)}/s new keys`,
    );
  }
  const tls = result['tlsHandshakes'] as TlsHandshakeResult | TlsNotMeasured | undefined;
  if (tls) {
    lines.push(
      tls.measured
        ? `Node TLS 1.3 (${tls.negotiated?.cipher ?? '?'}, ${tls.negotiated?.group ?? '?'}, ECDSA P-256, ${tls.concurrency} concurrent): ${fmt(tls.perSec)}/s (server ${tls.hostCpuPct}%, load ${tls.loadCpuPct}%, machine ${tls.machineBusyPct}%, p50 ${tls.p50Ms} ms; CPU per handshake: server ${tls.hostCpuUsPerHandshake} µs, connector ${tls.loadCpuUsPerHandshake} µs)`
        : `Node TLS 1.3: not measured (${tls.reason})`,
    );
  }
  const footprint = result['startFootprint'] as StartFootprint | undefined;
  if (footprint) {
    lines.push(
      `Host RSS at start (listening, no client; flags ${footprint.nodeFlags.join(' ') || 'none'}): ${footprint.shipped.rssMiB} MiB as shipped (built JavaScript), ${footprint.typeStripped.rssMiB} MiB from source (type stripping), bare Node ${footprint.bareNode.rssMiB} MiB`,
    );
  }
  if (result['idleMemory']) {
    for (const r of result['idleMemory'] as MemoryResult[]) {
      lines.push(
        `Idle connections: ${fmt(r.connections)} → ${fmt(r.rssBytesPerConnection)} B RSS each (heap ${fmt(r.heapBytesPerConnection)} B used, ${fmt(r.heapCommittedBytesPerConnection)} B committed, external ${fmt(r.externalBytesPerConnection)} B), host RSS ${r.hostRssMb} MB`,
      );
    }
  }
  if (result['idleMemoryNoFlags']) {
    const plain = result['idleMemoryNoFlags'] as { steps: MemoryResult[] };
    for (const r of plain.steps) {
      lines.push(
        `  host with no Node flags: ${fmt(r.connections)} → ${fmt(r.rssBytesPerConnection)} B RSS each, host RSS ${r.hostRssMb} MB`,
      );
    }
  }
  if (result['aead']) {
    for (const a of result['aead'] as AeadResult[]) {
      lines.push(
        `AEAD seal (${a.backend} ${a.cipher}, ${a.plaintextBytes} B = ${a.items} message${a.items > 1 ? 's' : ''}): ${fmt(a.sealsPerSec)}/s, ${fmt(a.mbPerSec)} MB/s`,
      );
    }
  }
  if (result['e2ee']) lines.push('', ...e2eeTable(result['e2ee'] as MlsBenchResult));
  if (result['search']) lines.push('', ...searchTable(result['search'] as SearchBenchResult, grid));
  if (result['searchHistory']) {
    lines.push(
      '',
      ...searchHistoryTable(result['searchHistory'] as SearchHistoryBenchResult, grid),
    );
  }
  if (result['files']) lines.push('', ...filesTable(result['files'] as FilesOutcome));
  if (result['cluster']) lines.push('', ...clusterTable(result['cluster'] as ClusterOutcome, grid));
  lines.push('');
  lines.push('Targets');
  lines.push(
    ...grid(
      ['target', 'value', 'goal', 'met', 'over windows', 'over repeats'],
      (result['targets'] as Target[]).map((t) => [
        t.target,
        t.value === null ? '—' : t.value >= 100 ? fmt(t.value) : String(t.value),
        t.goal,
        t.met === null ? 'not measured' : t.met ? 'met' : 'NOT MET',
        t.overWindows ? `${t.overWindows.min.toFixed(2)}–${t.overWindows.max.toFixed(2)}` : '',
        t.overRepeats && t.overRepeats.length > 1
          ? t.overRepeats.map((x) => x.toFixed(2)).join(' ')
          : '',
      ]),
      3,
    ),
  );
  return lines.join('\n');
}

/** The client's cost of end-to-end encryption, next to the plaintext path's (bench/mls.ts). */
function e2eeTable(e2ee: MlsBenchResult): string[] {
  const p = e2ee.plaintext;
  return [
    `End-to-end encryption (client side, ts-mls, suite 1; CPU time)`,
    `Per 200-byte message, plaintext path (${p.backend}): send ${p.sendUs} µs (encode + seal), receive ${p.receiveUs} µs (open + parse)`,
    ...grid(
      ['provider', 'encrypt µs', 'decrypt µs', 'mls chars', 'messages'],
      e2ee.messages.map((m) => [
        m.provider,
        String(m.encryptUs),
        String(m.decryptUs),
        String(m.wireChars),
        String(m.messages),
      ]),
      1,
    ),
    '',
    'Membership changes (median ms; commit = the committer, process = another member) and late join',
    ...grid(
      [
        'provider',
        'N',
        'add commit',
        'add process',
        'remove commit',
        'remove process',
        'join (Welcome)',
        'commit chars',
        'welcome chars',
        'rounds',
      ],
      e2ee.groups.map((g) => [
        g.provider,
        String(g.members),
        String(g.addCommitMs),
        String(g.addProcessMs),
        String(g.removeCommitMs),
        String(g.removeProcessMs),
        String(g.joinMs),
        fmt(g.addCommitChars),
        fmt(g.welcomeChars),
        String(g.rounds),
      ]),
      1,
    ),
  ];
}

/** Columns before `leftColumns` are text (left-aligned), the rest figures. */
function grid(header: string[], rows: string[][], leftColumns = 3): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i < leftColumns ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

const watchdog = setTimeout(
  () => {
    log('benchmark took too long; stopping');
    process.exit(3);
  },
  ((quick ? 3 : 20) + (only.has('cluster') ? (quick ? 3 : 10) : 0)) * 60_000,
);
watchdog.unref();

main().then(
  () => process.exit(0),
  (error: unknown) => {
    log(`benchmark failed: ${(error as Error).stack ?? String(error)}`);
    rmSync(tmpRoot, { recursive: true, force: true });
    process.exit(1);
  },
);
