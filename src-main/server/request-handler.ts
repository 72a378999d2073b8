import { MAX_ITEM_LEN } from '../protocol/records.ts';
import { WireError, decodeMessage, encodeMessage, utf8Length } from '../protocol/wire/codec.ts';
import { CloseCode } from '../protocol/wire/constants.ts';
import { hostSchemas } from '../protocol/wire/host-schemas-loader.ts';
import type {
  ChatMessage,
  ClientMessage,
  HostErrorCode,
  HostMessage,
  Member,
} from '../protocol/wire/messages.ts';
import { AddressBudgets } from './address-budgets.ts';
import { CommitQueue, type PendingSend } from './commit-queue.ts';
import type { ConnectedClient } from './connected-client.ts';
import type { AppendResult, HostDatabase, StoredMessage } from './host-database.ts';
import type { HostLimits } from './host-limits.ts';
import type { HostLog } from './host-log.ts';
import type { BudgetKind } from './key-budgets.ts';
import { KeyConnections } from './key-connections.ts';
import { MembershipHandler, refusalOf } from './membership-handler.ts';
import { type HostMlsChecks, MlsGate } from './mls-gate.ts';
import { MlsHandler, fitsItem } from './mls-handler.ts';
import type { StoredWelcome } from './host-database.ts';
import type { RoomRecord } from './room-store.ts';
import type { NicknameRegistry } from './nickname-registry.ts';
import { PresenceQueue } from './presence-queue.ts';
import type { RoomRegistry } from './room-registry.ts';
import { type Fanout, LocalFanout } from './fanout.ts';
import { failureFields } from './failure-fields.ts';
import { FileHandler } from './file-handler.ts';
import { eventTextBytes, relationRefusal, sendBody } from './send-checks.ts';
import type { ChatEvent, Relation } from '../protocol/wire/chat-event.ts';
import { TimelineItems } from './timeline-items.ts';

const MEMBERS_PER_PAGE = 200;
/** After a storage fault, when a client should try again. */
const STORAGE_RETRY_MS = 1000;
/**
 * A `msg` costs at most this much besides its text: the other fields at their longest (a room
 * of 64, an id of 64, a nickname of 32 astral letters, seq and ts of 16 digits, `history`).
 */
const MSG_ENVELOPE_BYTES = 1024;
/** JSON writes one UTF-16 unit as at most 6 bytes (`\u001b`, or 3 UTF-8 bytes). */
const MAX_JSON_BYTES_PER_UNIT = 6;
/**
 * Requests of one connection held while the MLS library loads (a fraction of a second): the
 * request bucket bounds them long before this does.
 */
const MAX_HELD_REQUESTS = 1000;

/** The MLS library is not there: every MLS request is refused (and the load tried again). */
const NO_MLS = (): Promise<HostMlsChecks> =>
  Promise.reject(new Error('this host has no MLS support'));

/**
 * Everything a connected client may ask of the host, one method per request type; membership
 * requests (those with a `rid`) and who may see which room are the membership handler's.
 */
export class RequestHandler {
  readonly #rooms: RoomRegistry;
  readonly #db: HostDatabase;
  readonly #nicknames: NicknameRegistry;
  readonly #limits: HostLimits;
  readonly #log: HostLog;
  readonly #now: () => number;
  readonly #commits: CommitQueue<ConnectedClient>;
  readonly #presence: PresenceQueue;
  readonly #timeline: TimelineItems;
  /** Every open connection of each key: a nickname is the key's, not one connection's. */
  readonly #byKey = new KeyConnections();
  /** Every delivery to connections other than the requester's (fanout.ts). */
  readonly #fanout: Fanout;
  readonly #membership: MembershipHandler;
  readonly #mls: MlsHandler;
  readonly #gate: MlsGate;
  readonly #files: FileHandler;
  /**
   * Connections whose requests wait for the MLS library, each in arrival order: once one
   * request needs it, the connection's later requests wait behind it, so none overtakes.
   */
  readonly #held = new Map<ConnectedClient, ClientMessage[]>();
  readonly #onClientFailure: (client: ConnectedClient, error: unknown) => void;
  readonly #serialize: (work: () => void) => void;

