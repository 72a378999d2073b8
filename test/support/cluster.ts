// A host cluster for the cluster tests (#19), as an operator runs one: a real PostgreSQL and a
// real nats-server (postgres-server.ts, nats-server.ts), one host key file (0600) that every node
// loads, and N node processes of `parley --serve --cluster … --database …` (bin/parley.js, as
// `npm run serve` starts it), each with a data folder of its own, on 127.0.0.1 and a free port.
// Every line a node writes on stderr is kept, across its restarts, so a test can say that nothing
// was logged as an error and that no message text ever reached a log.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseInvite } from '../../src-shared/invite.ts';
import { nodeBackend } from '../../src-main/protocol/crypto/node-backend.ts';
import { loadOrCreateKeyPair } from '../../src-main/store/key-file.ts';
import { type NatsServer, startNatsServer } from './nats-server.ts';
import { type PostgresServer, startPostgres } from './postgres-server.ts';

const PARLEY = fileURLToPath(new URL('../../bin/parley.js', import.meta.url));

/** What a node printed once it served (`parley --serve --help`). */
export interface StartLines {
  readonly port: number;
  readonly fingerprint: string;
  /** Room → its owner invite, printed while the room has no owner. */
  readonly ownerInvites: ReadonlyMap<string, string>;
  /** Room → its member invite, printed at the room's first start only. */
  readonly memberInvites: ReadonlyMap<string, string>;
  /** Room → its link (always printed). */
  readonly links: ReadonlyMap<string, string>;
}

export interface ClusterNode {
  /** n1, n2, … as given with --node-name. */
  readonly name: string;
  readonly dataDir: string;
  /** The running process's start lines (a restart prints new ones, on a new port). */
  readonly start: StartLines;
  readonly port: number;
  readonly pid: number;
  /** Everything every process of this node wrote on stderr, in order. */
  readonly stderr: readonly string[];
  /** The running (or last) process's stdout. */
  readonly stdout: readonly string[];
  alive(): boolean;
}

export interface Cluster {
  readonly nats: NatsServer;
  readonly postgres: PostgresServer;
  readonly keyFile: string;
  /** The host key every node serves with (what clients pin). */
  readonly hostKey: Uint8Array;
  readonly nodes: readonly ClusterNode[];
  /** SIGKILL of node i (0-based), as a crash; resolves once it has exited. */
  kill(i: number): Promise<void>;
  /** Starts node i again on its folder (after kill(), or kills it first) and waits for its start lines. */
  restart(i: number): Promise<void>;
  /**
   * SIGSTOP (true) or SIGCONT (false) of node i: a node that hangs — a VM paused, a machine gone
   * without closing its connections — as the others and PostgreSQL see it.
   */
  freeze(i: number, frozen: boolean): void;
  /** Every node's stderr lines that are logged at level error, with the node's name before them. */
  errorLines(): string[];
  /** Stops every node (SIGTERM, then SIGKILL), NATS and PostgreSQL, and removes every folder. */
  stopAll(): Promise<void>;
}

export interface ClusterOptions {
  /** Nodes to start (default 3). */
  readonly nodes?: number;
  /** --room for every node (default lobby). */
  readonly rooms?: readonly string[];
  /** More flags for every node, e.g. `--no-e2ee`, `--open`. */
  readonly args?: readonly string[];
  /** How long a node may take to print its start lines (default 30 s: 2 cores, from source). */
  readonly startTimeoutMs?: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

class NodeProcess implements ClusterNode {
  readonly name: string;
  readonly dataDir: string;
  readonly stderr: string[] = [];
  stdout: string[] = [];
  #child: ChildProcessWithoutNullStreams | undefined;
  #start: StartLines | undefined;
  readonly #args: readonly string[];

  constructor(name: string, dataDir: string, args: readonly string[]) {
    this.name = name;
    this.dataDir = dataDir;
    this.#args = args;
  }

