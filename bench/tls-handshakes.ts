// The handshake baseline of #18: Node's own TLS 1.3, measured on the same machine in the same run
// as Parley's handshakes, with the same shape of session and the same load:
//
// - the server (bench/tls-server.ts) is a process of its own, as the Parley host is, so its CPU is
//   its own; its certificate is ECDSA P-256, made at the start by the system's `openssl` into a
//   temporary folder (no openssl: "not measured", never a crash);
// - connectors run in `workers` threads (bench/tls-worker.ts) with `concurrencyPerWorker` sessions
//   each, as Parley's handshake test does: TCP connect, a full TLS 1.3 handshake whose certificate
//   is verified against the pinned one, a small "hello" record, the server's small "welcome"
//   record, hang up;
// - every handshake is full: the clients never resume (no session is kept or offered). Parley's
//   "returning key" is a full Noise XX too (the key is known, nothing is resumed), so both of
//   Parley's figures compare with this one.
// - key exchange: X25519 on both sides, as Noise's 25519 (Node 24 offers the hybrid
//   X25519MLKEM768 first by default, which costs more; `groups` changes it).
// - the server still sends TLS 1.3 NewSessionTicket messages after each handshake: Node has no
//   setting for OpenSSL's num_tickets. They are cheap next to the signature, and never used.
import { type ChildProcess, fork, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { Histogram } from './histogram.ts';
import { machineTicks, round } from './measure.ts';
import type { TlsRunCommand, TlsRunReport } from './tls-worker.ts';

export interface TlsHandshakeOptions {
  /** The measured span, after the warm-up. */
  readonly durationMs: number;
  /** Connector threads and sessions in flight per thread: Parley's handshake test's. */
  readonly workers: number;
  readonly concurrencyPerWorker: number;
  /** Handshakes before the measured span (JIT, OpenSSL's caches), default 300 ms. */
  readonly warmupMs?: number;
  /** Key-exchange groups both sides allow (OpenSSL syntax), default X25519. */
  readonly groups?: string;
  /** Node flags for the server process (default none: Node as it comes). */
  readonly serverNodeFlags?: readonly string[];
  /** Writes a CPU profile of the server over the measured span (a .cpuprofile path). */
  readonly profileFile?: string;
  /** Progress lines (stderr in run.ts). */
  readonly log?: (line: string) => void;
  /** The `openssl` to run (default: `openssl` on PATH); for the test of its absence. */
  readonly openssl?: string;
}

export interface TlsHandshakeResult {
  readonly measured: true;
  readonly perSec: number;
  readonly concurrency: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** The server process, % of one core. */
  readonly hostCpuPct: number;
  /** This whole process (the connector threads and whatever else it runs), % of one core. */
  readonly loadCpuPct: number;
  readonly machineBusyPct: number;
  /** CPU time per completed session, server side and connector side (µs). */
  readonly hostCpuUsPerHandshake: number;
  readonly loadCpuUsPerHandshake: number;
  readonly failed: number;
  readonly errors: string[];
  readonly negotiated: { protocol: string; cipher: string; group: string } | undefined;
  readonly certificate: 'ECDSA P-256, self-signed, pinned';
}

export interface TlsNotMeasured {
  readonly measured: false;
  readonly reason: string;
}

const HERE = new URL('.', import.meta.url);
const SERVERNAME = 'bench.parley.test';

/** An ECDSA P-256 key and self-signed certificate in `dir`, or why there is none. */
function makeCertificate(dir: string, openssl: string): string | undefined {
  const made = spawnSync(
    openssl,
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
      '-days',
      '2',
      '-subj',
      `/CN=${SERVERNAME}`,
      '-addext',
      `subjectAltName=DNS:${SERVERNAME}`,
    ],
    { encoding: 'utf8', timeout: 20_000 },
  );
  if (made.error) {
    const code = (made.error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? `no openssl (${openssl}) on this machine` : made.error.message;
  }
  if (made.status !== 0) return `openssl failed: ${made.stderr.trim().split('\n')[0] ?? ''}`;
  return undefined;
}

interface ServerStats {
  cpu: { user: number; system: number };
  at: number;
  handshakes: number;
}

class TlsServer {
  readonly #child: ChildProcess;
  readonly port: number;
  readonly #waiters = new Map<
    number,
    { resolve: (message: Record<string, unknown>) => void; reject: (error: Error) => void }
  >();
  #serial = 0;

  private constructor(child: ChildProcess, port: number) {
    this.#child = child;
    this.port = port;
    child.on('message', (message: Record<string, unknown>) => {
      const id = message['id'] as number;
      this.#waiters.get(id)?.resolve(message);
      this.#waiters.delete(id);
    });
    // A server that dies fails the measurement instead of leaving it waiting for ever.
    child.on('exit', (code) => {
      for (const waiter of this.#waiters.values()) {
        waiter.reject(new Error(`the TLS server exited (${code})`));
      }
      this.#waiters.clear();
    });
  }

  static async start(dir: string, groups: string, nodeFlags: readonly string[]) {
    const child = fork(new URL('./tls-server.ts', HERE), [], {
      execArgv: [...nodeFlags],
      env: { ...process.env, PARLEY_BENCH_TLS_DIR: dir, PARLEY_BENCH_TLS_GROUPS: groups },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const [ready] = (await Promise.race([
      once(child, 'message'),
      once(child, 'exit').then(([code]) => {
        throw new Error(`the TLS server did not start (exit ${String(code)})`);
      }),
    ])) as [Record<string, unknown>];
    return new TlsServer(child, ready['port'] as number);
  }

  ask(message: object): Promise<Record<string, unknown>> {
    const id = ++this.#serial;
    return new Promise((resolve, reject) => {
      if (this.#child.exitCode !== null) {
        reject(new Error(`the TLS server exited (${this.#child.exitCode})`));
        return;
      }
      this.#waiters.set(id, { resolve, reject });
      this.#child.send({ ...message, id });
    });
  }

  async stats(): Promise<ServerStats> {
    return (await this.ask({ op: 'stats' })) as unknown as ServerStats;
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode !== null) return;
    const exited = once(this.#child, 'exit');
    await this.ask({ op: 'stop' });
    await exited;
  }
}

class Connectors {
  readonly #workers: Worker[];
  readonly #pending = new Map<number, (reply: { result?: TlsRunReport; error?: string }) => void>();
  #serial = 0;

  constructor(count: number) {
    this.#workers = Array.from({ length: count }, () => {
      const worker = new Worker(new URL('./tls-worker.ts', HERE));
      worker.on('message', (reply: { id: number; result?: TlsRunReport; error?: string }) => {
        this.#pending.get(reply.id)?.(reply);
        this.#pending.delete(reply.id);
      });
      return worker;
    });
  }

  /** Runs the session loop in every thread at once. */
  run(command: Omit<TlsRunCommand, 'cmd'>): Promise<TlsRunReport[]> {
    return Promise.all(
      this.#workers.map(
        (worker) =>
          new Promise<TlsRunReport>((resolve, reject) => {
            const id = ++this.#serial;
            this.#pending.set(id, (reply) =>
              reply.result ? resolve(reply.result) : reject(new Error(reply.error)),
            );
            worker.postMessage({ id, command: { cmd: 'run', ...command } });
          }),
      ),
    );
  }

  async terminate(): Promise<void> {
    await Promise.all(this.#workers.map((worker) => worker.terminate()));
  }
}

