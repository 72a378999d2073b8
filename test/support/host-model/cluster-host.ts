// The model test's host as a cluster (#19): N nodes (cluster-host-process.ts) on one PostgreSQL
// database and one NATS, one host key. HostWorld sees one host (ModelHost): connections go to
// the nodes in turn by slot, history is read from every node's replica (they must agree), and a
// restart is the cluster's — SIGTERM: every node stops cleanly (everyone told `shutdown`) and
// starts again; SIGKILL: one node crashes (each restart another) and starts again, while the
// clients of the others lose their connections too, as the model's restart ends every connection.
// Clients reach each node through a TCP relay of this process, so that it can cut them.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import net, { type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { decodeBase64Url } from '../../../src-shared/base64url.ts';
import { nodeBackend } from '../../../src-main/protocol/crypto/node-backend.ts';
import { loadOrCreateKeyPair } from '../../../src-main/store/key-file.ts';
import type { NatsServer } from '../nats-server.ts';
import type { PostgresServer } from '../postgres-server.ts';
import type { ModelHost, ModelHostSpawner } from './host-world.ts';
import { MODEL_LIMITS, type Role } from './model.ts';

const NODE_SCRIPT = fileURLToPath(new URL('./cluster-host-process.ts', import.meta.url));
/**
 * The log is compacted every few dozen entries, keeping none after: snapshots are made while
 * clients act, and a node that lags or restarts must catch up from one.
 */
const COMPACTION = { checkEveryMs: 250, afterEntries: 30, keepMs: 0 };

/** A TCP relay to a node: its port stays when the node restarts on another one. */
class Relay {
  readonly #server: net.Server;
  readonly #pairs = new Set<[Socket, Socket]>();
  target = 0;

  private constructor(server: net.Server) {
    this.#server = server;
    server.on('connection', (client) => {
      const upstream = net.connect(this.target, '127.0.0.1');
      const pair: [Socket, Socket] = [client, upstream];
      this.#pairs.add(pair);
      const pipe = (from: Socket, to: Socket) => {
        from.on('data', (chunk: Buffer) => {
          if (!to.destroyed) to.write(chunk);
        });
        from.on('end', () => to.end());
        from.on('error', () => to.destroy());
        // After an end, `to` finishes what it was given and closes by itself.
        from.on('close', () => {
          this.#pairs.delete(pair);
          if (!to.writableEnded) to.destroy();
        });
      };
      pipe(client, upstream);
      pipe(upstream, client);
    });
  }

