import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export const ENTRY = fileURLToPath(new URL('../../src-main/index.ts', import.meta.url));

/** A child process whose output lines a test can wait for. */
export interface Proc {
  readonly child: ChildProcessWithoutNullStreams;
  readonly stdout: string[];
  readonly stderr: string[];
  waitForLine(pattern: RegExp, timeoutMs?: number, stream?: 'stdout' | 'stderr'): Promise<string>;
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): void;
}

export function run(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Proc {
  const child = spawn(process.execPath, [ENTRY, ...args], {
    env: { ...process.env, ...options.env },
    cwd: options.cwd,
    stdio: 'pipe',
  });
  const lines = { stdout: [] as string[], stderr: [] as string[] };
  const waiters = new Set<() => void>();
  for (const stream of ['stdout', 'stderr'] as const) {
    let partial = '';
    child[stream].setEncoding('utf8');
    child[stream].on('data', (chunk: string) => {
      partial += chunk;
      const parts = partial.split('\n');
      partial = parts.pop() ?? '';
      lines[stream].push(...parts);
      for (const waiter of waiters) waiter();
    });
  }
  const exit = once(child, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  return {
    child,
    stdout: lines.stdout,
    stderr: lines.stderr,
    waitForLine(pattern, timeoutMs = 10_000, stream = 'stdout') {
      return new Promise((resolve, reject) => {
        const check = () => {
          const line = lines[stream].find((l) => pattern.test(l));
          if (line !== undefined) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(line);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(
              `no ${stream} line matching ${pattern} within ${timeoutMs} ms.\nstdout:\n${lines.stdout.join('\n')}\nstderr:\n${lines.stderr.join('\n')}`,
            ),
          );
        }, timeoutMs);
        waiters.add(check);
        check();
        void exit.then(() => setTimeout(check, 10));
      });
    },
    exited: () => exit,
    kill: (signal = 'SIGTERM') => void child.kill(signal),
  };
}

/**
 * Starts `--serve` on 127.0.0.1 port 0 and waits for its lines up to the first room's `link`.
 * `invite` is the first room's member invite when the host printed one (its first start),
 * else its link; `ownerInvite` its owner invite, when printed.
 */
export async function serve(dataDir: string, extra: string[] = []) {
  const proc = run([
    '--serve',
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--data-dir',
    dataDir,
    ...extra,
  ]);
  const listening = await proc.waitForLine(/^listening /);
  const fingerprint = (await proc.waitForLine(/^fingerprint /)).slice('fingerprint '.length);
  const link = (await proc.waitForLine(/^link /)).slice('link '.length);
  const printed = (prefix: string) =>
    proc.stdout.find((line) => line.startsWith(prefix))?.slice(prefix.length);
  const memberInvite = printed('invite ');
  const ownerInvite = printed('owner-invite ');
  const port = Number(/:(\d+)$/.exec(listening)?.[1]);
  return { proc, port, fingerprint, invite: memberInvite ?? link, memberInvite, ownerInvite, link };
}
