// A real PostgreSQL for the cluster tests (#19): Debian's packaged server (the newest version
// under /usr/lib/postgresql), a cluster of its own in a temporary folder, listening on 127.0.0.1
// only, on a free port, with a password (SCRAM) over TCP as a production host would have it and
// fsync on, so what the cluster acknowledges is on disk as it would be there.
//
// PostgreSQL refuses to run as root. Tests run as root here and in CI, so then the folder belongs
// to Debian's `postgres` system user and the server runs as that user (Node's spawn uid/gid:
// setuid in the child before exec, supplementary groups dropped; the child is the postmaster
// itself, so kill() hits it and not a wrapper such as runuser). Not root: it runs as we do.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './free-port.ts';

export interface PostgresServer {
  /** postgres://parley_test:PW@127.0.0.1:PORT/parley */
  readonly url: string;
  readonly port: number;
  /** Fast shutdown (SIGINT: sessions are ended, then a checkpoint); the files stay for start(). */
  stop(): Promise<void>;
  /** SIGKILL of the postmaster, as a crash; resolves once its own processes are gone too. */
  kill(): Promise<void>;
  /** Starts it again (same folder and port) and resolves once it answers `SELECT 1`. */
  start(): Promise<void>;
  /** Stops it if it runs and deletes the folder: what afterAll must call. Safe to call twice. */
  remove(): Promise<void>;
}

const ROOT = '/usr/lib/postgresql';
const USER = 'parley_test';
const DATABASE = 'parley';

/** The newest installed major version's bin folder (Debian installs them side by side). */
function findBinDir(): string {
  const versions = existsSync(ROOT)
    ? readdirSync(ROOT)
        .filter((name) => /^\d+(\.\d+)?$/.test(name))
        .filter((name) => existsSync(join(ROOT, name, 'bin', 'postgres')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const newest = versions[0];
  if (newest === undefined)
    throw new Error(
      `no PostgreSQL server under ${ROOT}/*/bin/postgres: install Debian's PostgreSQL: apt-get install postgresql`,
    );
  return join(ROOT, newest, 'bin');
}

/** Who runs the server: Debian's `postgres` user when we are root, else nobody else (undefined). */
function serverAccount(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const entry = spawnSync('getent', ['passwd', 'postgres'], { encoding: 'utf8' }).stdout ?? '';
  const [, , uid, gid] = entry.trim().split(':');
  if (uid === undefined || gid === undefined || entry.trim() === '')
    throw new Error(
      "running as root, and there is no 'postgres' user to run PostgreSQL as (Debian's postgresql package creates it)",
    );
  return { uid: Number(uid), gid: Number(gid) };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Child processes of `pid` (the postmaster's backends and workers), from /proc. */
function childrenOf(pid: number): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) found.push(Number(name));
    } catch {
      // It exited while we looked.
    }
  }
  return found;
}

/**
 * Whether the process still runs. An exited backend can stay a zombie until whoever adopted it
 * reaps it (seconds, in some containers); it holds no memory nor files any more, so it counts as gone.
 */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

class PortInUse extends Error {}

class LocalPostgres implements PostgresServer {
  readonly url: string;
  readonly port: number;
  readonly #bin: string;
  readonly #dir: string;
  readonly #account: { uid: number; gid: number } | undefined;
  readonly #password: string;
  #child: ChildProcess | undefined;
  #exit: Promise<void> = Promise.resolve();

  constructor(
    bin: string,
    dir: string,
    account: { uid: number; gid: number } | undefined,
    port: number,
    password: string,
  ) {
    this.#bin = bin;
    this.#dir = dir;
    this.#account = account;
    this.port = port;
    this.#password = password;
    this.url = `postgres://${USER}:${password}@127.0.0.1:${port}/${DATABASE}`;
  }

  get #data(): string {
    return join(this.#dir, 'data');
  }

  get #logFile(): string {
    return join(this.#dir, 'postgres.log');
  }

  #logTail(): string {
    try {
      return readFileSync(this.#logFile, 'utf8').trim().split('\n').slice(-8).join('\n');
    } catch {
      return '(no log)';
    }
  }

  #spawnOptions(stdio: 'ignore' | number) {
    return {
      cwd: this.#dir,
      stdio: ['ignore', stdio, stdio] as ['ignore', typeof stdio, typeof stdio],
      ...(this.#account ?? {}),
      // No PGDATA, PGPORT… from the caller's environment may steer initdb or the server.
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C', LC_ALL: 'C' },
    };
  }

  /** A file or folder in the temporary folder, owned by the server's user. */
  #own(path: string): void {
    if (this.#account) chownSync(path, this.#account.uid, this.#account.gid);
  }

