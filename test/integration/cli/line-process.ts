// A real line client (`node src-main/index.ts ...`) whose stdout lines a test waits for, killed
// after the test if still running. Shared by the line-client suites so they spawn and read it
// the same way.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Cleanups } from '../../support/lifecycle.ts';

const ENTRY = fileURLToPath(new URL('../../../src-main/index.ts', import.meta.url));

/** The time at the start of each line the line client prints (ISO, UTC, ms), as a pattern. */
export const TIME = String.raw`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z`;

export interface LineProcess {
  readonly proc: ChildProcessWithoutNullStreams;
  readonly lines: string[];
  stderr(): string;
  readonly exited: Promise<number | null>;
  /** The first stdout line matching `pattern`; fails after `timeoutMs` or when it exits. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
}

export function spawnLineClient(
  cleanups: Cleanups,
  args: string[],
  options: { readonly input?: string | undefined; readonly defaultTimeoutMs: number },
): LineProcess {
  const proc = spawn(process.execPath, [ENTRY, ...args], {
    // The backend the client picks itself, whatever the test run's environment says.
    env: { ...process.env, PARLEY_CRYPTO_BACKEND: '' },
  });
  cleanups.push(() => {
    if (proc.exitCode === null) proc.kill();
  });
  const lines: string[] = [];
  let partial = '';
  let errors = '';
  proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
  });
  proc.stderr.setEncoding('utf8').on('data', (chunk: string) => (errors += chunk));
  const exited = new Promise<number | null>((resolve) => proc.on('close', resolve));
  if (options.input !== undefined) proc.stdin.end(options.input);
  return {
    proc,
    lines,
    stderr: () => errors,
    exited,
    async waitForLine(pattern, timeoutMs = options.defaultTimeoutMs) {
      const start = Date.now();
      for (;;) {
        const line = lines.find((l) => pattern.test(l));
        if (line !== undefined) return line;
        if (Date.now() - start > timeoutMs || proc.exitCode !== null) {
          throw new Error(`no line matching ${pattern}; got:\n${lines.join('\n')}\n${errors}`);
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    },
  };
}