/** Node's TLS 1.3 handshakes per second under Parley's handshake test's load, with CPU per side. */
export async function measureTlsHandshakes(
  options: TlsHandshakeOptions,
): Promise<TlsHandshakeResult | TlsNotMeasured> {
  const dir = mkdtempSync(join(os.tmpdir(), 'parley-bench-tls-'));
  const groups = options.groups ?? 'X25519';
  let server: TlsServer | undefined;
  let connectors: Connectors | undefined;
  try {
    const missing = makeCertificate(dir, options.openssl ?? 'openssl');
    if (missing) {
      options.log?.(`TLS 1.3 baseline: not measured (${missing})`);
      return { measured: false, reason: missing };
    }
    const cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
    const fingerprint256 = new X509Certificate(cert).fingerprint256;
    server = await TlsServer.start(dir, groups, options.serverNodeFlags ?? []);
    connectors = new Connectors(options.workers);
    const command = {
      port: server.port,
      cert,
      fingerprint256,
      servername: SERVERNAME,
      groups,
      concurrency: options.concurrencyPerWorker,
    };
    await connectors.run({ ...command, durationMs: options.warmupMs ?? 300 });

    if (options.profileFile) await server.ask({ op: 'profile-start' });
    const hostStart = await server.stats();
    const loadStart = process.cpuUsage();
    const loadAt = performance.now();
    const machineStart = machineTicks();
    const reports = await connectors.run({ ...command, durationMs: options.durationMs });
    const load = process.cpuUsage(loadStart);
    const loadMs = performance.now() - loadAt;
    const [busy, total] = machineTicks();
    const hostEnd = await server.stats();
    if (options.profileFile) await server.ask({ op: 'profile-stop', file: options.profileFile });

    const histogram = new Histogram();
    for (const report of reports) histogram.merge(report.histogram);
    const completed = reports.reduce((sum, r) => sum + r.completed, 0);
    const hostCpuUs =
      hostEnd.cpu.user + hostEnd.cpu.system - hostStart.cpu.user - hostStart.cpu.system;
    const loadCpuUs = load.user + load.system;
    return {
      measured: true,
      perSec: Math.round(completed / (options.durationMs / 1000)),
      concurrency: options.workers * options.concurrencyPerWorker,
      p50Ms: round(histogram.quantile(0.5)),
      p99Ms: round(histogram.quantile(0.99)),
      hostCpuPct: Math.round((hostCpuUs / 1000 / (hostEnd.at - hostStart.at)) * 100),
      loadCpuPct: Math.round((loadCpuUs / 1000 / loadMs) * 100),
      machineBusyPct: Math.round(((busy - machineStart[0]) / (total - machineStart[1])) * 100),
      hostCpuUsPerHandshake: completed > 0 ? Math.round(hostCpuUs / completed) : NaN,
      loadCpuUsPerHandshake: completed > 0 ? Math.round(loadCpuUs / completed) : NaN,
      failed: reports.reduce((sum, r) => sum + r.failed, 0),
      errors: reports.flatMap((r) => r.errors).slice(0, 10),
      negotiated: reports.find((r) => r.negotiated)?.negotiated,
      certificate: 'ECDSA P-256, self-signed, pinned',
    };
  } finally {
    await connectors?.terminate();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
