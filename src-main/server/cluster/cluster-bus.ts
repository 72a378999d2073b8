// NATS between the nodes of a cluster (docs/scaling.md): each committed log entry is published
// once and reaches every node, which is what fans a message out to members on other nodes.
// NATS is fast and may lose messages (a node or NATS restarting): entries carry their position,
// so a receiver sees a gap and fills it from PostgreSQL; what NATS loses costs time, never data.
// Turns that changed nothing durable (typing, presence) are published as live effects, with no
// position, and each node sends its presence list every few seconds (remote-presence.ts).
// Every message is sealed (bus-seal.ts): only the cluster's nodes can read it or publish what
// they accept.
import type { NatsConnection, Subscription } from 'nats';
import type { BusSeal } from './bus-seal.ts';
import {
  type FanoutEffect,
  type LogEntry,
  LogEntryError,
  decodeEffects,
  decodeEntryMessage,
  encodeEffects,
  encodeEntryMessage,
} from './log-entry.ts';

type PresenceList = readonly (readonly [string, readonly string[]])[];

export interface ClusterBusHandlers {
  /** An entry (or only its position, when it was too large to carry) published by any node. */
  onEntry(entry: LogEntry | { readonly pos: number }): void;
  /** Effects of another node's turn that changed nothing durable. */
  onLive(node: string, effects: readonly FanoutEffect[]): void;
  /** Another node's whole presence list (remote-presence.ts). */
  onPresenceList(node: string, rooms: PresenceList): void;
  /** A node (new, or back) asks for everyone's list now. */
  onPresenceRequest(): void;
  /** NATS was lost and is back: entries may have been missed meanwhile. */
  onReconnected(): void;
  /** Something arrived that is not sealed by this cluster or does not decode. */
  onBadMessage(error: Error): void;
}

/** Entries at most this large travel whole; NATS's default max_payload is 1 MiB. */
const MAX_CARRIED_BYTES = 512 * 1024;

export class ClusterBus {
  readonly #nc: NatsConnection;
  readonly #subscriptions: Subscription[];
  readonly #subjects: Subjects;
  readonly #node: string;
  readonly #seal: BusSeal;
  readonly #maxCarried: number;

  private constructor(
    nc: NatsConnection,
    subscriptions: Subscription[],
    subjects: Subjects,
    node: string,
    seal: BusSeal,
  ) {
    this.#nc = nc;
    this.#subscriptions = subscriptions;
    this.#subjects = subjects;
    this.#node = node;
    this.#seal = seal;
    // Room for the tag and NATS's own framing.
    this.#maxCarried = Math.min(MAX_CARRIED_BYTES, Math.max(1024, nc.info?.max_payload ?? 0) - 128);
  }

  /** Connects (retrying for ever once connected; the first connect must succeed) and subscribes. */
  static async connect(
    url: string,
    cluster: string,
    node: string,
    seal: BusSeal,
    handlers: ClusterBusHandlers,
  ): Promise<ClusterBus> {
    const { connect } = await import('nats');
    const nc = await connect({
      servers: url,
      name: `parley ${node}`,
      reconnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      pingInterval: 5000,
      // nats.js takes the scheme as a hint only: `tls://` must mean a node refuses a server that
      // offers no TLS, rather than sending its credentials in the clear.
      ...(/^tls:/i.test(url) ? { tls: {} } : {}),
    });
    const subjects = subjectsOf(cluster);
    const on = (subject: string, take: (data: Uint8Array) => void): Subscription =>
      nc.subscribe(subject, {
        callback: (error, message) => {
          if (error) return handlers.onBadMessage(error);
          const data = seal.open(subject, message.data);
          if (!data) return handlers.onBadMessage(new LogEntryError(`unsealed on ${subject}`));
          try {
            take(data);
          } catch (failure) {
            handlers.onBadMessage(asError(failure));
          }
        },
      });
    const subscriptions = [
      on(subjects.log, (data) => handlers.onEntry(decodeEntryMessage(data))),
      on(subjects.live, (data) => {
        const { from, effects } = decodeLive(data);
        if (from !== node) handlers.onLive(from, effects); // our own were told here already
      }),
      on(subjects.presence, (data) => {
        const list = decodePresenceList(data);
        if (list.node !== node) handlers.onPresenceList(list.node, list.rooms);
      }),
      on(subjects.presenceRequest, () => handlers.onPresenceRequest()),
    ];
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type === 'reconnect') handlers.onReconnected();
      }
    })().catch(() => {});
    return new ClusterBus(nc, subscriptions, subjects, node, seal);
  }

  publishEntry(entry: LogEntry): void {
    // Closed or over its buffer: the others find the entry in PostgreSQL (their poll).
    this.#publish(this.#subjects.log, encodeEntryMessage(entry, this.#maxCarried));
  }

  /** Live effects (typing, presence) are best effort: presence lists correct what is lost. */
  publishLive(effects: readonly FanoutEffect[]): void {
    const node = new TextEncoder().encode(this.#node);
    const body = encodeEffects(effects);
    const data = new Uint8Array(2 + node.length + body.length);
    new DataView(data.buffer).setUint16(0, node.length);
    data.set(node, 2);
    data.set(body, 2 + node.length);
    this.#publish(this.#subjects.live, data);
  }

  /** This node's whole presence list, for the others (sent again in a few seconds if lost). */
  publishPresence(rooms: PresenceList): void {
    this.#publish(
      this.#subjects.presence,
      new TextEncoder().encode(JSON.stringify({ node: this.#node, rooms })),
    );
  }

  /** Asks every node for its list now (this node is new, or NATS came back). */
  requestPresence(): void {
    this.#publish(this.#subjects.presenceRequest, new Uint8Array(0));
  }

  async close(): Promise<void> {
    for (const sub of this.#subscriptions) sub.unsubscribe();
    await this.#nc.close().catch(() => {});
  }

  #publish(subject: string, data: Uint8Array): void {
    try {
      this.#nc.publish(subject, this.#seal.seal(subject, data));
    } catch {
      // Closed, or over its reconnect buffer: see each caller for why that is harmless.
    }
  }
}

interface Subjects {
  readonly log: string;
  readonly live: string;
  readonly presence: string;
  readonly presenceRequest: string;
}

/** The cluster's id names its subjects, so two clusters can share one NATS. */
function subjectsOf(cluster: string): Subjects {
  return {
    log: `parley.${cluster}.log`,
    live: `parley.${cluster}.live`,
    presence: `parley.${cluster}.presence`,
    presenceRequest: `parley.${cluster}.presence-request`,
  };
}

function decodeLive(data: Uint8Array): { from: string; effects: FanoutEffect[] } {
  if (data.length < 2) throw new LogEntryError('short live message');
  const length = new DataView(data.buffer, data.byteOffset, data.byteLength).getUint16(0);
  if (data.length < 2 + length) throw new LogEntryError('short live message');
  const from = new TextDecoder('utf-8', { fatal: true }).decode(data.subarray(2, 2 + length));
  return { from, effects: decodeEffects(data.subarray(2 + length)) };
}

function decodePresenceList(data: Uint8Array): { node: string; rooms: [string, string[]][] } {
  const bad = () => new LogEntryError('bad presence list');
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data));
  } catch {
    throw bad();
  }
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
