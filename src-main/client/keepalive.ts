import { Timer, type Timers } from './timers.ts';

/**
 * Liveness of one connection. Sends a ping when we have been quiet for `pingIntervalMs` (so the
 * host does not drop us as idle) or the host has (to make it answer); declares the connection
 * dead when nothing at all came from the host for `timeoutMs`, which catches a half-open TCP
 * connection that would otherwise look alive for hours.
 */
export interface KeepaliveOptions {
  readonly pingIntervalMs: number;
  readonly timeoutMs: number;
  readonly now: () => number;
  readonly timers: Timers;
  readonly ping: () => void;
  readonly dead: (silentMs: number) => void;
}

export class Keepalive {
  readonly #options: KeepaliveOptions;
  readonly #timer: Timer;
  #lastReceived = 0;
  #lastSent = 0;
  #pingedSinceReceive = false;

  constructor(options: KeepaliveOptions) {
    this.#options = options;
    this.#timer = new Timer(options.timers);
  }

  start(): void {
    const now = this.#options.now();
    this.#lastReceived = now;
    this.#lastSent = now;
    this.#pingedSinceReceive = false;
    this.#schedule(now);
  }

  stop(): void {
    this.#timer.clear();
  }

  received(): void {
    this.#lastReceived = this.#options.now();
    this.#pingedSinceReceive = false;
  }

  sent(): void {
    this.#lastSent = this.#options.now();
  }

  #check(): void {
    const { now, pingIntervalMs, timeoutMs } = this.#options;
    const t = now();
    const silent = t - this.#lastReceived;
    if (silent >= timeoutMs) {
      this.#options.dead(silent);
      return;
    }
    const quiet = t - this.#lastSent >= pingIntervalMs;
    if (quiet || (silent >= pingIntervalMs && !this.#pingedSinceReceive)) {
      this.#pingedSinceReceive = true;
      this.#lastSent = t;
      this.#options.ping();
    }
    this.#schedule(t);
  }

  #schedule(t: number): void {
    const { pingIntervalMs, timeoutMs } = this.#options;
    let next = Math.min(this.#lastSent + pingIntervalMs, this.#lastReceived + timeoutMs);
    if (!this.#pingedSinceReceive) next = Math.min(next, this.#lastReceived + pingIntervalMs);
    this.#timer.set(Math.max(10, next - t), () => this.#check());
  }
}
