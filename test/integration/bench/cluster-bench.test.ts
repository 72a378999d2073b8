import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { ClusterOutcome, ClusterRow } from '../../../bench/cluster.ts';

// `npm run bench -- --cluster` end to end at a tiny size (bench/cluster.ts): a real PostgreSQL
// and nats-server, the single host process, clusters of one and two node processes and ngircd,
// driven by the bench's load threads. Only that the section runs and counts is tested here (every
// row measured, none with problems); its figures live in the bench's notes.

const RUN = fileURLToPath(new URL('../../../bench/run.ts', import.meta.url));

function runBench(
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [RUN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the cluster section of the bench', () => {
  it('measures the single process, clusters of 1 and 2 nodes and ngircd on the same rows', async () => {
    const args = ['--cluster', '--quick', '--json', '--members=10', '--nodes=1,2', '--seconds=0.4'];
    const { code, stdout, stderr } = await runBench(args);
    expect(code, stderr).toBe(0);
    const result = JSON.parse(stdout) as { cluster: ClusterOutcome; fanout?: unknown };
    // --cluster alone runs no other section.
    expect(result.fanout).toBeUndefined();
    const cluster = result.cluster;
    if (!cluster.measured) throw new Error(`not measured: ${cluster.reason}`);
    const label = (r: ClusterRow) => `${r.test} ${r.server}×${r.nodes}`;
    expect(cluster.rows.map(label)).toEqual([
      'fanout single×1',
      'fanout cluster×1',
      'fanout cluster×2',
      'fanout ngircd×1',
      'fixed single×1',
      'fixed cluster×1',
      'fixed cluster×2',
      'fixed ngircd×1',
      'writes single×1',
      'writes cluster×1',
      'writes cluster×2',
    ]);
    for (const row of cluster.rows) {
      expect(row.problems, label(row)).toEqual([]);
      expect(row.deliveriesPerSec, label(row)).toBeGreaterThan(0);
      expect(row.p99Ms, label(row)).toBeGreaterThan(0);
      if (row.server !== 'ngircd') expect(row.ackP99Ms, label(row)).toBeGreaterThan(0);
      if (row.server === 'cluster') {
        // The nodes' PostgreSQL and NATS are measured apart from the nodes.
        expect(row.postgresNsPerDelivery, label(row)).not.toBeNull();
        expect(row.natsNsPerDelivery, label(row)).not.toBeNull();
        if (row.test !== 'fixed') {
          expect(row.turnsPerSec, label(row)).toBeGreaterThan(0);
          // Saturated, a turn holds the log's lock most of the time: the sampler must see it.
          expect(row.lockBusyPct, label(row)).toBeGreaterThan(0);
        }
      }
      if (row.server !== 'single') expect(row.vsSingle, label(row)).toBeGreaterThan(0);
    }
    for (const row of cluster.rows.filter((r) => r.test === 'writes')) {
      expect(row.acksPerSec, label(row)).toBeGreaterThan(0);
    }
    expect(cluster.entries.map((e) => e.nodes)).toEqual([1, 2]);
    for (const e of cluster.entries) expect(e.entries).toBeGreaterThan(0);
    expect(cluster.skeleton.map((s) => `${s.entries} ${s.synchronousCommit} ${s.storage}`)).toEqual(
      [
        'random 1 KB true default',
        'random 1 KB false default',
        'from the log true default',
        'from the log false default',
        'from the log true external',
      ],
    );
    for (const s of cluster.skeleton) {
      expect(s.turnsPerSec).toBeGreaterThan(0);
      expect(s.postgresCpuMsPerTurn).toBeGreaterThanOrEqual(0);
    }
  }, 120_000);
});