  get start(): StartLines {
    if (!this.#start) throw new Error(`node ${this.name} has not started`);
    return this.#start;
  }
  get port(): number {
    return this.start.port;
  }
  get pid(): number {
    return this.#child?.pid ?? -1;
  }

  alive(): boolean {
    const child = this.#child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  /** Spawns the node and resolves with its start lines (up to the last room's `link`). */
  async run(rooms: readonly string[], timeoutMs: number): Promise<void> {
    if (this.alive()) throw new Error(`node ${this.name} is already running`);
    const stdout: string[] = [];
    this.stdout = stdout;
    this.#start = undefined;
    const child = spawn(process.execPath, [PARLEY, ...this.#args], { stdio: 'pipe' });
    this.#child = child;
    const changed = new Set<() => void>();
    for (const [stream, lines] of [
      [child.stdout, stdout],
      [child.stderr, this.stderr],
    ] as const) {
      let partial = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        const parts = (partial + chunk).split('\n');
        partial = parts.pop() ?? '';
        lines.push(...parts);
        for (const listener of changed) listener();
      });
    }
    const exited = once(child, 'exit');
    // Said in the node's log, so that a failure shows a node that died and how.
    void exited.then(([code, signal]) =>
      this.stderr.push(`[exited: code ${code} signal ${signal}]`),
    );
    const lines = await new Promise<readonly string[]>((resolve, reject) => {
      const check = () => {
        const links = stdout.filter((line) => line.startsWith('link '));
        if (links.length < rooms.length) return;
        changed.delete(check);
        clearTimeout(timer);
        resolve(stdout);
      };
      const timer = setTimeout(() => {
        changed.delete(check);
        child.kill('SIGKILL');
        reject(
          new Error(
            `node ${this.name} printed no start lines within ${timeoutMs} ms.\n` +
              `stdout:\n${stdout.join('\n')}\nstderr:\n${this.stderr.join('\n')}`,
          ),
        );
      }, timeoutMs);
      changed.add(check);
      void exited.then(() => {
        changed.delete(check);
        clearTimeout(timer);
        reject(
          new Error(
            `node ${this.name} exited at start (${child.exitCode ?? child.signalCode}).\n` +
              `stdout:\n${stdout.join('\n')}\nstderr:\n${this.stderr.join('\n')}`,
          ),
        );
      });
      check();
    });
    this.#start = parseStartLines(lines);
  }

  signal(signal: NodeJS.Signals): void {
    if (this.alive()) this.#child?.kill(signal);
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    const child = this.#child;
    if (!child || !this.alive()) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    // A graceful stop that hangs must not hang the test run.
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

/** The start lines a node printed: `listening`, `fingerprint`, then per room its invites and link. */
export function parseStartLines(lines: readonly string[]): StartLines {
  const listening = lines.find((line) => line.startsWith('listening '));
  const fingerprint = lines.find((line) => line.startsWith('fingerprint '));
  const port = Number(/:(\d+)$/.exec(listening ?? '')?.[1]);
  if (!Number.isInteger(port) || port <= 0 || fingerprint === undefined) {
    throw new Error(`unreadable start lines:\n${lines.join('\n')}`);
  }
  const ownerInvites = new Map<string, string>();
  const memberInvites = new Map<string, string>();
  const links = new Map<string, string>();
  // A room's invites come before its link, which names the room.
  let owner: string | undefined;
  let member: string | undefined;
  for (const line of lines) {
    const [word, value] = line.split(' ');
    if (value === undefined) continue;
    if (word === 'owner-invite') owner = value;
    else if (word === 'invite') member = value;
    else if (word === 'link') {
      const room = roomOfLink(value);
      links.set(room, value);
      if (owner !== undefined) ownerInvites.set(room, owner);
      if (member !== undefined) memberInvites.set(room, member);
      owner = undefined;
      member = undefined;
    }
  }
  return {
    port,
    fingerprint: fingerprint.slice('fingerprint '.length),
    ownerInvites,
    memberInvites,
    links,
  };
}

/** The room a link names (parley://HOST:PORT/ROOM#KEY). */
function roomOfLink(link: string): string {
  const parsed = parseInvite(link);
  if (!parsed.ok) throw new Error(`a start line's link is no link: ${link}`);
  return parsed.value.room;
}

/**
 * Starts PostgreSQL, NATS and `nodes` cluster nodes (n1 first, alone: it makes the rooms and
 * prints their first invites; then the others together). Call stopAll() in afterAll, also when
 * this throws nothing (it cleans up after itself when it fails).
 */
export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const count = options.nodes ?? 3;
  const rooms = options.rooms ?? ['lobby'];
  const timeoutMs = options.startTimeoutMs ?? 30_000;
  const folder = mkdtempSync(join(tmpdir(), 'parley-cluster-'));
  const [postgres, nats] = await Promise.all([startPostgres(), startNatsServer()]);
  const keyFile = join(folder, 'host.key');
  // Every node loads the same key and none may create it (each would make its own): the
  // operator makes it once, as the first single host did, mode 0600.
  const keyPair = await loadOrCreateKeyPair(keyFile, nodeBackend);
  const nodes: NodeProcess[] = [];
  for (let i = 0; i < count; i++) {
    const name = `n${i + 1}`;
    const dataDir = join(folder, name);
    nodes.push(
      new NodeProcess(name, dataDir, [
        '--serve',
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        '--data-dir',
        dataDir,
        '--key-file',
        keyFile,
        '--node-name',
        name,
        '--cluster',
        nats.url,
        '--database',
        postgres.url,
        ...rooms.flatMap((room) => ['--room', room]),
        ...(options.args ?? []),
      ]),
    );
  }
  let stopped = false;
  const stopAll = async () => {
    if (stopped) return;
    stopped = true;
    // A frozen node would take SIGTERM only once continued.
    for (const node of nodes) node.signal('SIGCONT');
    await Promise.all(nodes.map((node) => node.kill('SIGTERM')));
    await Promise.all([nats.stop(), postgres.remove()]);
    rmSync(folder, { recursive: true, force: true });
  };
  try {
    const [first, ...others] = nodes;
    await first?.run(rooms, timeoutMs);
    await Promise.all(others.map((node) => node.run(rooms, timeoutMs)));
  } catch (error) {
    await stopAll();
    throw error;
  }
  const node = (i: number): NodeProcess => {
    const found = nodes[i];
    if (!found) throw new Error(`no node ${i}`);
    return found;
  };
  return {
    nats,
    postgres,
    keyFile,
    hostKey: keyPair.publicKey,
    nodes,
    kill: (i) => node(i).kill('SIGKILL'),
    freeze: (i, frozen) => node(i).signal(frozen ? 'SIGSTOP' : 'SIGCONT'),
    async restart(i) {
      await node(i).kill('SIGKILL');
      // The port the node had is free again only once its sockets are gone; it takes a new one.
      await sleep(10);
      await node(i).run(rooms, timeoutMs);
    },
    errorLines: () =>
      nodes.flatMap((n) =>
        n.stderr.filter((line) => / error /.test(line)).map((l) => `${n.name}: ${l}`),
      ),
    stopAll,
  };
}