  constructor(deps: {
    rooms: RoomRegistry;
    db: HostDatabase;
    nicknames: NicknameRegistry;
    limits: HostLimits;
    log: HostLog;
    now: () => number;
    /** One connection's request failed unexpectedly: it is ended, nobody else is. */
    onClientFailure: (client: ConnectedClient, error: unknown) => void;
    /** A room was opened, closed or created open (host info names the open rooms). */
    openRoomsChanged?: () => void;
    /**
     * Rooms created by `create` (not open) and DMs are end-to-end encrypted (docs/protocol.md
     * §12). Default false: `parley --serve` passes true unless `--no-e2ee`.
     */
    e2ee?: boolean;
    /** Loads the MLS checks on first use; default: none (every MLS request is refused). */
    mlsChecks?: () => Promise<HostMlsChecks>;
    /**
     * The fan-out to use, given this process's own: a cluster node wraps it to record each
     * delivery for the other nodes. Default: the local one as it is.
     */
    fanout?: (local: LocalFanout) => Fanout;
    /**
     * Runs database work that resumes after a promise (the MLS library loaded, a KeyPackage
     * checked); a cluster node queues it for its next turn (cluster/cluster-turns.ts). Default:
     * at once.
     */
    serialize?: (work: () => void) => void;
  }) {
    this.#rooms = deps.rooms;
    this.#db = deps.db;
    this.#nicknames = deps.nicknames;
    this.#limits = deps.limits;
    this.#log = deps.log;
    this.#now = deps.now;
    this.#onClientFailure = deps.onClientFailure;
    this.#serialize = deps.serialize ?? ((work) => work());
    const local = new LocalFanout(deps.rooms, this.#byKey, () => deps.db.rooms);
    this.#fanout = deps.fanout ? deps.fanout(local) : local;
    this.#commits = new CommitQueue(
      deps.db,
      (sends, results) => this.#committed(sends, results),
      (sends, error) => this.#commitFailed(sends, error),
      (send) => this.#stillIn(send),
    );
    this.#presence = new PresenceQueue(this.#fanout, (error) =>
      this.#log('error', 'presence-failed', failureFields(error)),
    );
    this.#timeline = new TimelineItems(deps.log);
    const limits = deps.limits;
    this.#membership = new MembershipHandler({
      db: deps.db,
      fanout: this.#fanout,
      connections: this.#byKey,
      presence: this.#presence,
      timeline: this.#timeline,
      addresses: new AddressBudgets(
        limits.addressRedeemFailureBurst,
        limits.addressRedeemFailuresPerMinute / 60,
      ),
      log: deps.log,
      now: deps.now,
      openRoomsChanged: deps.openRoomsChanged ?? (() => {}),
      openRoomMembers: limits.openRoomMembers,
      e2ee: deps.e2ee ?? false,
    });
    this.#gate = new MlsGate(deps.mlsChecks ?? NO_MLS);
    this.#files = new FileHandler({
      db: deps.db,
      limits,
      log: deps.log,
      now: deps.now,
      canSee: (client, room) => this.#membership.seen(client, room) !== undefined,
      onClientFailure: deps.onClientFailure,
    });
    this.#mls = new MlsHandler({
      db: deps.db,
      fanout: this.#fanout,
      membership: this.#membership,
      timeline: this.#timeline,
      log: deps.log,
      now: deps.now,
      enqueue: (client, message, rid) => this.#commits.enqueue(client, message, rid),
      onClientFailure: deps.onClientFailure,
      ...(deps.serialize ? { serialize: deps.serialize } : {}),
    });
  }

  /** Commits anything pending now and tells presence: on shutdown, before the database closes. */
  flush(): void {
    this.#files.flush();
    this.#commits.flush();
    this.#presence.flush();
  }

  handle(client: ConnectedClient, bytes: Uint8Array): void {
    const now = this.#now();
    let request: ClientMessage;
    try {
      request = decodeMessage(hostSchemas().ClientMessage, bytes);
    } catch (error) {
      const reason = error instanceof WireError ? error.message : 'unreadable request';
      this.#log('info', 'client-protocol-error', { fp: client.fingerprint, reason });
      client.channel.close(CloseCode.protocolError, reason);
      return;
    }
    // A file's chunks (up and down) have a bucket of their own: a file is many small requests,
    // each waiting for its answer, and must not use up what chat needs (docs/protocol.md §10).
    const bucket = isChunkRequest(request) ? client.chunkBucket : client.requestBucket;
    if (!bucket.take(now)) {
      this.#log('warn', 'client-flooding', { fp: client.fingerprint, ip: client.ip });
      client.channel.close(CloseCode.flooding, 'too many requests; slow down', {
        discardPending: true,
      });
      return;
    }
    if (this.#held.has(client) || (needsMls(request) && !this.#gate.ready)) {
      this.#hold(client, request);
      return;
    }
    this.#dispatch(client, request, now);
  }

  #dispatch(client: ConnectedClient, request: ClientMessage, now: number): void {
    switch (request.t) {
      case 'join':
        // A connection's first join of a room is free (a reconnect joins them all again);
        // coming back after a leave is what toggling costs.
        if (client.joinedBefore(request.room)) {
          if (!this.#spend(client, 'membership', now, request.room)) return;
        }
        return this.#join(client, request.room);
      case 'leave':
        if (!this.#spend(client, 'membership', now, request.room)) return;
        return this.#leave(client, request.room, 'left');
      case 'send':
        return this.#sendRequest(client, request, now);
      case 'typing':
        return this.#typing(client, request.room, now);
      case 'nick':
        if (!this.#spend(client, 'renames', now, request.nick)) return;
        return this.#nick(client, request.nick);
      case 'history':
        if (!this.#spend(client, 'historyPages', now, request.room)) return;
        return this.#history(client, request.room, request.before, request.limit);
      case 'ping':
        client.send({ t: 'pong', n: request.n });
        return;
      case 'pong':
        return;
      case 'kp-publish':
      case 'kp-claim':
      case 'commit':
        return this.#mls.handle(client, request, this.#gate.ready, now);
      case 'file-start':
      case 'file-chunk':
      case 'file-end':
      case 'file-cancel':
      case 'file-get':
        return this.#files.handle(client, request, now);
      default:
        return this.#membership.handle(client, request, now);
    }
  }

  /** Holds the request until the MLS library is loaded (see #held). */
  #hold(client: ConnectedClient, request: ClientMessage): void {
    let queue = this.#held.get(client);
    if (!queue) {
      queue = [];
      this.#held.set(client, queue);
      this.#gate.load().then(
        () => this.#serialize(() => this.#release()),
        (error: unknown) => {
          this.#log('error', 'mls-unavailable', failureFields(error));
          this.#serialize(() => this.#release());
        },
      );
    }
    if (queue.length >= MAX_HELD_REQUESTS) {
      this.#held.delete(client);
      client.channel.close(CloseCode.flooding, 'too many requests; slow down', {
        discardPending: true,
      });
      return;
    }
    queue.push(request);
  }

  /** The MLS library loaded (or failed to): held requests go on, in order, each connection's. */
  #release(): void {
    const held = [...this.#held];
    this.#held.clear();
    for (const [client, requests] of held) {
      for (const request of requests) {
        if (!client.open) break;
        try {
          this.#dispatch(client, request, this.#now());
        } catch (error) {
          this.#onClientFailure(client, error);
          break;
        }
      }
    }
  }

  /** Its `welcome` is being sent: how many KeyPackages the host holds for its device. */
  keyPackagesFor(client: ConnectedClient): number | undefined {
    return this.#mls.keyPackagesFor(client);
  }

  /** A connection was welcomed. */
  connected(client: ConnectedClient): void {
    this.#byKey.add(client);
  }

  /** Its `welcome` was sent: the key's rooms follow (docs/protocol.md §11.3). */
  welcomed(client: ConnectedClient): void {
    this.#membership.welcomed(client);
  }

  /** A connection ended: everyone in its rooms sees it go (`left` after a goodbye). */
  disconnected(client: ConnectedClient, event: 'left' | 'disconnected'): void {
    this.#byKey.delete(client);
    this.#held.delete(client);
    this.#files.disconnected(client);
    for (const room of [...client.rooms]) this.#leave(client, room, event);
  }

  /**
   * A request about a room this connection is not in: the room it may not see is answered as
   * one that does not exist, the one it may see with `not-in-room` (when `notIn` is given).
   */
  #notIn(client: ConnectedClient, room: string, ref: string, notIn?: string): void {
    let visible: boolean;
    try {
      visible = this.#membership.seen(client, room) !== undefined;
    } catch (error) {
      this.#storageFailed(client, 'room', error);
      this.#refuse(client, 'internal', 'the host could not read this room; try again', ref, {
        retryAfterMs: STORAGE_RETRY_MS,
      });
      return;
    }
    if (!visible) {
      this.#refuse(client, 'unknown-room', MembershipHandler.unknownRoom(room), ref);
    } else if (notIn !== undefined) {
      this.#refuse(client, 'not-in-room', notIn, ref);
    }
  }

  /** A send waiting for its commit is dropped if its sender was removed from the room meanwhile. */
  #stillIn(send: PendingSend<ConnectedClient>): boolean {
    if (!send.origin.removedFrom.has(send.message.room)) return true;
    if (send.message.commit) {
      send.origin.send({
        t: 'error',
        code: 'unknown-room',
        message: MembershipHandler.unknownRoom(send.message.room),
        rid: send.rid ?? 0,
        ref: send.message.room,
      });
      return false;
    }
    this.#refuse(
      send.origin,
      'unknown-room',
      MembershipHandler.unknownRoom(send.message.room),
      send.message.clientMsgId,
    );
    return false;
  }

  /**
   * Takes one unit of the key's budget for this kind of request, or refuses the request with
   * `rate-limited` and when to try again. The refusal is counted, and costs nobody else.
   */
  #spend(client: ConnectedClient, kind: BudgetKind, now: number, ref: string): boolean {
    const bucket = client.budget[kind];
    if (bucket.take(now)) return true;
    client.budget.refused[kind]++;
    this.#log('debug', 'budget-refused', { fp: client.fingerprint, kind });
    this.#refuse(client, 'rate-limited', `too many ${BUDGET_WORDS[kind]}; wait a moment`, ref, {
      retryAfterMs: Math.max(1, bucket.waitMs(now)),
    });
    return false;
  }

  #refuse(
    client: ConnectedClient,
    code: HostErrorCode,
    message: string,
    ref: string,
    extra: { retryAfterMs?: number; epoch?: number } = {},
  ): void {
    client.send({ t: 'error', code, message, ref, ...extra });
  }

  #join(client: ConnectedClient, room: string): void {
    // History is read before the client joins: if the store cannot answer, nothing changed.
    let recent: StoredMessage[];
    let members: Member[];
    let record: RoomRecord | undefined;
    let welcome: StoredWelcome | undefined;
    try {
      // A member may join; joining an open room makes one; any other room does not exist.
      this.#membership.admit(client, room);
      record = this.#db.rooms.room(room);
      welcome = record?.e2ee ? this.#mls.welcomeFor(client, room) : undefined;
      recent = this.#db.recentMessages(room, this.#limits.historyOnJoin);
      members = this.#membership.members(room);
    } catch (error) {
      const refusal = refusalOf(error);
      if (refusal) {
        this.#refuse(client, refusal.code, refusal.message, room);
        return;
      }
      this.#storageFailed(client, 'join', error);
      this.#refuse(client, 'internal', 'the host could not read this room; try again', room, {
        retryAfterMs: STORAGE_RETRY_MS,
      });
      return;
    }
    this.#presence.flushRoom(room, client.keyText);
    client.forgetRemovedFrom(room);
    const first = this.#rooms.join(room, client);
    // This key is online now, whichever connection the store's listing was read for.
    for (const member of members) if (member.key === client.keyText) member.online = true;
    if (record?.e2ee) {
      client.noteE2eeRoom(room);
      client.send({ t: 'joined', room, epoch: record.mlsEpoch });
      // Before the replay: the device joins the group first, then reads what follows its seq.
      if (welcome) client.send({ t: 'mls-welcome', room, seq: welcome.seq, data: welcome.data });
    } else {
      client.send({ t: 'joined', room });
    }
    for (let i = 0; i < members.length || i === 0; i += MEMBERS_PER_PAGE) {
      const last = i + MEMBERS_PER_PAGE >= members.length;
      client.send({ t: 'members', room, members: members.slice(i, i + MEMBERS_PER_PAGE), last });
    }
    for (const stored of recent) this.#deliverHistory(client, stored);
    client.send({ t: 'synced', room });
    if (first && !this.#fanout.presentElsewhere(room, client.keyText)) {
      this.#presence.arrived(room, client.member);
    }
  }

  #leave(client: ConnectedClient, room: string, event: 'left' | 'disconnected'): void {
    if (!client.rooms.has(room)) {
      if (event === 'left') this.#notIn(client, room, room, `you are not in "${room}"`);
      return;
    }
    const last = this.#rooms.leave(room, client);
    if (event === 'left' && client.open) client.send({ t: 'left', room });
    if (last && !this.#fanout.presentElsewhere(room, client.keyText)) {
      this.#presence.departed(room, client.member, event);
    }
  }

  /**
   * A send: `text` or `ev` to a room that is not end-to-end encrypted, `mls` (a PrivateMessage)
   * to one that is (docs/protocol.md §12, §13); whichever does not fit the room is
   * `e2ee-mismatch`. Its `rel` and `file` are checked when it is stored (message-relations.ts).
   */
  #sendRequest(
    client: ConnectedClient,
    request: Extract<ClientMessage, { t: 'send' }>,
    now: number,
  ): void {
    const { room, id } = request;
    const body = sendBody(request);
    if (body.kind === 'bad') {
      this.#refuse(client, 'bad-request', body.reason, id);
      return;
    }
    if (!client.rooms.has(room)) {
      this.#notIn(client, room, id, `join "${room}" before writing there`);
      return;
    }
    const related = {
      ...(request.rel === undefined ? {} : { rel: request.rel }),
      ...(request.file === undefined ? {} : { file: request.file }),
    };
    if (body.kind === 'mls') {
      this.#sendMls(client, { room, id, mls: body.mls, epoch: request.epoch, ...related }, now);
      return;
    }
    if (client.e2eeRooms.has(room)) {
      this.#refuse(client, 'e2ee-mismatch', `"${room}" is end-to-end encrypted`, id);
      return;
    }
    const mismatch = relationRefusal(request, body);
    if (mismatch !== undefined) {
      this.#refuse(client, 'bad-request', mismatch, id);
      return;
    }
    if (body.kind === 'text') this.#send(client, { room, id, text: body.text }, now);
    else this.#send(client, { room, id, text: '', ev: body.ev, ...related }, now);
  }

  /**
   * An end-to-end encrypted room's message (wire v5): relayed as the sender wrote it, never
   * decoded — the schema bounds its length and charset, and the epoch the sender states is
   * checked against the room's in the transaction that stores it. A stated epoch that does not
   * match the ciphertext's own header costs only its sender: every member decrypts by the real
   * header and shows the message as one that failed (docs/protocol.md §12.1).
   */
  #sendMls(
    client: ConnectedClient,
    request: { room: string; id: string; mls: string; epoch: number | undefined } & Related,
    now: number,
  ): void {
    const { room, id, epoch } = request;
    if (!client.e2eeRooms.has(room)) {
      this.#refuse(client, 'e2ee-mismatch', `"${room}" is not end-to-end encrypted`, id);
      return;
    }
    if (client.device === undefined) {
      this.#refuse(client, 'no-device', 'this connection named no device in its hello', id);
      return;
    }
    if (epoch === undefined) {
      this.#refuse(client, 'bad-request', 'an MLS message states the epoch it was sealed at', id);
      return;
    }
    if (!fitsItem(client, room, request.mls)) {
      this.#refuse(client, 'text-too-long', 'this message is too large for one item', id);
      return;
    }
    if (!this.#mayWrite(client, id, now)) return;
    // The epoch is checked where the commits are ordered: in the transaction that stores it.
    this.#commits.enqueue(client, {
      room,
      senderKey: client.key,
      nick: client.nick,
      text: '',
      clientMsgId: id,
      sentAt: now,
      // No group id: the host never read the header that names it; the epoch is what orders.
      mls: { data: request.mls, epoch },
      ...(request.rel === undefined ? {} : { rel: request.rel }),
      ...(request.file === undefined ? {} : { file: request.file }),
    });
  }

  /** A plaintext room's message: a bare line (`text`), or any other event (`ev`, §13). */
  #send(client: ConnectedClient, request: PlainSend, now: number): void {
    const bytes = request.ev ? eventTextBytes(request.ev) : utf8Length(request.text);
    if (bytes > this.#limits.maxTextBytes) {
      this.#refuse(
        client,
        'text-too-long',
        `a message holds at most ${this.#limits.maxTextBytes} bytes`,
        request.id,
      );
      return;
    }
    if (!this.#fitsOneItem(client, request)) {
      this.#refuse(
        client,
        'text-too-long',
        'this text takes too much room once escaped for sending (control characters count ' +
          'six bytes each); shorten it',
        request.id,
      );
      return;
    }
    if (!this.#mayWrite(client, request.id, now)) return;
    this.#commits.enqueue(client, {
      room: request.room,
      senderKey: client.key,
      nick: client.nick,
      text: request.text,
      clientMsgId: request.id,
      sentAt: now,
      ...(request.ev === undefined ? {} : { ev: request.ev }),
      ...(request.rel === undefined ? {} : { rel: request.rel }),
      ...(request.file === undefined ? {} : { file: request.file }),
    });
  }

  /** The key's message budget: a send beyond it is refused, and a flood ends the connection. */
  #mayWrite(client: ConnectedClient, id: string, now: number): boolean {
    const verdict = client.sendLimiter.take(now);
    if (verdict === 'flooding') {
      this.#log('warn', 'client-flooding', { fp: client.fingerprint, ip: client.ip });
      client.channel.close(CloseCode.flooding, 'too many messages after being told to slow down', {
        discardPending: true,
      });
      return false;
    }
    if (verdict === 'refused') {
      this.#refuse(client, 'rate-limited', 'you are sending too fast', id, {
        retryAfterMs: client.sendLimiter.retryAfterMs(now),
      });
      return false;
    }
    return true;
  }

  /**
   * Whether the `msg` this send becomes fits one record item for every recipient, at its
   * largest (any seq and ts, marked as history). Checked before anything is stored: a message
   * that could never be delivered must not be acknowledged, nor replayed to every joiner.
   */
  #fitsOneItem(client: ConnectedClient, request: PlainSend) {
    if (
      request.ev === undefined &&
      request.text.length * MAX_JSON_BYTES_PER_UNIT + MSG_ENVELOPE_BYTES <= MAX_ITEM_LEN
    ) {
      return true; // cannot exceed it, whatever the characters: skip the encoding
    }
    const largest: ChatMessage = {
      t: 'msg',
      room: request.room,
      seq: Number.MAX_SAFE_INTEGER,
      id: request.id,
      from: client.nick,
      key: client.keyText,
      ...(request.ev === undefined ? { text: request.text } : { ev: request.ev }),
      ...(request.rel === undefined ? {} : { rel: request.rel }),
      ...(request.file === undefined ? {} : { file: request.file }),
      ts: Number.MAX_SAFE_INTEGER,
      history: true,
    };
    return encodeMessage(largest).length <= MAX_ITEM_LEN;
  }

  #committed(sends: PendingSend<ConnectedClient>[], results: AppendResult[]): void {
    sends.forEach((send, i) => {
      const result = results[i];
      if (!result) return;
      // Each send on its own: a failure delivering one costs no other sender its ack.
      try {
        if (send.message.commit) {
          this.#mls.committed(send, result);
          return;
        }
        if (result.refused !== undefined) {
          // An edit, deletion or file the host does not allow (docs/protocol.md §13).
          this.#refuse(
            send.origin,
            result.refused.code,
            result.refused.message,
            send.message.clientMsgId,
          );
          return;
        }
        if (result.staleEpoch !== undefined) {
          this.#refuse(
            send.origin,
            'stale-epoch',
            "the room's group has moved on; encrypt it again for the current epoch",
            send.message.clientMsgId,
            { epoch: result.staleEpoch },
          );
          return;
        }
        const stored = result.message;
        if (!result.duplicate) {
          // Encoded once, queued for every recipient; the sender gets an ack instead of an echo.
          const bytes = this.#timeline.encode(stored, false, send.origin.keyText);
          if (bytes) this.#fanout.toRoom(stored.room, bytes, send.origin);
        }
        send.origin.send({
          t: 'ack',
          room: stored.room,
          id: stored.clientMsgId,
          seq: stored.seq,
          ts: stored.sentAt,
          ...(result.duplicate ? { duplicate: true } : {}),
        });
      } catch (error) {
        this.#onClientFailure(send.origin, error);
      }
    });
  }

  #commitFailed(sends: PendingSend<ConnectedClient>[], error: unknown): void {
    this.#log('error', 'history-write-failed', {
      messages: sends.length,
      ...failureFields(error),
    });
    for (const send of sends) {
      if (send.message.commit) {
        this.#mls.commitFailed(send);
        continue;
      }
      // Not acknowledged, so the client keeps it and resends: nothing acknowledged is lost.
      this.#refuse(
        send.origin,
        'internal',
        'the host could not store this message; it will be resent',
        send.message.clientMsgId,
        { retryAfterMs: STORAGE_RETRY_MS },
      );
    }
  }

  #typing(client: ConnectedClient, room: string, now: number): void {
    if (!client.rooms.has(room)) return;
    const last = client.typingSentAt(room) ?? -Infinity;
    if (now - last < this.#limits.typingIntervalMs) return; // quietly: typing is best-effort
    if (!client.budget.typing.take(now)) {
      client.budget.refused.typing++;
      return;
    }
    client.noteTyping(room, now);
    this.#fanout.toRoom(
      room,
      encodeMessage({ t: 'typing', room, nick: client.nick, fp: client.fingerprint }),
      client,
    );
  }

  #nick(client: ConnectedClient, nick: string): void {
    if (nick === client.nick) {
      client.send({ t: 'nick', nick });
      return;
    }
    this.#nicknames.claim(nick, client.key, (outcome) => {
      // Answered after the turn's commit, outside handle()'s boundary: this is its own.
      try {
        if (!client.open) return;
        if (outcome === 'taken') {
          this.#refuse(client, 'nick-taken', `"${nick}" belongs to another key on this host`, nick);
        } else if (outcome === 'failed') {
          this.#refuse(
            client,
            'internal',
            'the host could not save your nickname; try again',
            nick,
            {
              retryAfterMs: STORAGE_RETRY_MS,
            },
          );
        } else {
          this.#renamed(client, nick);
        }
      } catch (error) {
        this.#onClientFailure(client, error);
      }
    });
  }

  /**
   * A nickname belongs to the key, so every connection of the key takes it (and is told), and
   * each room any of them is in hears of it once: otherwise members who joined later would be
   * shown the old name of whichever connection the host happened to list first.
   */
  #renamed(client: ConnectedClient, nick: string): void {
    // A join still pending names the old nick: it must reach the room before the rename does.
    this.#presence.flush();
    const old = client.member;
    // The rooms this host's connections of the key are in, in the order they were listed, and
    // those it is in only through a cluster's other nodes.
    const rooms = new Set<string>();
    for (const connection of this.#connectionsOf(client)) {
      for (const room of connection.rooms) rooms.add(room);
    }
    for (const room of this.#fanout.roomsElsewhere(client.keyText)) rooms.add(room);
    client.nick = nick;
    client.send({ t: 'nick', nick });
    this.#fanout.renameKey(client.keyText, nick, client);
    this.#membership.renamed(client);
    for (const room of rooms) {
      const presence: HostMessage = {
        t: 'presence',
        room,
        event: 'renamed',
        ...old,
        newNick: nick,
      };
      this.#fanout.toRoom(room, encodeMessage(presence), client);
    }
  }

  #connectionsOf(client: ConnectedClient): ReadonlySet<ConnectedClient> {
    const connections = this.#byKey.of(client.keyText);
    return connections.size > 0 ? connections : new Set([client]);
  }

  #history(client: ConnectedClient, room: string, before: number, limit: number): void {
    if (!client.rooms.has(room)) {
      this.#notIn(client, room, room, `join "${room}" to read its history`);
      return;
    }
    let older: StoredMessage[];
    try {
      older = this.#db.messagesBefore(room, before, limit + 1);
    } catch (error) {
      this.#storageFailed(client, 'history', error);
      this.#refuse(client, 'internal', 'the host could not read this history; try again', room, {
        retryAfterMs: STORAGE_RETRY_MS,
      });
      return;
    }
    const more = older.length > limit;
    for (const stored of more ? older.slice(1) : older) this.#deliverHistory(client, stored);
    client.send({ t: 'history-end', room, more });
  }

  #deliverHistory(client: ConnectedClient, stored: StoredMessage): void {
    const bytes = this.#timeline.encode(stored, true);
    if (bytes) client.deliver(bytes);
  }

  #storageFailed(client: ConnectedClient, operation: string, error: unknown): void {
    this.#log('error', 'storage-failed', {
      operation,
      fp: client.fingerprint,
      ...failureFields(error),
    });
  }
}

/** What a send may name besides its body (docs/protocol.md §13). */
interface Related {
  rel?: Relation;
  file?: string;
}

/** A plaintext room's send: `text` ('' when it carries `ev`). */
interface PlainSend extends Related {
  room: string;
  id: string;
  text: string;
  ev?: ChatEvent;
}

/** A file chunk sent or asked for (§13): one of many, each answered before the next few. */
function isChunkRequest(request: ClientMessage): boolean {
  return request.t === 'file-chunk' || request.t === 'file-get';
}

/**
 * Requests that read MLS data, and so wait for the MLS library on first use. An MLS `send` does
 * not (wire v5): its ciphertext is relayed undecoded, so a host serving only messages never
 * loads the library.
 */
function needsMls(request: ClientMessage): boolean {
  return request.t === 'kp-publish' || request.t === 'kp-claim' || request.t === 'commit';
}

const BUDGET_WORDS: Record<BudgetKind, string> = {
  messages: 'messages',
  renames: 'nickname changes',
  membership: 'joins and leaves',
  historyPages: 'history requests',
  typing: 'typing notices',
  redeems: 'invites that did not work',
  manage: 'membership requests',
};
