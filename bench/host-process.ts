// The benchmark's host: the real startHost in a process of its own, so its CPU and memory are
// measured apart from the load. Started by bench/run.ts with an IPC channel; configured only
// through environment variables that this script alone reads (never the CLI):
//   PARLEY_BENCH_DATA_DIR   a fresh temporary folder (host key + history, synchronous=FULL)
//   PARLEY_BENCH_ROOMS      comma-separated room names
//   PARLEY_BENCH_CIPHER     "null" for the benchmark-only null transport cipher; anything else is real
//   PARLEY_CRYPTO_BACKEND   node | noble (read by selectBackend, as for any host)
//   PARLEY_BENCH_CLUSTER    JSON ClusterOptions ({ natsUrl, databaseUrl, nodeName }): a cluster node
//                           (bench/cluster.ts), with PARLEY_BENCH_KEY_FILE, the key all nodes share
// The host's code is the built JavaScript `parley --serve` runs (out/host, bin/host-build.js)
// when it is a build of these sources, as shipped; else the sources, type-stripped (the ready
// message says which). This script itself is type-stripped either way.
import { performance } from 'node:perf_hooks';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BUILD_DIR, BUILT_HOST_MODULE, ROOT, freshBuild } from '../bin/host-build.js';
import { selectBackend } from '../src-main/protocol/crypto/select-backend.ts';
import type * as HostModule from '../src-main/server/host.ts';
import type { LogLevel } from '../src-main/server/host-log.ts';
import { encodeBase64Url } from '../src-shared/base64url.ts';
import { insecureNullCipherKeys } from './null-cipher.ts';

const dataDir = process.env.PARLEY_BENCH_DATA_DIR;
if (!dataDir || !process.send) {
  console.error('bench/host-process.ts is started by bench/run.ts');
  process.exit(2);
}
const built = 'entry' in freshBuild();
const { startHost } = (await import(
  built
    ? pathToFileURL(join(ROOT, BUILD_DIR, BUILT_HOST_MODULE)).href
    : '../src-main/server/host.ts'
)) as typeof HostModule;
const nullCipher = process.env.PARLEY_BENCH_CIPHER === 'null';
const rooms = (process.env.PARLEY_BENCH_ROOMS ?? 'lobby').split(',');
const cluster = process.env.PARLEY_BENCH_CLUSTER
  ? (JSON.parse(process.env.PARLEY_BENCH_CLUSTER) as HostModule.HostOptions['cluster'])
  : undefined;
const keyFile = process.env.PARLEY_BENCH_KEY_FILE;

// Events the host logged at warn or above (slow readers, floods, refusals): a clean run has none.
const events: Record<string, number> = {};
const serious = new Set<LogLevel>(['warn', 'error']);

const host = await startHost({
  host: '127.0.0.1',
  port: 0,
  dataDir,
  rooms,
  // Anyone who connects may join: the benchmark measures the chat path, not invitations.
  openRooms: true,
  name: 'bench',
  // The defaults protect a real host from one abusive client; a benchmark *is* that client, so
  // only the rate and connection-count limits are raised. Queue bounds, history limits, the
  // idle sweep and group commit with synchronous=FULL stay as shipped.
  limits: {
    messagesPerSecond: 1e9,
    messageBurst: 1e9,
    requestsPerSecond: 1e9,
    requestBurst: 1e9,
    floodStrikes: 1e9,
    maxClients: 100_000,
    maxClientsPerIp: 100_000,
  },
  log: (level, event) => {
    if (serious.has(level)) events[event] = (events[event] ?? 0) + 1;
  },
  // The null cipher is handed in from bench/: the production host cannot build it.
  ...(nullCipher ? { transportKeys: insecureNullCipherKeys(selectBackend()) } : {}),
  ...(cluster ? { cluster } : {}),
  ...(keyFile ? { keyFile } : {}),
});

const gc = (globalThis as { gc?: () => void }).gc;

function stats(collect: boolean) {
  if (collect && gc) {
    gc();
    gc();
  }
  const memory = process.memoryUsage();
  return {
    cpu: process.cpuUsage(),
    at: performance.now(),
    elu: performance.eventLoopUtilization(),
    rss: memory.rss,
    heapTotal: memory.heapTotal,
    heapUsed: memory.heapUsed,
    arrayBuffers: memory.arrayBuffers,
    external: memory.external,
    clients: host.clientCount,
    spaces: collect
      ? Object.fromEntries(
          getHeapSpaceStatistics().map((space) => [
            space.space_name,
            { size: space.space_size, used: space.space_used_size },
          ]),
        )
      : undefined,
    events: { ...events },
  };
}

// Profiles cover what the benchmark asks for (one scenario), not start-up and set-up.
const inspector = new Session();
inspector.connect();

async function answer(message: Request): Promise<Record<string, unknown>> {
  switch (message.op) {
    case 'stats':
      return stats(message.gc === true);
    case 'snapshot':
      return { file: writeHeapSnapshot() };
    case 'profile-start':
      await inspector.post('Profiler.enable');
      await inspector.post('Profiler.setSamplingInterval', { interval: 200 });
      await inspector.post('Profiler.start');
      return {};
    case 'profile-stop': {
      const { profile } = await inspector.post('Profiler.stop');
      if (message.file) writeFileSync(message.file, JSON.stringify(profile));
      return {};
    }
    case 'stop':
      await host.stop('benchmark done');
      setTimeout(() => {
        process.disconnect();
        process.exit(0);
      }, 50);
      return {};
  }
}

interface Request {
  id: number;
  op: 'stats' | 'snapshot' | 'profile-start' | 'profile-stop' | 'stop';
  gc?: boolean;
  file?: string;
}

process.on('message', (message: Request) => {
  answer(message).then(
    (result) => process.send?.({ ...result, id: message.id }),
    (error: unknown) => process.send?.({ id: message.id, error: String(error) }),
  );
});

// If the benchmark dies, do not outlive it.
process.on('disconnect', () => process.exit(0));

process.send({
  op: 'ready',
  port: host.address.port,
  publicKey: encodeBase64Url(host.publicKey),
  pid: process.pid,
  built,
});
