import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostCommands } from '../../support/host-model/arbitraries.ts';
import { type ClusterHosts, clusterHosts } from '../../support/host-model/cluster-host.ts';
import { HostWorld } from '../../support/host-model/host-world.ts';
import { HostModel } from '../../support/host-model/model.ts';
import { type NatsServer, startNatsServer } from '../../support/nats-server.ts';
import { type PostgresServer, startPostgres } from '../../support/postgres-server.ts';

// The model-based host test (test/integration/server/model.test.ts) against a three-node cluster
// (#19): the same commands and invariants, with the connections spread over the nodes by slot and
// history read from every node's replica (each must hold the same row under each seq). A restart
// is the cluster's: SIGTERM stops every node cleanly and starts them again; SIGKILL crashes one
// node (another each time) and starts it again, the other nodes' clients losing their
// connections too (test/support/host-model/cluster-host.ts). The log is compacted every few dozen
// entries (keeping none), so snapshots are taken among the clients' turns and a restarted or
// lagging node catches up from one. So what the single host promises —
// every acknowledged message stored once under its seq and delivered once to every member
// present, member lists right, refusals with the expected codes — must hold across nodes.
//
// PARLEY_MODEL_STEPS sets the number of steps (default 60 here: a cluster start is seconds);
// PARLEY_FUZZ_SEED and PARLEY_FUZZ_PATH replay a failure, as for the single host.

const STEPS = positive(process.env['PARLEY_MODEL_STEPS'], 60);
const SEED = process.env['PARLEY_FUZZ_SEED'];
const PATH = process.env['PARLEY_FUZZ_PATH'];
/** Shorter sequences than the single host's: each run starts a cluster. */
const MAX_COMMANDS = 80;
const MAX_RUNS = Math.max(2, Math.ceil(STEPS / 15));

function positive(text: string | undefined, fallback: number): number {
  const n = Number(text);
  return Number.isFinite(n) && n > 0 ? Math.floor(n) : fallback;
}

describe('a three-node cluster against the model of one host', () => {
  let nats: NatsServer;
  let postgres: PostgresServer;
  let hosts: ClusterHosts;

  beforeAll(async () => {
    [postgres, nats] = await Promise.all([startPostgres(), startNatsServer()]);
    hosts = clusterHosts({ nats, postgres }, 3);
  }, 60_000);

  afterAll(async () => {
    await hosts?.close();
    await Promise.all([nats?.stop(), postgres?.remove()]);
  }, 60_000);

  it(
    'keeps every acknowledged message exactly once, and every member list right, across nodes',
    async () => {
      const started = performance.now();
      const stats = new Map<string, number>();
      let steps = 0;
      let runs = 0;
      await fc.assert(
        fc.asyncProperty(hostCommands(MAX_COMMANDS), async (commands) => {
          if (steps >= STEPS) return; // enough: the remaining runs are empty
          const world = await HostWorld.start(hosts.spawn);
          runs++;
          try {
            await fc.asyncModelRun(() => ({ model: new HostModel(), real: world }), commands);
            world.assertHostAlive();
            const errors = world.stderr.filter(
              (line) => / error /.test(line) || / warn cluster-compaction-failed /.test(line),
            );
            if (errors.length > 0) world.fail(`a node logged errors:\n${errors.join('\n')}`);
          } finally {
            steps += world.steps;
            const compactions = world.stderr.filter((l) => / cluster-log-compacted /.test(l));
            stats.set('log compacted', (stats.get('log compacted') ?? 0) + compactions.length);
            const fromSnapshot = world.stderr.filter((l) =>
              / cluster-node-ready .*snapshot=[1-9]/.test(l),
            );
            stats.set(
              'node started from a snapshot',
              (stats.get('node started from a snapshot') ?? 0) + fromSnapshot.length,
            );
            for (const [what, n] of world.stats) stats.set(what, (stats.get(what) ?? 0) + n);
            await world.stop();
          }
        }),
        {
          numRuns: MAX_RUNS,
          endOnFailure: true,
          ...(SEED !== undefined ? { seed: Number(SEED) } : {}),
          ...(SEED !== undefined && PATH !== undefined ? { path: PATH } : {}),
        },
      );
      const seconds = (performance.now() - started) / 1000;
      const outcomes = [...stats]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([what, n]) => `${what} ${n}`)
        .join(', ');
      console.log(
        `cluster model: ${steps} steps in ${runs} runs, ${seconds.toFixed(1)} s ` +
          `(${((seconds * 1000) / Math.max(1, steps)).toFixed(0)} ms/step)\n  ${outcomes}`,
      );
      expect(steps).toBeGreaterThan(0);
    },
    STEPS * 1000 + 120_000,
  );
});
