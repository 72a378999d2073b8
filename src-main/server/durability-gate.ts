import type { GatedOutput, OutputGate } from '../protocol/output-gate.ts';

/**
 * What the gate needs of the syncs it waits for: numbered groups that become durable in order.
 * The single process's are WalSync's (db/wal-sync.ts); a cluster node's are its turns, durable
 * once PostgreSQL has them (cluster/cluster-turns.ts).
 */
export interface SyncGroups {
  /** The group that covers everything written so far; 0 when all of it is durable. */
  readonly barrier: number;
  /** The last durable group. */
  readonly durable: number;
  /** How long the running group's sync has taken so far; undefined when none runs. */
  runningForMs(): number | undefined;
  /** Called with each group number once it is durable, in order. */
  onDurable(listener: (group: number) => void): void;
}

/**
 * How much the gate lets the host take in while its disk has not caught up.
 *
 * Held output waits for the disk, not for its reader, so it does not count toward a
 * connection's slow-reader allowance (`maxQueueBytes`, 4 MiB): a slow disk must not get fast
 * readers dropped. Instead the host stops reading every client while too much is held, as the
 * event loop did by itself when it stalled in fsync before #18: a slow disk slows everyone down
 * alike, and memory stays bounded (the bounds below, plus what one read per connection brings).
 */
export interface Backpressure {
  /**
   * All channels together may hold this much before input stops. 16 MiB: four slow-reader
   * allowances; the fan-out bench's ~100 MB/s of output fills it only if a sync takes ~160 ms,
   * which a healthy disk never does (1–10 ms), so it costs nothing until the disk is slow.
   */
  readonly maxHeldBytes: number;
  /**
   * One channel may hold this much before input stops: the host passes a quarter of its
   * slow-reader allowance (`maxQueueBytes`). When a group completes, what was held for it is
   * written at once; kept this small (plus what one turn's reads produce before input stops),
   * a reader that keeps reading does not find its backlog near `maxQueueBytes` because of it.
   */
  readonly maxHeldPerChannel: number;
  /**
   * A sync running longer than this stops input until it completes (and the stall counts from
   * the sync's start). 1 s: a healthy disk syncs in milliseconds, so this is a disk that has
   * stopped; it is a small part of the 45 s between the host's ping and its idle timeout, and
   * holds a request at most ~2 syncs.
   */
  readonly maxSyncWaitMs: number;
}

export const DEFAULT_BACKPRESSURE: Backpressure = {
  maxHeldBytes: 16 * 1024 * 1024,
  maxHeldPerChannel: 1024 * 1024,
  maxSyncWaitMs: 1000,
};

/** What the host shows of the gate (tests, status): bytes held, and its stalls. */
export interface BackpressureState {
  readonly heldBytes: number;
  /** The most held at once since the host started. */
  readonly peakHeldBytes: number;
  readonly maxHeldBytes: number;
  /** Input is stopped now. */
  readonly stalled: boolean;
  /** How many times input was stopped. */
  readonly stalls: number;
}

export interface DurabilityGateOptions {
  readonly backpressure?: Partial<Backpressure>;
  /** The host's clock, for the stall intervals the idle sweep is told about. */
  readonly now?: () => number;
  /** Input was stopped from `from` to `to` (host clock): no client was heard meanwhile. */
  readonly onResumed?: (from: number, to: number) => void;
}

/**
 * The host's output gate (see db/wal-sync.ts for the durability argument): a channel whose
 * output waits for a sync group registers here, and is released when the group completes.
 * When every commit is durable and nothing is held, output leaves at once, as before.
 */
export class DurabilityGate implements OutputGate {
  readonly #sync: SyncGroups;
  readonly #bounds: Backpressure;
  readonly #now: () => number;
  readonly #onResumed: (from: number, to: number) => void;
  #waiting = new Set<GatedOutput>();
  /** Every channel reading through the gate: their input stops while it stalls. */
  readonly #channels = new Set<GatedOutput>();
  #heldBytes = 0;
  #peakHeldBytes = 0;
  /** Channels holding more than maxHeldPerChannel. */
  #overChannel = 0;
  /** The running sync has taken longer than maxSyncWaitMs (cleared when a group completes). */
  #slowSync = false;
  #syncTimer: NodeJS.Timeout | undefined;
  /** Host clock when input stopped; undefined while it flows. */
  #stalledSince: number | undefined;
  #lastStallEnd = Number.NEGATIVE_INFINITY;
  #stalls = 0;
  /** Inside #release: held bytes fall channel by channel; input resumes once, after all. */
  #releasing = false;

