import { encodeBase64Url } from '../../src-shared/base64url.ts';
import { fingerprint } from '../protocol/node-fingerprint.ts';
import { MAX_ITEM_LEN } from '../protocol/records.ts';
import type { SecureChannel } from '../protocol/secure-channel.ts';
import { encodeMessage } from '../protocol/wire/codec.ts';
import { CloseCode } from '../protocol/wire/constants.ts';
import type { HostMessage, Member } from '../protocol/wire/messages.ts';
import type { HostLimits } from './host-limits.ts';
import type { KeyBudget } from './key-budgets.ts';
import { SendLimiter } from './send-limiter.ts';
import { TokenBucket } from './token-bucket.ts';

let nextId = 1;

/** What a connection needs of its channel: a SecureChannel, or a test's recording fake. */
export type ClientChannel = Pick<
  SecureChannel,
  'remoteStaticKey' | 'remoteAddress' | 'closed' | 'bufferedBytes' | 'send' | 'close' | 'destroy'
>;

/**
 * One authenticated connection as the host sees it: who it is, where it is, what it may still
 * do. Its allowances are objects of their own; liveness belongs to the idle sweep.
 */
export class ConnectedClient {
  readonly id = nextId++;
  readonly channel: ClientChannel;
  readonly key: Uint8Array;
  readonly keyText: string;
  readonly fingerprint: string;
  readonly ip: string;
  nick: string;
  readonly rooms = new Set<string>();
  /** Rooms this connection has joined at some time: joining one again spends the budget. */
  readonly joinedBefore = new Set<string>();
  /**
   * Rooms the key was removed from while this connection was in them: a send of this turn still
   * waiting for its commit is refused, not stored after the removal.
   */
  readonly removedFrom = new Set<string>();
  /** The key's allowances, shared by its connections and kept across reconnects. */
  readonly budget: KeyBudget;
  /** All requests of this connection: beyond it, the connection is closed for flooding. */
  readonly requestBucket: TokenBucket;
  /** `file-chunk` and `file-get` (docs/protocol.md §13): beyond it, closed for flooding too. */
  readonly chunkBucket: TokenBucket;
  /** Chat sends: the key's message bucket, and this connection's refusals in a row. */
  readonly sendLimiter: SendLimiter;
  readonly typingSentAt = new Map<string, number>();
  /** The MLS device its hello named (docs/protocol.md §12); without one, no E2EE room. */
  device: string | undefined;
  /**
   * The end-to-end encrypted rooms among those it joined (a room never changes whether it is),
   * so a send is checked against it without a read.
   */
  readonly e2eeRooms = new Set<string>();
  readonly #maxQueueBytes: number;

  constructor(
    channel: ClientChannel,
    nick: string,
    limits: HostLimits,
    now: number,
    budget: KeyBudget,
  ) {
    this.channel = channel;
    this.key = channel.remoteStaticKey;
    this.keyText = encodeBase64Url(this.key);
    this.fingerprint = fingerprint(this.key);
    this.ip = channel.remoteAddress ?? 'unknown';
    this.nick = nick;
    this.budget = budget;
    this.requestBucket = new TokenBucket(limits.requestBurst, limits.requestsPerSecond, now);
    this.chunkBucket = new TokenBucket(limits.chunkBurst, limits.chunksPerSecond, now);
    this.sendLimiter = new SendLimiter(budget, limits.floodStrikes);
    this.#maxQueueBytes = limits.maxQueueBytes;
  }

  get member(): Member {
    return { nick: this.nick, fp: this.fingerprint, key: this.keyText };
  }

  get open(): boolean {
    return !this.channel.closed;
  }

  /**
   * Queues bytes already encoded (a fan-out encodes once for every recipient). A client whose
   * backlog would pass the bound is dropped, so one slow reader never makes the host buffer
   * without limit or hold back a room. The backlog is what waits for the reader: output held
   * for the host's disk is not counted (a slow disk drops no one; the durability gate bounds
   * it by pausing every client's input instead). Never throws: an item too large for a record
   * is not sent (the request handler checks and logs what it produces; this is the last guard).
   */
  deliver(bytes: Uint8Array): boolean {
    if (this.channel.closed || bytes.length > MAX_ITEM_LEN) return false;
    if (this.channel.bufferedBytes + bytes.length > this.#maxQueueBytes) {
      this.channel.close(
        CloseCode.slowReader,
        'you were not reading fast enough; reconnect to catch up',
        {
          discardPending: true,
        },
      );
      return false;
    }
    return this.channel.send(bytes);
  }

  send(message: HostMessage): boolean {
    return this.deliver(encodeMessage(message));
  }
}
