import type { ClientMessage, HostErrorCode, HostMessage } from '../protocol/wire/messages.ts';
import type { Deadlines } from './deadlines.ts';
import { HostMisbehaved } from './host-bounds.ts';

/** The membership requests (docs/protocol.md §11): each carries a `rid` its one answer echoes. */
export type MembershipRequest = Extract<ClientMessage, { rid: number }>;
export type MembershipRequestType = MembershipRequest['t'];
/** A request as the caller writes it: the rid is added here. */
export type RequestBody = MembershipRequest extends infer M
  ? M extends MembershipRequest
    ? Omit<M, 'rid'>
    : never
  : never;

/** What answers each request when it succeeds; an `error` with the same `rid` answers any. */
const ANSWERS = {
  redeem: 'redeemed',
  'invite-create': 'invite',
  'invite-list': 'invites',
  'invite-revoke': 'done',
  create: 'room',
  topic: 'done',
  'set-open': 'done',
  part: 'done',
  remove: 'done',
  unban: 'done',
  'set-role': 'done',
  dm: 'room',
  'kp-publish': 'done',
  'kp-claim': 'kps',
  commit: 'committed',
  'file-start': 'file-started',
  'file-end': 'done',
  'file-cancel': 'done',
  'file-get': 'file-data',
} as const satisfies Record<MembershipRequestType, HostMessage['t']>;

export type AnswerOf<T extends MembershipRequestType> = Extract<
  HostMessage,
  { t: (typeof ANSWERS)[T] }
>;
/** A host message that may answer a request. */
export type RequestAnswer = Extract<HostMessage, { rid?: number }>;

/** Requests in flight at once: a caller that never waits for answers must not grow the map. */
export const MAX_PENDING_REQUESTS = 100;

/**
 * Why a membership request failed: the host's `error` code (`forbidden`, `not-member`,
 * `invite-expired`, …) with its message, or a local reason: `offline` (not connected, nothing
 * was sent), `disconnected` (the connection ended before the answer; the request may or may
 * not have taken effect), `stopped`, `busy` (too many requests in flight).
 */
export class MembershipError extends Error {
  override readonly name = 'MembershipError';
  readonly code: HostErrorCode | 'offline' | 'disconnected' | 'stopped' | 'busy';
  /** With `rate-limited` or `internal`: when the host said a repeat may work. */
  readonly retryAfterMs: number | undefined;
  /** The host's `ref`: the room the refusal is about, when it says. */
  readonly ref: string | undefined;
  /** With `stale-epoch`: the room's current epoch. */
  readonly epoch: number | undefined;

  constructor(
    code: MembershipError['code'],
    message: string,
    details: {
      retryAfterMs?: number | undefined;
      ref?: string | undefined;
      epoch?: number | undefined;
    } = {},
  ) {
    super(message);
    this.code = code;
    this.retryAfterMs = details.retryAfterMs;
    this.ref = details.ref;
    this.epoch = details.epoch;
  }
}

interface Pending {
  readonly type: MembershipRequestType;
  /** For answers that name a room: the one asked about. */
  readonly room: string | undefined;
  readonly resolve: (answer: RequestAnswer) => void;
  readonly reject: (error: MembershipError) => void;
}

/**
 * Correlates membership requests with their answers by `rid`, each with a deadline (the
 * session's Deadlines: a host that never answers is treated like one that never ends a join).
 * An answer with a `rid` nobody is waiting for is ignored, like anything else the client did
 * not ask for; an answer of the wrong kind for a `rid` in flight is the host's fault.
 */
export class MembershipRequests {
  readonly #deadlines: Deadlines;
  readonly #timeoutMs: number;
  readonly #pending = new Map<number, Pending>();
  #nextRid = 1;

  constructor(deadlines: Deadlines, timeoutMs: number) {
    this.#deadlines = deadlines;
    this.#timeoutMs = timeoutMs;
  }

  get size(): number {
    return this.#pending.size;
  }

  /**
   * Gives `request` a rid and waits for its answer. `write` sends it; false (no connection)
   * rejects with `offline`.
   */
  start<R extends RequestBody>(
    request: R,
    write: (message: MembershipRequest) => boolean,
  ): Promise<AnswerOf<R['t']>> {
    return new Promise((resolve, reject) => this.send(request, write, resolve, reject));
  }

  /**
   * Like start, with callbacks called as the answer is handled (not a microtask later): what
   * they do happens before the host's next message is handled.
   */
  send<R extends RequestBody>(
    request: R,
    write: (message: MembershipRequest) => boolean,
    resolve: (answer: AnswerOf<R['t']>) => void,
    reject: (error: MembershipError) => void,
  ): void {
    if (this.#pending.size >= MAX_PENDING_REQUESTS) {
      reject(
        new MembershipError('busy', `${MAX_PENDING_REQUESTS} requests are waiting for the host`),
      );
      return;
    }
    const rid = this.#nextRid++;
    const message = { ...request, rid } as MembershipRequest;
    if (!write(message)) {
      reject(new MembershipError('offline', 'not connected to the host; nothing was sent'));
      return;
    }
    this.#pending.set(rid, {
      type: request.t,
      room: 'room' in message ? message.room : undefined,
      // answer() checked that its type is the one ANSWERS gives for this request.
      resolve: (answer) => resolve(answer as AnswerOf<R['t']>),
      reject,
    });
    this.#deadlines.set(`request:${rid}`, this.#timeoutMs, `answer a "${request.t}" request`);
  }

  /**
   * A host message carrying `rid`: settles its request. Returns false when no request with
   * that rid is waiting (the caller ignores the message's answer role). Throws HostMisbehaved
   * when the answer does not fit the request.
   */
  answer(message: RequestAnswer & { rid: number }): boolean {
    const pending = this.#pending.get(message.rid);
    if (!pending) return false;
    this.#pending.delete(message.rid);
    this.#deadlines.settle(`request:${message.rid}`);
    if (message.t === 'error') {
      const { retryAfterMs, ref, epoch } = message;
      pending.reject(
        new MembershipError(message.code, message.message, { retryAfterMs, ref, epoch }),
      );
      return true;
    }
    const expected = ANSWERS[pending.type];
    const room = answerRoom(message);
    if (message.t !== expected || (pending.room && room && room !== pending.room)) {
      pending.reject(new MembershipError('disconnected', 'the host answered something else'));
      throw new HostMisbehaved(
        'protocol-error',
        `the host answered a "${pending.type}" request with a "${message.t}"` +
          (message.t === expected ? ' about another room' : ''),
      );
    }
    pending.resolve(message);
    return true;
  }

  /** Every request in flight fails with `error` (the connection ended, or the session stopped). */
  failAll(error: MembershipError): void {
    const pending = [...this.#pending.values()];
    for (const rid of this.#pending.keys()) this.#deadlines.settle(`request:${rid}`);
    this.#pending.clear();
    for (const request of pending) request.reject(error);
  }
}

function answerRoom(message: RequestAnswer): string | undefined {
  switch (message.t) {
    case 'invite':
      return message.invite.room;
    case 'invites':
      return message.room;
    case 'room':
      return message.info.room;
    case 'kps':
    case 'committed':
      return message.room;
    default:
      return undefined;
  }
}
