// ngircd, the C IRC server the bench compares the Parley host with (#18): found on the machine or
// installed from Debian when missing (as CI does), started on 127.0.0.1 in a temporary folder with
// its flood protection off, and read from /proc like the host process is (CPU, RSS). Everything
// here reports a reason instead of throwing when ngircd cannot be had, so the bench then prints
// "not measured" for every ratio instead of failing.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { delimiter, join } from 'node:path';
import { type IrcConnection, connectIrc, localUsers } from './irc-wire.ts';
import { freePort } from '../test/support/free-port.ts';
import { monoNow, sleep } from './measure.ts';

/** Where Debian puts it (root's PATH has /usr/sbin; a user's often does not). */
const EXTRA_DIRS = ['/usr/sbin', '/usr/local/sbin', '/sbin'];

export function findNgircd(): string | null {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...EXTRA_DIRS];
  for (const dir of dirs) {
    const candidate = join(dir, 'ngircd');
    if (existsSync(candidate)) return candidate;
  }
  return null;
}

export type NgircdBinary =
  | { readonly path: string; readonly version: string; readonly installed: boolean }
  | { readonly reason: string };

function aptInstall(): boolean {
  const run = (args: string[]) =>
    spawnSync('apt-get', args, {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      stdio: 'ignore',
      timeout: 10 * 60_000,
    }).status === 0;
  // The package lists are refreshed only when the install fails without it (as .ci/run does).
  return (
    run(['install', '-y', '-qq', 'ngircd']) ||
    (run(['update', '-qq']) && run(['install', '-y', '-qq', 'ngircd']))
  );
}

/**
 * Finds ngircd, installing Debian's package first if it is missing and we may (root).
 * PARLEY_BENCH_NGIRCD names another binary (a build of one's own; a missing path shows what the
 * bench prints when ngircd cannot be had).
 */
export function ensureNgircd(log: (line: string) => void = () => undefined): NgircdBinary {
  const chosen = process.env.PARLEY_BENCH_NGIRCD;
  if (chosen && !existsSync(chosen))
    return { reason: `PARLEY_BENCH_NGIRCD=${chosen} does not exist` };
  let path = chosen || findNgircd();
  let installed = false;
  if (!path) {
    if (process.getuid?.() !== 0) return { reason: 'ngircd is not installed and we are not root' };
    log("ngircd: not installed; installing Debian's package (apt-get install ngircd)…");
    if (!aptInstall()) return { reason: 'apt-get install ngircd failed' };
    path = findNgircd();
    if (!path) return { reason: 'apt-get installed no ngircd binary' };
    installed = true;
  }
  const probe = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  const version = /ngIRCd (\d[\d.]*)/.exec(probe.stdout ?? '')?.[1];
  if (!version) return { reason: `${path} --version did not answer` };
  return { path, version, installed };
}

/**
 * The configuration: loopback only, every limit a benchmark must break raised, as the Parley
 * host's are (bench/host-process.ts). ngircd.conf(5):
 * - MaxPenaltyTime = 0: no penalty seconds (normally 1 s per command beyond a few, 2 s per JOIN…);
 * - DefaultUserModes = F: every user gets mode +F ("disable flood protection", normally for IRC
 *   operators only): 10 commands per client per loop instead of 3, never throttled;
 * - MaxConnections / MaxConnectionsIP = 0 (no cap; ngircd's default is 5 per IP), MaxJoins = 0;
 * - no DNS, ident or PAM on connect; pings only after an hour of silence (receivers never talk);
 * - IncludeDir: an empty folder of ours, so the machine's /etc/ngircd/ngircd.conf.d is not read.
 * What stays: the 32 KiB per-client write buffer (compile-time WRITEBUFFER_MAX_LEN) — a receiver
 * that falls further behind than the kernel's socket buffers plus that is disconnected.
 */
export function ngircdConfig(port: number, includeDir: string): string {
  return [
    '[Global]',
    'Name = bench.parley.invalid',
    'Info = Parley benchmark baseline',
    'AdminInfo1 = Parley bench',
    'AdminInfo2 = 127.0.0.1',
    'AdminEMail = bench@parley.invalid',
    'Listen = 127.0.0.1',
    `Ports = ${port}`,
    'MotdPhrase = Parley bench: ngircd baseline',
    '[Limits]',
    'MaxConnections = 0',
    'MaxConnectionsIP = 0',
    'MaxJoins = 0',
    'MaxNickLength = 16',
    'MaxPenaltyTime = 0',
    'PingTimeout = 3600',
    'PongTimeout = 3600',
    '[Options]',
    'DNS = no',
    'Ident = no',
    'PAM = no',
    'DefaultUserModes = F',
    `IncludeDir = ${includeDir}`,
    '',
  ].join('\n');
}