  static async open(): Promise<Relay> {
    const server = net.createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return new Relay(server);
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** Cuts every connection through it, as a lost network does (no end of session). */
  cut(): void {
    for (const [client, upstream] of this.#pairs) {
      client.destroy();
      upstream.destroy();
    }
    this.#pairs.clear();
  }

  async close(): Promise<void> {
    this.cut();
    this.#server.close();
    await once(this.#server, 'close');
  }
}

interface NodeRun {
  readonly child: ChildProcessWithoutNullStreams;
  readonly port: number;
  readonly hostKey: Uint8Array;
  readonly invites: readonly { readonly role: Role; readonly token: string }[];
}

const running = (child: ChildProcessWithoutNullStreams | undefined) =>
  child !== undefined && child.exitCode === null && child.signalCode === null;

/** One cluster of the model test (one HostWorld run): its database, nodes and relays. */
class ModelCluster {
  readonly #dataDir: string;
  readonly #stderr: string[];
  readonly #keyFile: string;
  readonly #natsUrl: string;
  readonly #databaseUrl: string;
  readonly #names: readonly string[];
  readonly relays: Relay[];
  readonly #nodes: (NodeRun | undefined)[];
  #started = false;
  #kills = 0;

  constructor(
    dataDir: string,
    stderr: string[],
    natsUrl: string,
    databaseUrl: string,
    relays: Relay[],
  ) {
    this.#dataDir = dataDir;
    this.#stderr = stderr;
    this.#keyFile = join(dataDir, 'host.key');
    this.#natsUrl = natsUrl;
    this.#databaseUrl = databaseUrl;
    this.relays = relays;
    this.#names = relays.map((_, i) => `n${i + 1}`);
    this.#nodes = relays.map(() => undefined);
  }

  /** Starts the nodes that are not running (the first start: n1 alone first) and a view of them. */
  async start(): Promise<ModelHost> {
    const invites: { role: Role; token: string }[] = [];
    const begin = async (i: number, first: boolean) => {
      const run = await this.#spawnNode(i, first);
      this.#nodes[i] = run;
      const relay = this.relays[i];
      if (relay) relay.target = run.port;
      invites.push(...run.invites);
    };
    if (!this.#started) {
      await loadOrCreateKeyPair(this.#keyFile, nodeBackend);
      await begin(0, true);
      this.#started = true;
    }
    await Promise.all(
      this.#nodes.map((node, i) => (running(node?.child) ? undefined : begin(i, false))),
    );
    const nodes = this.#nodes.flatMap((node) => (node ? [node] : []));
    const [n1] = nodes;
    if (!n1 || nodes.length !== this.#names.length) throw new Error('a node did not start');
    const key = Buffer.from(n1.hostKey).toString('hex');
    if (nodes.some((node) => Buffer.from(node.hostKey).toString('hex') !== key)) {
      throw new Error('the nodes serve different host keys');
    }
    return {
      child: n1.child,
      port: this.relays[0]?.port ?? 0,
      hostKey: n1.hostKey,
      invites,
      portFor: (slot) => this.relays[slot % this.relays.length]?.port ?? 0,
      historyFiles: this.#names.map((name) => this.#replica(name)),
      alive: () => this.#nodes.every((node) => running(node?.child)),
      halt: (how) => this.halt(how),
    };
  }

  /**
   * SIGTERM: every node, each must exit 0. SIGKILL: one node (the next in turn), and every
   * client connection to the others is cut.
   */
  async halt(how: 'SIGTERM' | 'SIGKILL'): Promise<string | undefined> {
    if (how === 'SIGKILL') {
      const victim = this.#kills++ % this.#nodes.length;
      await stopChild(this.#nodes[victim]?.child, 'SIGKILL');
      for (const relay of this.relays) relay.cut();
      return undefined;
    }
    const problems: string[] = [];
    await Promise.all(
      this.#nodes.map(async (node, i) => {
        if (!node || !running(node.child)) return;
        await stopChild(node.child, 'SIGTERM');
        if (node.child.exitCode !== 0) {
          problems.push(
            `node ${this.#names[i]} exited with ${node.child.exitCode} (${node.child.signalCode}) on SIGTERM`,
          );
        }
      }),
    );
    return problems.length > 0 ? problems.join('; ') : undefined;
  }

  /** Where cluster-node.ts keeps the node's replica: <data dir>/replica/<node name>.sqlite. */
  #replica(name: string): string {
    return join(this.#dataDir, name, 'replica', `${name}.sqlite`);
  }

  async #spawnNode(i: number, first: boolean): Promise<NodeRun> {
    const name = this.#names[i] ?? `n${i + 1}`;
    const child = spawn(
      process.execPath,
      [
        NODE_SCRIPT,
        join(this.#dataDir, name),
        JSON.stringify(MODEL_LIMITS),
        this.#keyFile,
        name,
        first ? '1' : '0',
      ],
      {
        stdio: 'pipe',
        env: {
          ...process.env,
          PARLEY_TEST_NATS: this.#natsUrl,
          PARLEY_TEST_DATABASE: this.#databaseUrl,
          PARLEY_TEST_COMPACTION: JSON.stringify(COMPACTION),
        },
      },
    );
    const stdout: string[] = [];
    for (const [stream, lines, prefix] of [
      [child.stdout, stdout, ''],
      [child.stderr, this.#stderr, `${name}: `],
    ] as const) {
      let partial = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        const parts = (partial + chunk).split('\n');
        partial = parts.pop() ?? '';
        lines.push(...parts.map((line) => prefix + line));
      });
    }
    const deadline = Date.now() + 30_000;
    for (;;) {
      const port = stdout.find((l) => l.startsWith('listening '));
      const key = stdout.find((l) => l.startsWith('key '));
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`node ${name} exited at start:\n${this.#stderr.slice(-15).join('\n')}`);
      }
      if (port && key) {
        const invites = stdout.flatMap((line) => {
          const [word, , role, link] = line.split(' ');
          const token = /[?&]invite=([A-Za-z0-9_-]{24})/.exec(link ?? '')?.[1];
          if (word !== 'invite' || !token) return [];
          return [{ role: role as Role, token }];
        });
        const replica = this.#replica(name);
        if (!existsSync(replica)) throw new Error(`node ${name} has no replica at ${replica}`);
        return {
          child,
          port: Number(port.slice(10)),
          hostKey: decodeBase64Url(key.slice(4)) ?? new Uint8Array(),
          invites,
        };
      }
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`node ${name} did not start within 30 s:\n${this.#stderr.join('\n')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.#nodes.map((node) => stopChild(node?.child, 'SIGTERM')));
    await Promise.all(this.relays.map((relay) => relay.close()));
  }
}

async function stopChild(
  child: ChildProcessWithoutNullStreams | undefined,
  signal: NodeJS.Signals,
): Promise<void> {
  if (!child || !running(child)) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  // A clean stop that hangs must not hang the test.
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

export interface ClusterHosts {
  /** For HostWorld.start: each world (run) gets a cluster of its own, on a database of its own. */
  readonly spawn: ModelHostSpawner;
  /** The PostgreSQL URL of the cluster spawned on this folder. */
  databaseOf(dataDir: string): string | undefined;
  /** Stops every cluster still running (afterAll). */
  close(): Promise<void>;
}

/** Clusters of `nodes` nodes on these services, one per HostWorld. */
export function clusterHosts(
  services: { readonly nats: NatsServer; readonly postgres: PostgresServer },
  nodes = 3,
): ClusterHosts {
  const clusters = new Map<string, ModelCluster>();
  const urls = new Map<string, string>();
  let databases = 0;
  return {
    databaseOf: (dataDir) => urls.get(dataDir),
    async spawn(dataDir, stderr) {
      let cluster = clusters.get(dataDir);
      if (!cluster) {
        const database = `model_${++databases}`;
        const admin = new pg.Client({ connectionString: services.postgres.url });
        await admin.connect();
        try {
          await admin.query(`CREATE DATABASE ${database}`);
        } finally {
          await admin.end();
        }
        const url = new URL(services.postgres.url);
        url.pathname = `/${database}`;
        const relays = await Promise.all(Array.from({ length: nodes }, () => Relay.open()));
        cluster = new ModelCluster(dataDir, stderr, services.nats.url, url.toString(), relays);
        urls.set(dataDir, url.toString());
        clusters.set(dataDir, cluster);
      }
      return cluster.start();
    },
    async close() {
      await Promise.all([...clusters.values()].map((cluster) => cluster.close()));
      clusters.clear();
    },
  };
}
