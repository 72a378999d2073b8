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
const NO_ROOMS: ReadonlySet<string> = new Set();

/**
 * The key as unpadded base64url (the same text as src-shared's encodeBase64Url), as one flat
 * string: encodeBase64Url builds it by concatenation, a rope of ~10 strings (~0.4 KB) that V8
 * keeps as such in every map it is a key of, for as long as the connection lives.
 */
export function keyTextOf(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('base64url');
}

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
  // The collections below are made when first needed (an idle connection needs none of them:
  // an empty Set is ~0.15 KB, a Map ~0.19 KB); until then their readers see an empty one.
  /** Rooms this connection joined and then left (see joinedBefore). */
  #left: Set<string> | undefined;
  #removedFrom: Set<string> | undefined;
  /** The key's allowances, shared by its connections and kept across reconnects. */
  readonly budget: KeyBudget;
  /** All requests of this connection: beyond it, the connection is closed for flooding. */
  readonly requestBucket: TokenBucket;
  // Made at first use, as the key's budgets are (key-budgets.ts): a full bucket made later is
  // the same bucket; a limiter is only state after its first send.
  #chunkBucket: TokenBucket | undefined;
  #sendLimiter: SendLimiter | undefined;
  readonly #limits: HostLimits;
  readonly #since: number;
  #typingSentAt: Map<string, number> | undefined;
  /** The MLS device its hello named (docs/protocol.md §12); without one, no E2EE room. */
  device: string | undefined;
  #e2eeRooms: Set<string> | undefined;
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
    this.keyText = keyTextOf(this.key);
    this.fingerprint = fingerprint(this.key);
    this.ip = channel.remoteAddress ?? 'unknown';
    this.nick = nick;
    this.budget = budget;
    this.requestBucket = new TokenBucket(limits.requestBurst, limits.requestsPerSecond, now);
    this.#limits = limits;
    this.#since = now;
    this.#maxQueueBytes = limits.maxQueueBytes;
  }

  /** `file-chunk` and `file-get` (docs/protocol.md §13): beyond it, closed for flooding too. */
  get chunkBucket(): TokenBucket {
    const l = this.#limits;
    return (this.#chunkBucket ??= new TokenBucket(l.chunkBurst, l.chunksPerSecond, this.#since));
  }

  /** Chat sends: the key's message bucket, and this connection's refusals in a row. */
  get sendLimiter(): SendLimiter {
    return (this.#sendLimiter ??= new SendLimiter(this.budget, this.#limits.floodStrikes));
  }

  /**
   * Whether this connection has joined the room at some time (it is in it, or was): joining
   * one again spends the budget.
   */
  joinedBefore(room: string): boolean {
    return this.rooms.has(room) || this.#left?.has(room) === true;
  }

  /** The room registry took this connection out of the room. */
  noteLeft(room: string): void {
    (this.#left ??= new Set()).add(room);
  }

  /**
   * Rooms the key was removed from while this connection was in them: a send of this turn still
   * waiting for its commit is refused, not stored after the removal.
   */
  get removedFrom(): ReadonlySet<string> {
    return this.#removedFrom ?? NO_ROOMS;
  }

  noteRemovedFrom(room: string): void {
    (this.#removedFrom ??= new Set()).add(room);
  }

  /** Joined again after a removal. */
  forgetRemovedFrom(room: string): void {
    this.#removedFrom?.delete(room);
  }

  /**
   * The end-to-end encrypted rooms among those it joined (a room never changes whether it is),
   * so a send is checked against it without a read.
   */
  get e2eeRooms(): ReadonlySet<string> {
    return this.#e2eeRooms ?? NO_ROOMS;
  }

  noteE2eeRoom(room: string): void {
    (this.#e2eeRooms ??= new Set()).add(room);
  }

  /** When this connection last told the room it was typing (host clock), if it did. */
  typingSentAt(room: string): number | undefined {
    return this.#typingSentAt?.get(room);
  }

  noteTyping(room: string, now: number): void {
    (this.#typingSentAt ??= new Map()).set(room, now);
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