  constructor(sync: SyncGroups, options: DurabilityGateOptions = {}) {
    this.#sync = sync;
    this.#bounds = { ...DEFAULT_BACKPRESSURE, ...options.backpressure };
    this.#now = options.now ?? Date.now;
    this.#onResumed = options.onResumed ?? (() => {});
    sync.onDurable((group) => this.#release(group));
  }

  get barrier(): number {
    return this.#sync.barrier;
  }

  get durable(): number {
    return this.#sync.durable;
  }

  /** Channels holding output (for tests and shutdown). */
  get holding(): number {
    return this.#waiting.size;
  }

  /** Input is stopped: no client is read (the idle sweep judges no one's silence meanwhile). */
  get stalled(): boolean {
    return this.#stalledSince !== undefined;
  }

  get state(): BackpressureState {
    return {
      heldBytes: this.#heldBytes,
      peakHeldBytes: this.#peakHeldBytes,
      maxHeldBytes: this.#bounds.maxHeldBytes,
      stalled: this.stalled,
      stalls: this.#stalls,
    };
  }

  hold(channel: GatedOutput): void {
    this.#waiting.add(channel);
    // Held output waits for the running sync (or the next): watch how long it takes.
    if (this.#syncTimer === undefined)
      this.#syncTimer = this.#watchSync(this.#bounds.maxSyncWaitMs);
  }

  heldChanged(before: number, after: number): void {
    const limit = this.#bounds.maxHeldPerChannel;
    this.#heldBytes += after - before;
    if (before <= limit && after > limit) this.#overChannel++;
    else if (before > limit && after <= limit) this.#overChannel--;
    if (after > before) {
      if (this.#heldBytes > this.#peakHeldBytes) this.#peakHeldBytes = this.#heldBytes;
      if (this.#stalledSince === undefined && this.#pressed()) this.#stall(this.#now());
    } else if (!this.#releasing && this.#stalledSince !== undefined) {
      this.#maybeResume();
    }
  }

  attach(channel: GatedOutput): void {
    this.#channels.add(channel);
    if (this.#stalledSince !== undefined) channel.pauseInput();
  }

  detach(channel: GatedOutput): void {
    this.#channels.delete(channel);
  }

  #pressed(): boolean {
    return this.#slowSync || this.#overChannel > 0 || this.#heldBytes > this.#bounds.maxHeldBytes;
  }

  /**
   * One timer at a time: it fires when the sync running now would have run maxSyncWaitMs, and
   * re-arms for the next one. Under load that is one timer a second, not one per sync.
   */
  #watchSync(delayMs: number): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.#syncTimer = undefined;
      const running = this.#sync.runningForMs();
      // No sync running (or it failed: the host stops): the next hold() watches again.
      if (running === undefined) return;
      const left = this.#bounds.maxSyncWaitMs - running;
      if (left > 0) {
        this.#syncTimer = this.#watchSync(left);
        return;
      }
      // The disk has stopped answering: stop taking more in, as a stall in fsync did. Counted
      // from the sync's start: the clients' silence since then is the host's doing.
      this.#slowSync = true;
      const since = this.#now() - running;
      if (this.#stalledSince === undefined) this.#stall(since);
      else this.#stalledSince = Math.max(this.#lastStallEnd, Math.min(this.#stalledSince, since));
    }, delayMs);
    timer.unref();
    return timer;
  }

  #stall(since: number): void {
    this.#stalledSince = Math.max(this.#lastStallEnd, since);
    this.#stalls++;
    for (const channel of this.#channels) channel.pauseInput();
  }

  #maybeResume(): void {
    if (this.#stalledSince === undefined || this.#pressed()) return;
    const from = this.#stalledSince;
    const to = Math.max(from, this.#now());
    this.#stalledSince = undefined;
    this.#lastStallEnd = to;
    for (const channel of this.#channels) channel.resumeInput();
    this.#onResumed(from, to);
  }

  #release(group: number): void {
    this.#releasing = true;
    try {
      for (const channel of this.#waiting) {
        if (channel.release(group)) this.#waiting.delete(channel);
      }
    } finally {
      this.#releasing = false;
    }
    // A group completed: the disk answers again. The next sync (already started, if commits
    // waited for it) gets its own maxSyncWaitMs.
    if (this.#slowSync) {
      this.#slowSync = false;
      if (this.#syncTimer === undefined)
        this.#syncTimer = this.#watchSync(this.#bounds.maxSyncWaitMs);
    }
    this.#maybeResume();
  }
}