  /** initdb: SCRAM passwords over TCP; the unix socket (inside our folder) trusts, for nobody else can reach it. */
  init(): void {
    this.#own(this.#dir);
    const pwfile = join(this.#dir, 'pwfile');
    writeFileSync(pwfile, `${this.#password}\n`, { mode: 0o600 });
    this.#own(pwfile);
    mkdirSync(join(this.#dir, 'socket'), { mode: 0o700 });
    this.#own(join(this.#dir, 'socket'));
    const result = spawnSync(
      join(this.#bin, 'initdb'),
      [
        '--pgdata',
        this.#data,
        '--username',
        USER,
        `--pwfile=${pwfile}`,
        '--auth-host=scram-sha-256',
        '--auth-local=trust',
        '--encoding=UTF8',
        '--locale=C',
        // The empty template files need not reach the disk; the server itself runs with fsync on.
        '--no-sync',
        '--no-instructions',
      ],
      { ...this.#spawnOptions('ignore'), stdio: 'pipe', encoding: 'utf8', timeout: 60_000 },
    );
    rmSync(pwfile, { force: true });
    if (result.status !== 0)
      throw new Error(
        `initdb failed (${result.status ?? result.signal ?? result.error?.message}):\n${result.stderr ?? ''}${
          this.#account && /permission denied/i.test(result.stderr ?? '')
            ? `\n(the 'postgres' user must be able to reach ${this.#dir}; is TMPDIR readable by it?)`
            : ''
        }`,
      );
  }

  async #connect(database: string): Promise<pg.Client> {
    const client = new pg.Client({
      host: '127.0.0.1',
      port: this.port,
      user: USER,
      password: this.#password,
      database,
      connectionTimeoutMillis: 2000,
    });
    // A server going away while we wait must not become an uncaught 'error'.
    client.on('error', () => undefined);
    await client.connect();
    return client;
  }

  /** Runs the postmaster and resolves once it answers `SELECT 1` over TCP with the password. */
  async start(timeoutMs = 15_000): Promise<void> {
    if (this.#child) throw new Error('postgres is already running');
    const log = openSync(this.#logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(
        join(this.#bin, 'postgres'),
        [
          '-D',
          this.#data,
          '-c',
          'listen_addresses=127.0.0.1',
          '-c',
          `port=${this.port}`,
          '-c',
          `unix_socket_directories=${join(this.#dir, 'socket')}`,
          '-c',
          'fsync=on',
          '-c',
          'synchronous_commit=on',
          '-c',
          'max_connections=200',
          '-c',
          'shared_buffers=32MB',
          // Logs go to the file we hand it as stderr, not to a collector of its own.
          '-c',
          'logging_collector=off',
        ],
        this.#spawnOptions(log),
      );
    } finally {
      closeSync(log);
    }
    this.#child = child;
    let exited = false;
    this.#exit = new Promise<void>((resolve) => {
      const gone = () => {
        exited = true;
        if (this.#child === child) this.#child = undefined;
        resolve();
      };
      child.on('exit', gone);
      // A failed spawn emits 'error' and no 'exit'.
      child.on('error', gone);
    });
    const deadline = Date.now() + timeoutMs;
    let lastError = '';
    for (;;) {
      if (exited) {
        const tail = this.#logTail();
        if (/could not bind .*Address already in use/i.test(tail)) throw new PortInUse(tail);
        throw new Error(`postgres exited while starting on port ${this.port}:\n${tail}`);
      }
      try {
        const client = await this.#connect(DATABASE);
        try {
          await client.query('SELECT 1');
        } finally {
          await client.end();
        }
        // A stranger on the port would not know our password; ours must still be running.
        if (!exited) return;
      } catch (error) {
        lastError = (error as Error).message;
        // The first start has no `parley` database yet: the server answers, so it is up.
        if (/database "parley" does not exist/.test(lastError)) return;
      }
      if (Date.now() > deadline) {
        await this.#terminate('SIGKILL');
        throw new Error(
          `postgres did not answer on port ${this.port} within ${timeoutMs} ms (${lastError}):\n${this.#logTail()}`,
        );
      }
      await sleep(100);
    }
  }

  async createDatabase(): Promise<void> {
    const client = await this.#connect('postgres');
    try {
      await client.query(`CREATE DATABASE ${DATABASE}`);
    } finally {
      await client.end();
    }
  }

  async #terminate(signal: NodeJS.Signals): Promise<void> {
    const child = this.#child;
    if (!child?.pid) return;
    const pid = child.pid;
    const workers = childrenOf(pid);
    child.kill(signal);
    // A fast shutdown that hangs must not hang the test run.
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await this.#exit;
    clearTimeout(timer);
    // After a SIGKILL the backends notice their postmaster's death on their own and exit; wait
    // for that (start() cannot reuse the folder while they hold its shared memory), and kill
    // the ones that linger, so no process of ours outlives the test.
    const deadline = Date.now() + 5000;
    while (workers.some(alive)) {
      if (Date.now() > deadline) {
        for (const worker of workers.filter(alive)) {
          try {
            process.kill(worker, 'SIGKILL');
          } catch {
            // It exited between the look and the kill.
          }
        }
        await sleep(50);
        break;
      }
      await sleep(20);
    }
  }

  stop(): Promise<void> {
    return this.#terminate('SIGINT');
  }

  kill(): Promise<void> {
    return this.#terminate('SIGKILL');
  }

  async remove(): Promise<void> {
    await this.#terminate('SIGINT');
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

/**
 * Starts a fresh PostgreSQL (newest Debian version installed) on 127.0.0.1 and a free port, in a
 * temporary folder, with a superuser `parley_test` (random password) and an empty database
 * `parley`. Call remove() when done (afterAll): stop() leaves the files for start().
 */
export async function startPostgres(): Promise<PostgresServer> {
  const bin = findBinDir();
  const account = serverAccount();
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < 5; attempt++) {
    const dir = mkdtempSync(join(os.tmpdir(), 'parley-pg-'));
    const password = randomBytes(18).toString('base64url');
    const server = new LocalPostgres(bin, dir, account, await freePort(), password);
    try {
      server.init();
      await server.start();
      await server.createDatabase();
      return server;
    } catch (error) {
      await server.remove();
      lastError = error as Error;
      // Another process took the free port between our probe and the bind: try another one.
      if (!(error instanceof PortInUse)) throw error;
    }
  }
  throw new Error(`postgres found no free port: ${lastError?.message ?? ''}`);
}
