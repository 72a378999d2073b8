import type { Socket } from 'node:net';
import { ProtocolError } from '../protocol/errors.ts';
import { refuseConnection } from '../protocol/host-handshake.ts';
import type { SecureChannel } from '../protocol/secure-channel.ts';
import { CloseCode } from '../protocol/wire/constants.ts';
import type { HostLimits } from './host-limits.ts';
import type { HostLog } from './host-log.ts';

type AdmissionLimits = Pick<HostLimits, 'maxClients' | 'maxClientsPerIp' | 'maxHandshakes'>;

/**
 * Who may connect, before anyone is known: connections per address, handshakes in progress
 * (bounded apart from clients, the oldest evicted first) and authenticated clients in total.
 * Unauthenticated connections never take an authenticated one's place. Every socket is counted
 * here from its arrival to its close, so shutdown can wait for them all.
 */
export class Admission {
  readonly #limits: AdmissionLimits;
  readonly #log: HostLog;
  readonly #handshake: (socket: Socket) => Promise<SecureChannel>;
  readonly #onChannel: (channel: SecureChannel) => void;
  /** Every socket let in, with its address (as read on arrival), until it closes. */
  readonly #sockets = new Map<Socket, string>();
  /** One 'close' listener for all sockets, not a closure per connection (~0.1 KB each). */
  readonly #onSocketClose: (this: Socket) => void;
  readonly #perIp = new Map<string, number>();
  /** In order of arrival, so the first is the one that has had longest to finish. */
  readonly #handshaking = new Set<Socket>();
  readonly #established = new Set<Socket>();
  #closed = false;
  #allGone: (() => void) | undefined;

  constructor(deps: {
    limits: AdmissionLimits;
    log: HostLog;
    /** The host's side of the handshake on a socket that was let in. */
    handshake: (socket: Socket) => Promise<SecureChannel>;
    /** A handshake completed and there is room for its client. */
    onChannel: (channel: SecureChannel) => void;
  }) {
    this.#limits = deps.limits;
    this.#log = deps.log;
    this.#handshake = deps.handshake;
    this.#onChannel = deps.onChannel;
    const sockets = this.#sockets;
    const closed = (socket: Socket, ip: string): void => this.#closedSocket(socket, ip);
    this.#onSocketClose = function () {
      const ip = sockets.get(this);
      if (ip !== undefined) closed(this, ip);
    };
  }

  /** A new TCP connection: refused at once with a reason, or let into the handshake. */
  offer(socket: Socket): void {
    const ip = socket.remoteAddress ?? 'unknown';
    if (this.#closed) return refuseConnection(socket, 'shutdown', 'the host is shutting down');
    if (this.#established.size >= this.#limits.maxClients) {
      this.#log('warn', 'connection-refused', { ip, reason: 'full' });
      return refuseConnection(socket, 'full', 'the host is full; try again later');
    }
    const fromIp = this.#perIp.get(ip) ?? 0;
    if (fromIp >= this.#limits.maxClientsPerIp) {
      this.#log('warn', 'connection-refused', { ip, reason: 'per-ip-limit' });
      return refuseConnection(socket, 'busy', 'too many connections from your address');
    }
    if (this.#handshaking.size >= this.#limits.maxHandshakes) this.#evictOldestHandshake();
    this.#sockets.set(socket, ip);
    this.#handshaking.add(socket);
    this.#perIp.set(ip, fromIp + 1);
    socket.on('close', this.#onSocketClose);
    this.#handshake(socket).then(
      (channel) => {
        this.#handshaking.delete(socket);
        if (this.#established.size >= this.#limits.maxClients) {
          channel.close(CloseCode.full, 'the host is full; try again later');
          return;
        }
        this.#established.add(socket);
        this.#onChannel(channel);
      },
      (error: unknown) => {
        this.#handshaking.delete(socket);
        const code = error instanceof ProtocolError ? error.code : 'unknown';
        this.#log('debug', 'handshake-failed', { ip, code });
      },
    );
  }

  /** From now on every new connection is told the host is shutting down. */
  close(): void {
    this.#closed = true;
  }

  /** Waits until every connection has closed, or `graceMs` has passed; then cuts those left. */
  async drain(graceMs: number): Promise<void> {
    if (this.#sockets.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => this.#allGone?.(), graceMs);
        this.#allGone = () => {
          clearTimeout(timer);
          this.#allGone = undefined;
          resolve();
        };
      });
    }
    for (const socket of this.#sockets.keys()) socket.destroy();
  }

  /** The oldest handshake has had the longest to finish: a stalled one, under attack. */
  #evictOldestHandshake(): void {
    const oldest = this.#handshaking.values().next().value;
    if (!oldest) return;
    this.#handshaking.delete(oldest);
    oldest.destroy();
    this.#log('warn', 'handshake-evicted', { ip: oldest.remoteAddress ?? 'unknown' });
  }

  #closedSocket(socket: Socket, ip: string): void {
    this.#sockets.delete(socket);
    this.#handshaking.delete(socket);
    this.#established.delete(socket);
    const left = (this.#perIp.get(ip) ?? 1) - 1;
    if (left > 0) this.#perIp.set(ip, left);
    else this.#perIp.delete(ip);
    if (this.#sockets.size === 0) this.#allGone?.();
  }
}
