import type { GatedOutput, OutputGate } from '../protocol/output-gate.ts';
import type { WalSync } from './db/wal-sync.ts';

/**
 * The host's output gate (see db/wal-sync.ts for the durability argument): a channel whose
 * output waits for a sync group registers here, and is released when the group completes.
 * When every commit is durable and nothing is held, output leaves at once, as before.
 */
export class DurabilityGate implements OutputGate {
  readonly #sync: WalSync;
  #waiting = new Set<GatedOutput>();

  constructor(sync: WalSync) {
    this.#sync = sync;
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

  hold(channel: GatedOutput): void {
    this.#waiting.add(channel);
  }

  #release(group: number): void {
    for (const channel of this.#waiting) {
      if (channel.release(group)) this.#waiting.delete(channel);
    }
  }
}
