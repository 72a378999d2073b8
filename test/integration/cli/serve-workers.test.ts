import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { type RestartTiming, runPrimary } from '../../../src-main/cli/serve-workers.ts';
import type { LogFields, LogLevel } from '../../../src-main/server/host-log.ts';

// runPrimary with real node:cluster workers: a small stand-in for the serve command
// (serve-workers-fixture.ts), so the primary's part is tested without NATS or PostgreSQL.
const FIXTURE = fileURLToPath(new URL('./serve-workers-fixture.ts', import.meta.url));
/** Node processes starting on a machine that may be busy. */
const TEST_TIMEOUT_MS = 60_000;
const FAST: RestartTiming = { firstMs: 100, maxMs: 400, stableMs: 60_000, stopMs: 5000 };

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function primary(workers: number, args: string[]) {
  const stdout = new PassThrough();
  let printed = '';
  stdout.setEncoding('utf8');
  stdout.on('data', (chunk: string) => (printed += chunk));
  const events: { level: LogLevel; event: string; fields: LogFields }[] = [];
  let stop = (_signal: string): void => undefined;
  const stopSignal = new Promise<string>((resolve) => (stop = resolve));
  const exited = runPrimary({
    workers,
    stdout,
    log: (level, event, fields = {}) => events.push({ level, event, fields }),
    stopSignal,
    exec: { file: FIXTURE, args, execArgv: [] },
    timing: FAST,
  });
  const waitFor = async (event: string, count = 1, timeoutMs = 30_000) => {
    const until = Date.now() + timeoutMs;
    while (events.filter((e) => e.event === event).length < count) {
      if (Date.now() > until) throw new Error(`no ${count}× ${event}: ${JSON.stringify(events)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return { printed: () => printed, events, stop, exited, waitFor };
}

/** The pid a connection to the shared port is answered by. */
async function pidAt(port: number): Promise<string> {
  const socket = net.connect(port, '127.0.0.1');
  let text = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (text += chunk));
  await new Promise((resolve, reject) => socket.on('end', resolve).on('error', reject));
  return text.trim();
}

describe('parley --serve --workers: the primary', () => {
  it(
    'prints the start lines once; the workers share one port; SIGTERM stops them all',
    async () => {
      const p = primary(3, ['serve']);
      await p.waitFor('worker-started', 3);
      const lines = p.printed().trim().split('\n');
      expect(lines).toHaveLength(2);
      const port = Number(/^listening 127\.0\.0\.1:(\d+)$/.exec(lines[0] ?? '')?.[1]);
      expect(port).toBeGreaterThan(0);
      // Connections to the one port are spread over the workers.
      const pids = new Set<string>();
      for (let i = 0; i < 30 && pids.size < 3; i++) pids.add(await pidAt(port));
      expect(pids.size).toBe(3);
      p.stop('SIGTERM');
      expect(await p.exited).toBe(0);
      expect(p.events.filter((e) => e.event === 'worker-stopped')).toHaveLength(3);
      expect(p.events.filter((e) => e.event === 'worker-exited')).toEqual([]);
      expect(p.printed().trim().split('\n')).toEqual(lines);
      await expect(pidAt(port)).rejects.toThrow(/ECONNREFUSED/);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'restarts a worker that dies, with growing delays, and prints nothing twice',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'parley-workers-'));
      dirs.push(dir);
      const p = primary(2, ['die-once', dir]);
      await p.waitFor('worker-started', 2);
      expect(p.events.find((e) => e.event === 'worker-exited')?.fields).toMatchObject({
        worker: 0,
        code: 1,
        restartInMs: FAST.firstMs,
      });
      // Killed from outside: restarted again, now after twice the delay (it died quickly).
      const started = p.events.filter((e) => e.event === 'worker-started');
      const slot0 = started.find((e) => e.fields.worker === 0)?.fields.pid;
      process.kill(Number(slot0), 'SIGKILL');
      await p.waitFor('worker-started', 3);
      expect(p.events.filter((e) => e.event === 'worker-exited').at(-1)?.fields).toMatchObject({
        worker: 0,
        signal: 'SIGKILL',
        restartInMs: FAST.firstMs * 2,
      });
      expect(p.printed().match(/^listening /gm)).toHaveLength(1);
      p.stop('SIGINT');
      expect(await p.exited).toBe(0);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'stops every worker and exits 2 when a worker refuses its arguments',
    async () => {
      const p = primary(2, ['refuse']);
      expect(await p.exited).toBe(2);
      expect(p.events.map((e) => e.event)).toContain('worker-refused-arguments');
      expect(p.printed()).toBe('');
    },
    TEST_TIMEOUT_MS,
  );
});
