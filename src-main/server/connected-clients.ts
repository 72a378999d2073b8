import type { CloseInfo, SecureChannel } from '../protocol/secure-channel.ts';
import { CloseCode } from '../protocol/wire/constants.ts';
import type { ClientErrorBoundary } from './client-error-boundary.ts';
import { ConnectedClient, keyTextOf } from './connected-client.ts';
import { failureFields } from './failure-fields.ts';
import type { HostLimits } from './host-limits.ts';
import type { HostLog } from './host-log.ts';
import type { IdleSweep } from './idle-sweep.ts';
import type { KeyBudgets } from './key-budgets.ts';
import type { RequestHandler } from './request-handler.ts';

function runNow(work: () => void): void {
  work();
}

/**
 * The welcomed connections: each gets its key's budgets, its requests go to the request
 * handler inside the error boundary, the idle sweep hears it, and it leaves every room when
 * its channel closes.
 */
export class ConnectedClients {
  readonly #limits: HostLimits;
  readonly #log: HostLog;
  readonly #now: () => number;
  readonly #budgets: KeyBudgets;
  readonly #handler: RequestHandler;
  readonly #idle: IdleSweep;
  readonly #boundary: ClientErrorBoundary;
  /** By channel: the channel listeners below are shared by all clients and find theirs here. */
  readonly #clients = new Map<SecureChannel, ConnectedClient>();
  // Two listeners for all channels, not two closures per connection (~0.15 KB each).
  readonly #onMessage: (this: SecureChannel, bytes: Uint8Array) => void;
  readonly #onClose: (this: SecureChannel, info: CloseInfo) => void;

  constructor(deps: {
    limits: HostLimits;
    log: HostLog;
    now: () => number;
    budgets: KeyBudgets;
    handler: RequestHandler;
    idle: IdleSweep;
    boundary: ClientErrorBoundary;
    /**
     * Runs each channel's message and close handling (they read and write the database, and
     * deliver to other connections). A cluster node runs database work only inside a turn that
     * holds the cluster's write lock, so it queues the work for its next turn; default: now.
     */
    serialize?: (work: () => void) => void;
  }) {
    this.#limits = deps.limits;
    this.#log = deps.log;
    this.#now = deps.now;
    this.#budgets = deps.budgets;
    this.#handler = deps.handler;
    this.#idle = deps.idle;
    this.#boundary = deps.boundary;
    const clients = this.#clients;
    const serialize = deps.serialize ?? runNow;
    const received = (client: ConnectedClient, bytes: Uint8Array): void =>
      this.#received(client, bytes);
    const closed = (channel: SecureChannel, client: ConnectedClient, info: CloseInfo): void =>
      this.#closed(channel, client, info);
    // The client is looked up when the work runs: a close handled before it has ended it.
    this.#onMessage = function (bytes) {
      serialize(() => {
        const client = clients.get(this);
        if (client) received(client, bytes);
      });
    };
    this.#onClose = function (info) {
      serialize(() => {
        const client = clients.get(this);
        if (client) closed(this, client, info);
      });
    };
  }

  get size(): number {
    return this.#clients.size;
  }

  /** The client's nickname is its key's: welcome it and start reading its requests. */
  welcome(channel: SecureChannel, nick: string, device?: string): void {
    const now = this.#now();
    const client = new ConnectedClient(
      channel,
      nick,
      this.#limits,
      now,
      this.#budgets.for(keyTextOf(channel.remoteStaticKey), now),
    );
    client.device = device;
    this.#clients.set(channel, client);
    this.#handler.connected(client);
    this.#idle.track(client);
    channel.on('message', this.#onMessage);
    channel.on('close', this.#onClose);
    const keyPackages = this.#handler.keyPackagesFor(client);
    client.send({
      t: 'welcome',
      nick: client.nick,
      fp: client.fingerprint,
      ...(keyPackages === undefined ? {} : { keyPackages }),
    });
    this.#handler.welcomed(client);
    channel.start();
    this.#log('info', 'client-joined', {
      fp: client.fingerprint,
      nick: client.nick,
      ip: client.ip,
      suite: channel.protocolName,
    });
  }

  /** Tells every client the host is shutting down, and why (their channels then close). */
  closeAll(reason: string, options: { discardHeld?: boolean } = {}): void {
    for (const client of this.#clients.values()) {
      client.channel.close(CloseCode.shutdown, reason, options);
    }
  }

  #received(client: ConnectedClient, bytes: Uint8Array): void {
    try {
      this.#idle.heard(client);
      this.#handler.handle(client, bytes);
    } catch (error) {
      this.#boundary.clientFailed(client, error);
    }
  }

  #closed(channel: SecureChannel, client: ConnectedClient, info: CloseInfo): void {
    this.#clients.delete(channel);
    this.#idle.forget(client);
    // A goodbye (`bye`) is leaving; anything else is a disconnection.
    const event = info.by === 'peer' && info.code === CloseCode.bye ? 'left' : 'disconnected';
    try {
      this.#handler.disconnected(client, event);
    } catch (error) {
      this.#log('error', 'client-cleanup-failed', {
        fp: client.fingerprint,
        ...failureFields(error),
      });
    }
    this.#log('info', 'client-left', {
      fp: client.fingerprint,
      nick: client.nick,
      code: info.code,
      by: info.by,
    });
  }
}