/** ngircd's log lines that mean a client was dropped or refused: a clean run has none. */
const PROBLEMS: [RegExp, string][] = [
  [/Write buffer space exhausted/, 'ngircd: write buffer space exhausted (client dropped)'],
  [/Receive buffer space exhausted/, 'ngircd: receive buffer space exhausted (client dropped)'],
  [/Request too long/, 'ngircd: request too long'],
  [/Throttling connection/, 'ngircd: throttled a connection'],
  [/Too many connections|Refused connection/, 'ngircd: refused a connection'],
  [/Ping timeout/, 'ngircd: ping timeout'],
];

const clockTicks = (() => {
  const out = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout;
  return Number(out?.trim()) || 100;
})();

/** The process's CPU (µs, user and system) and RSS (bytes), from /proc like `ps` reads them. */
export function processUsage(pid: number): { user: number; system: number; rss: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const tick = 1e6 / clockTicks;
  const rssKb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return {
    user: Number(fields[11]) * tick,
    system: Number(fields[12]) * tick,
    rss: Number(rssKb ?? NaN) * 1024,
  };
}

export interface NgircdStats {
  cpu: { user: number; system: number };
  /** CLOCK_MONOTONIC, ms (the same clock as the load workers'). */
  at: number;
  rss: number;
  clients: number;
  events: Record<string, number>;
}

export class NgircdServer {
  readonly child: ChildProcess;
  readonly port: number;
  readonly version: string;
  readonly #dir: string;
  readonly #events: Record<string, number> = {};
  readonly #log: string[] = [];
  #control: IrcConnection | undefined;
  #exited = false;

  private constructor(child: ChildProcess, port: number, version: string, dir: string) {
    this.child = child;
    this.port = port;
    this.version = version;
    this.#dir = dir;
    child.on('exit', () => {
      this.#exited = true;
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Starts ngircd on 127.0.0.1 and a free port in a fresh temporary folder; resolves when ready. */
  static async start(binary: { path: string; version: string }): Promise<NgircdServer> {
    let lastError: Error | undefined;
    for (let attempt = 0; attempt < 3; attempt++) {
      const dir = mkdtempSync(join(os.tmpdir(), 'parley-ngircd-'));
      const includeDir = join(dir, 'conf.d');
      mkdirSync(includeDir);
      const port = await freePort();
      const config = join(dir, 'ngircd.conf');
      writeFileSync(config, ngircdConfig(port, includeDir));
      const child = spawn(binary.path, ['--nodaemon', '--config', config], {
        cwd: dir,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const server = new NgircdServer(child, port, binary.version, dir);
      try {
        await server.#ready();
        server.#control = await connectIrc({ port, nick: 'benchctl' });
        return server;
      } catch (error) {
        lastError = error as Error;
        await server.stop();
      }
    }
    throw new Error(`ngircd did not start: ${lastError?.message ?? 'unknown'}`);
  }

  /** Waits for "Now listening", watching every log line for the problems above meanwhile. */
  #ready(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let listening = false;
      let partial = '';
      const onText = (chunk: Buffer): void => {
        const lines = (partial + chunk.toString('utf8')).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) {
          if (this.#log.length < 200) this.#log.push(line);
          if (!listening && /Now listening on/.test(line)) {
            listening = true;
            resolve();
          }
          for (const [pattern, event] of PROBLEMS) {
            if (pattern.test(line)) this.#events[event] = (this.#events[event] ?? 0) + 1;
          }
        }
      };
      this.child.stdout?.on('data', onText);
      this.child.stderr?.on('data', onText);
      this.child.on('exit', (code) => {
        if (!listening)
          reject(new Error(`ngircd exited (${code}): ${this.#log.slice(-3).join(' | ')}`));
      });
      setTimeout(() => {
        if (!listening) reject(new Error('ngircd did not listen within 10 s'));
      }, 10_000).unref();
    });
  }

  /** Registered users other than the control connection (LUSERS, as the server counts them). */
  async clients(): Promise<number> {
    if (!this.#control || this.#control.closed) throw new Error('ngircd control connection lost');
    return (await localUsers(this.#control)) - 1;
  }

  async stats(withClients = false): Promise<NgircdStats> {
    if (this.#exited)
      throw new Error(`ngircd exited during the run: ${this.#log.slice(-3).join(' | ')}`);
    const usage = processUsage(this.pid);
    return {
      cpu: { user: usage.user, system: usage.system },
      at: monoNow(),
      rss: usage.rss,
      clients: withClients ? await this.clients() : NaN,
      events: { ...this.#events },
    };
  }

  async waitForClients(count: number, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const clients = await this.clients();
      if (clients === count) return;
      if (Date.now() > deadline)
        throw new Error(`ngircd has ${clients} clients, expected ${count}`);
      await sleep(50);
    }
  }

  async stop(): Promise<void> {
    this.#control?.close();
    if (!this.#exited && this.child.exitCode === null) {
      const exited = once(this.child, 'exit');
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
