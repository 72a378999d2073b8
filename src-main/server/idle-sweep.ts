import { CloseCode } from '../protocol/wire/constants.ts';
import type { ConnectedClient } from './connected-client.ts';
import type { HostLimits } from './host-limits.ts';

interface Liveness {
  lastHeardAt: number;
  pingOutstanding: boolean;
}

/**
 * Pings the quiet and drops the silent, on the host's clock: a connection that has said nothing
 * for `pingAfterMs` is pinged once, one silent for `idleTimeoutMs` is closed (`idle-timeout`).
 * One timer for all connections; what each last said is kept here, not on the connection.
 */
export class IdleSweep {
  readonly #limits: Pick<HostLimits, 'pingAfterMs' | 'idleTimeoutMs'>;
  readonly #now: () => number;
  readonly #onClientFailure: (client: ConnectedClient, error: unknown) => void;
  readonly #hostStalled: () => boolean;
  readonly #clients = new Map<ConnectedClient, Liveness>();
  #timer: NodeJS.Timeout | undefined;

  constructor(deps: {
    limits: Pick<HostLimits, 'pingAfterMs' | 'idleTimeoutMs'>;
    now: () => number;
    /** Pinging or closing one connection failed: it is ended, the sweep goes on. */
    onClientFailure: (client: ConnectedClient, error: unknown) => void;
    /**
     * The host has stopped reading its clients (its disk is slow, durability-gate.ts): nobody
     * can be heard, so nobody is judged silent meanwhile. Default: never.
     */
    hostStalled?: () => boolean;
  }) {
    this.#limits = deps.limits;
    this.#now = deps.now;
    this.#onClientFailure = deps.onClientFailure;
    this.#hostStalled = deps.hostStalled ?? (() => false);
  }

  /** A connection was welcomed: it counts as heard from now. */
  track(client: ConnectedClient): void {
    this.#clients.set(client, { lastHeardAt: this.#now(), pingOutstanding: false });
  }

  /** Anything received from the connection (a pong, or any request) shows it is alive. */
  heard(client: ConnectedClient): void {
    const liveness = this.#clients.get(client);
    if (!liveness) return;
    liveness.lastHeardAt = this.#now();
    liveness.pingOutstanding = false;
  }

  forget(client: ConnectedClient): void {
    this.#clients.delete(client);
  }

  /**
   * The host read no client from `from` to `to`: that time is not a connection's silence. Each
   * one's last word moves forward by the part of the stall that followed it. Once per stall,
   * so nothing is added to the per-message path.
   */
  excuse(from: number, to: number): void {
    if (to <= from) return;
    for (const liveness of this.#clients.values()) {
      const excused = to - Math.max(liveness.lastHeardAt, from);
      if (excused > 0) liveness.lastHeardAt += excused;
    }
  }

  /** One pass over every connection, at the clock's current time. */
  sweep(): void {
    if (this.#hostStalled()) return;
    const t = this.#now();
    for (const [client, liveness] of this.#clients) {
      try {
        const quiet = t - liveness.lastHeardAt;
        if (quiet >= this.#limits.idleTimeoutMs) {
          client.channel.close(CloseCode.idleTimeout, 'no traffic for too long');
        } else if (quiet >= this.#limits.pingAfterMs && !liveness.pingOutstanding) {
          liveness.pingOutstanding = true;
          client.send({ t: 'ping', n: t });
        }
      } catch (error) {
        this.#onClientFailure(client, error);
      }
    }
  }

  /** Sweeps every half ping interval (between 50 ms and 5 s); the timer never holds the process. */
  start(): void {
    if (this.#timer) return;
    const every = Math.max(50, Math.min(5000, this.#limits.pingAfterMs / 2));
    this.#timer = setInterval(() => this.sweep(), every);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
