// A real NATS server for the cluster tests (#19): Debian's nats-server on 127.0.0.1, a free port
// and a temporary folder of its own (JetStream store, log file), so tests never share one and
// never touch a machine-wide NATS. restart() keeps the port: a cluster node's client must find
// the server again where it was, as after an operator's restart.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { delimiter, join } from 'node:path';
import { freePort } from './free-port.ts';

export interface NatsServer {
  /** nats://127.0.0.1:PORT */
  readonly url: string;
  readonly port: number;
  /** Graceful stop (SIGTERM), then the temporary folder is removed. Safe to call twice. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash: the folder stays, so restart() can follow. */
  kill(): Promise<void>;
  /** Stops the server if it runs, then starts it again on the same port and waits until ready. */
  restart(): Promise<void>;
}

/** Root's PATH has /usr/sbin, where Debian puts it; a user's often does not. */
const EXTRA_DIRS = ['/usr/sbin', '/usr/local/sbin', '/sbin'];

function findNatsServer(): string {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...EXTRA_DIRS];
  for (const dir of dirs) {
    const candidate = join(dir, 'nats-server');
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(
    "nats-server not found on PATH nor in /usr/sbin: install Debian's nats-server: apt-get install nats-server",
  );
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Whether a NATS server answers on the port: it greets every client with an `INFO {…}` line,
 * so a connection that gets one is a NATS server, not something else that took the port.
 */
function greets(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (text.length >= 5) done(text.startsWith('INFO '));
    });
    socket.on('end', () => done(false));
  });
}

class PortInUse extends Error {}

class LocalNats implements NatsServer {
  readonly url: string;
  readonly port: number;
  readonly #binary: string;
  readonly #dir: string;
  #child: ChildProcess | undefined;
  #exit: Promise<void> = Promise.resolve();

  constructor(binary: string, dir: string, port: number) {
    this.#binary = binary;
    this.#dir = dir;
    this.port = port;
    this.url = `nats://127.0.0.1:${port}`;
  }

  get #logFile(): string {
    return join(this.#dir, 'nats-server.log');
  }

  #logTail(): string {
    try {
      return readFileSync(this.#logFile, 'utf8').trim().split('\n').slice(-8).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** Starts the process and resolves once it greets clients on its port. */
  async start(timeoutMs = 10_000): Promise<void> {
    if (this.#child) throw new Error('nats-server is already running');
    // restart() after stop(): the folder was removed with the rest.
    mkdirSync(join(this.#dir, 'store'), { recursive: true });
    const child = spawn(
      this.#binary,
      [
        '--addr',
        '127.0.0.1',
        '--port',
        String(this.port),
        '--jetstream',
        '--store_dir',
        join(this.#dir, 'store'),
        '--log',
        this.#logFile,
      ],
      { cwd: this.#dir, stdio: 'ignore' },
    );
    this.#child = child;
    let exited = false;
    this.#exit = new Promise<void>((resolve) => {
      child.on('exit', () => {
        exited = true;
        if (this.#child === child) this.#child = undefined;
        resolve();
      });
      // A failed spawn (the binary went away) emits 'error' and no 'exit'.
      child.on('error', () => {
        exited = true;
        if (this.#child === child) this.#child = undefined;
        resolve();
      });
    });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (exited) {
        const log = this.#logTail();
        if (/address already in use/i.test(log)) throw new PortInUse(log);
        throw new Error(`nats-server exited while starting on port ${this.port}:\n${log}`);
      }
      // The greeting and a live child: a stranger on the port would greet while ours died.
      if ((await greets(this.port)) && !exited) return;
      if (Date.now() > deadline) {
        await this.#terminate('SIGKILL');
        throw new Error(
          `nats-server did not accept connections on port ${this.port} within ${timeoutMs} ms:\n${this.#logTail()}`,
        );
      }
      await sleep(50);
    }
  }

  async #terminate(signal: NodeJS.Signals): Promise<void> {
    const child = this.#child;
    if (!child) return;
    child.kill(signal);
    // A graceful stop that hangs must not hang the test run.
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await this.#exit;
    clearTimeout(timer);
  }

  async stop(): Promise<void> {
    await this.#terminate('SIGTERM');
    rmSync(this.#dir, { recursive: true, force: true });
  }

  kill(): Promise<void> {
    return this.#terminate('SIGKILL');
  }

  async restart(): Promise<void> {
    await this.#terminate('SIGTERM');
    // The port is ours to reuse (nats-server binds with SO_REUSEADDR); only a stranger that took
    // it meanwhile makes this fail, and then the test should say so rather than move the server.
    for (let attempt = 0; ; attempt++) {
      try {
        await this.start();
        return;
      } catch (error) {
        if (!(error instanceof PortInUse) || attempt >= 20) throw error;
        await sleep(100);
      }
    }
  }
}

/**
 * Starts Debian's nats-server on 127.0.0.1 (a free port unless `port` is given) in a fresh
 * temporary folder and resolves once it accepts clients. Call stop() when done (afterAll).
 */
export async function startNatsServer(options: { port?: number } = {}): Promise<NatsServer> {
  const binary = findNatsServer();
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < 5; attempt++) {
    const dir = mkdtempSync(join(os.tmpdir(), 'parley-nats-'));
    const server = new LocalNats(binary, dir, options.port ?? (await freePort()));
    try {
      await server.start();
      return server;
    } catch (error) {
      await server.stop();
      lastError = error as Error;
      // Another process took the free port between our probe and the bind: try another one.
      if (!(error instanceof PortInUse) || options.port !== undefined) throw error;
    }
  }
  throw new Error(`nats-server found no free port: ${lastError?.message ?? ''}`);
}
