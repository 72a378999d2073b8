import cluster, { type Worker } from 'node:cluster';
import type { HostLog } from '../server/host-log.ts';

/**
 * `parley --serve --workers N`: this process becomes a primary (node:cluster) that runs no
 * host itself. It forks N workers, each the same command line as a cluster node; they share
 * the listening socket (the cluster module hands each accepted connection to a worker, and a
 * port of 0 is bound once, so every worker has the same port). The primary prints the start
 * lines once (the first worker to start sends them over the IPC channel), restarts a worker
 * that exits while it is not stopping (after 1 s, doubling while it keeps dying quickly, up to
 * 30 s), passes SIGTERM/SIGINT on, and returns once every worker has exited.
 */

/** The environment variable that tells a worker which of the N it is (0-based, stable). */
export const WORKER_SLOT_ENV = 'PARLEY_WORKER_SLOT';

/** What a worker sends the primary once its host serves: the lines a single host prints. */
export interface WorkerStarted {
  readonly parley: 'started';
  readonly lines: readonly string[];
}

export function isWorkerStarted(message: unknown): message is WorkerStarted {
  if (typeof message !== 'object' || message === null) return false;
  const { parley, lines } = message as Partial<Record<keyof WorkerStarted, unknown>>;
  return parley === 'started' && Array.isArray(lines) && lines.every((l) => typeof l === 'string');
}

/** In a worker: tells the primary the host serves (a no-op outside `--workers`). */
export function reportStarted(lines: readonly string[]): void {
  const message: WorkerStarted = { parley: 'started', lines };
  process.send?.(message);
}

export interface RestartTiming {
  /** The first restart's delay. */
  readonly firstMs: number;
  /** The longest delay: doubling stops here. */
  readonly maxMs: number;
  /** A worker that ran at least this long died "slowly": its next delay is firstMs again. */
  readonly stableMs: number;
  /** After a stop signal, how long workers get before they are killed. */
  readonly stopMs: number;
}

export const RESTART_TIMING: RestartTiming = {
  firstMs: 1000,
  maxMs: 30_000,
  stableMs: 60_000,
  stopMs: 30_000,
};

export interface PrimaryOptions {
  readonly workers: number;
  readonly stdout: NodeJS.WritableStream;
  readonly log: HostLog;
  /** Resolves with the signal's name when the process is asked to stop. */
  readonly stopSignal: Promise<string>;
  /** The script workers run, and its arguments; default this process's own (tests pass one). */
  readonly exec?: {
    readonly file: string;
    readonly args: readonly string[];
    readonly execArgv?: readonly string[];
  };
  readonly timing?: RestartTiming;
}

interface Slot {
  readonly index: number;
  worker?: Worker;
  startedAt: number;
  /** The delay of the next restart. */
  delayMs: number;
  timer?: NodeJS.Timeout;
}

/** Exit codes: 0 once every worker stopped cleanly, 2 if a worker refused its arguments, else 1. */
export async function runPrimary(options: PrimaryOptions): Promise<number> {
  const timing = options.timing ?? RESTART_TIMING;
  const { log } = options;
  cluster.setupPrimary({
    ...(options.exec
      ? {
          exec: options.exec.file,
          args: [...options.exec.args],
          ...(options.exec.execArgv ? { execArgv: [...options.exec.execArgv] } : {}),
        }
      : {}),
  });
  let printed = false;
  let stopping: string | undefined;
  let failed = false;
  let refused = false;
  let resolveDone = (): void => undefined;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const slots: Slot[] = Array.from({ length: options.workers }, (_, index) => ({
    index,
    startedAt: 0,
    delayMs: timing.firstMs,
  }));

  const stop = (signal: string): void => {
    if (stopping !== undefined) return;
    stopping = signal;
    for (const slot of slots) {
      clearTimeout(slot.timer);
      slot.timer = undefined;
      // A worker still starting gets the signal too: its host stops as soon as it is up.
      slot.worker?.process.kill(signal as NodeJS.Signals);
    }
    const killTimer = setTimeout(() => {
      for (const slot of slots) slot.worker?.process.kill('SIGKILL');
    }, timing.stopMs);
    killTimer.unref();
    checkDone();
  };

  const checkDone = (): void => {
    if (stopping !== undefined && slots.every((s) => !s.worker && !s.timer)) resolveDone();
  };

  const fork = (slot: Slot): void => {
    slot.timer = undefined;
    slot.startedAt = Date.now();
    const worker = cluster.fork({ [WORKER_SLOT_ENV]: String(slot.index) });
    slot.worker = worker;
    worker.on('message', (message: unknown) => {
      if (!isWorkerStarted(message)) return;
      log('info', 'worker-started', { worker: slot.index, pid: worker.process.pid });
      if (printed) return;
      printed = true;
      for (const line of message.lines) options.stdout.write(`${line}\n`);
    });
    worker.on('exit', (code: number | null, signal: string | null) => {
      slot.worker = undefined;
      if (stopping !== undefined) {
        if (code !== 0) failed = true;
        log('info', 'worker-stopped', {
          worker: slot.index,
          code: code ?? undefined,
          signal: signal ?? undefined,
        });
        checkDone();
        return;
      }
      if (code === 2) {
        // The worker refused its arguments (it checks them as this process did, so something
        // changed underneath, e.g. the config file or the key file): restarting cannot help.
        log('error', 'worker-refused-arguments', { worker: slot.index });
        refused = true;
        stop('SIGTERM');
        return;
      }
      if (Date.now() - slot.startedAt >= timing.stableMs) slot.delayMs = timing.firstMs;
      const delayMs = slot.delayMs;
      slot.delayMs = Math.min(slot.delayMs * 2, timing.maxMs);
      log('warn', 'worker-exited', {
        worker: slot.index,
        code: code ?? undefined,
        signal: signal ?? undefined,
        restartInMs: delayMs,
      });
      slot.timer = setTimeout(() => fork(slot), delayMs);
    });
  };

  log('info', 'primary-started', { workers: options.workers, pid: process.pid });
  for (const slot of slots) fork(slot);
  void options.stopSignal.then((signal) => {
    log('info', 'shutdown-requested', { signal });
    stop(signal);
  });
  await done;
  return refused ? 2 : failed ? 1 : 0;
}
