// NATS between the nodes of a cluster (docs/scaling.md): each committed log entry is published
// once and reaches every node, which is what fans a message out to members on other nodes.
// NATS is fast and may lose messages (a node or NATS restarting): entries carry their position,
// so a receiver sees a gap and fills it from PostgreSQL; what NATS loses costs time, never data.
// Turns that changed nothing durable (typing) are published as live effects, with no position.
import type { MsgHdrs, NatsConnection, Subscription } from 'nats';
import {
  type FanoutEffect,
  type LogEntry,
  LogEntryError,
  decodeEffects,
  decodeEntryMessage,
  encodeEffects,
  encodeEntryMessage,
} from './log-entry.ts';

export interface ClusterBusHandlers {
  /** An entry (or only its position, when it was too large to carry) published by any node. */
  onEntry(entry: LogEntry | { readonly pos: number }): void;
  /** Effects of another node's turn that changed nothing durable. */
  onLive(node: string, effects: readonly FanoutEffect[]): void;
  /** NATS was lost and is back: entries may have been missed meanwhile. */
  onReconnected(): void;
  /** Another node's whole presence list (cluster/remote-presence.ts). */
  onPresenceList(node: string, rooms: readonly (readonly [string, readonly string[]])[]): void;
  /** A node (new, or back) asks for everyone's list now. */
  onPresenceRequest(): void;
  /** Something arrived that does not decode (logged by the caller; the log still has it). */
  onBadMessage(error: Error): void;
}

/** Entries at most this large travel whole; NATS's default max_payload is 1 MiB. */
const MAX_CARRIED_BYTES = 512 * 1024;

export class ClusterBus {
  readonly #nc: NatsConnection;
  readonly #subscriptions: Subscription[];
  readonly #logSubject: string;
  readonly #liveSubject: string;
  readonly #presenceSubject: string;
  readonly #presenceRequestSubject: string;
  readonly #node: string;
  readonly #maxCarried: number;
  readonly #headers: () => MsgHdrs;

  private constructor(
    nc: NatsConnection,
    subscriptions: Subscription[],
    subjects: { log: string; live: string; presence: string; presenceRequest: string },
    node: string,
    headers: () => MsgHdrs,
  ) {
    this.#headers = headers;
    this.#nc = nc;
    this.#subscriptions = subscriptions;
    this.#logSubject = subjects.log;
    this.#liveSubject = subjects.live;
    this.#presenceSubject = subjects.presence;
    this.#presenceRequestSubject = subjects.presenceRequest;
    this.#node = node;
    this.#maxCarried = Math.min(MAX_CARRIED_BYTES, Math.max(1024, nc.info?.max_payload ?? 0) - 64);
  }

  /** Connects (retrying for ever once connected; the first connect must succeed) and subscribes. */
  static async connect(
    url: string,
    cluster: string,
    node: string,
    handlers: ClusterBusHandlers,
  ): Promise<ClusterBus> {
    const { connect, headers } = await import('nats');
    const nc = await connect({
      servers: url,
      name: `parley ${node}`,
      reconnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      pingInterval: 5000,
    });
    const subjects = {
      log: `parley.${cluster}.log`,
      live: `parley.${cluster}.live`,
      presence: `parley.${cluster}.presence`,
      presenceRequest: `parley.${cluster}.presence-request`,
    };
    const logSub = nc.subscribe(subjects.log, {
      callback: (error, message) => {
        if (error) return handlers.onBadMessage(error);
        try {
          handlers.onEntry(decodeEntryMessage(message.data));
        } catch (failure) {
          handlers.onBadMessage(asError(failure));
        }
      },
    });
    const liveSub = nc.subscribe(subjects.live, {
      callback: (error, message) => {
        if (error) return handlers.onBadMessage(error);
        try {
          const from = message.headers?.get('node') ?? '';
          if (from === node) return; // our own: already told here
          handlers.onLive(from, decodeEffects(message.data));
        } catch (failure) {
          handlers.onBadMessage(asError(failure));
        }
      },
    });
    const presenceSub = nc.subscribe(subjects.presence, {
      callback: (error, message) => {
        if (error) return handlers.onBadMessage(error);
        try {
          const list = decodePresenceList(message.data);
          if (list.node !== node) handlers.onPresenceList(list.node, list.rooms);
        } catch (failure) {
          handlers.onBadMessage(asError(failure));
        }
      },
    });
    const requestSub = nc.subscribe(subjects.presenceRequest, {
      callback: () => handlers.onPresenceRequest(),
    });
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type === 'reconnect') handlers.onReconnected();
      }
    })().catch(() => {});
    return new ClusterBus(nc, [logSub, liveSub, presenceSub, requestSub], subjects, node, headers);
  }

  publishEntry(entry: LogEntry): void {
    try {
      this.#nc.publish(this.#logSubject, encodeEntryMessage(entry, this.#maxCarried));
    } catch {
      // Closed or over its buffer: the others find the entry in PostgreSQL (their poll).
    }
  }

  publishLive(effects: readonly FanoutEffect[]): void {
    const h = this.#headers();
    h.set('node', this.#node);
    try {
      this.#nc.publish(this.#liveSubject, encodeEffects(effects), { headers: h });
    } catch {
      // Live effects (typing) are best effort.
    }
  }

  /** This node's whole presence list, for the others. */
  publishPresence(rooms: readonly (readonly [string, readonly string[]])[]): void {
    try {
      const data = new TextEncoder().encode(JSON.stringify({ node: this.#node, rooms }));
      this.#nc.publish(this.#presenceSubject, data);
    } catch {
      // Sent again in a few seconds.
    }
  }

  /** Asks every node for its list now (this node is new, or NATS came back). */
  requestPresence(): void {
    try {
      this.#nc.publish(this.#presenceRequestSubject);
    } catch {
      // The lists come every few seconds anyway.
    }
  }

  async close(): Promise<void> {
    for (const sub of this.#subscriptions) sub.unsubscribe();
    await this.#nc.close().catch(() => {});
  }
}

function decodePresenceList(data: Uint8Array): {
  node: string;
  rooms: [string, string[]][];
} {
  const parsed: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data));
  const bad = () => new LogEntryError('bad presence list');
  if (typeof parsed !== 'object' || parsed === null) throw bad();
  const { node, rooms } = parsed as { node?: unknown; rooms?: unknown };
  if (typeof node !== 'string' || !Array.isArray(rooms)) throw bad();
  return {
    node,
    rooms: rooms.map((entry: unknown): [string, string[]] => {
      if (!Array.isArray(entry) || typeof entry[0] !== 'string' || !Array.isArray(entry[1])) {
        throw bad();
      }
      const keys = entry[1] as unknown[];
      if (!keys.every((key) => typeof key === 'string')) throw bad();
      return [entry[0], keys as string[]];
    }),
  };
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new LogEntryError(String(error));
}
