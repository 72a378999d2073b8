import { encodeBase64Url } from '../../src-shared/base64url.ts';
import { fingerprint } from '../../src-shared/fingerprint.ts';
import { WireError, decodeMessage, encodeMessage, utf8Length } from '../protocol/wire/codec.ts';
import {
  type ChatMessage,
  ClientMessage,
  CloseCode,
  type HostMessage,
} from '../protocol/wire/messages.ts';
import { CommitQueue, type PendingSend } from './commit-queue.ts';
import type { ConnectedClient } from './connected-client.ts';
import type { AppendResult, HostDatabase, StoredMessage } from './host-database.ts';
import type { HostLimits } from './host-limits.ts';
import type { HostLog } from './host-log.ts';
import type { RoomRegistry } from './room-registry.ts';

const MEMBERS_PER_PAGE = 200;
const FINGERPRINT_CACHE_LIMIT = 10_000;

/** Everything a connected client may ask of the host, one method per request type. */
export class RequestHandler {
  readonly #rooms: RoomRegistry;
  readonly #db: HostDatabase;
  readonly #limits: HostLimits;
  readonly #log: HostLog;
  readonly #now: () => number;
  readonly #commits: CommitQueue<ConnectedClient>;
  readonly #fingerprints = new Map<string, { key: string; fp: string }>();

  constructor(deps: {
    rooms: RoomRegistry;
    db: HostDatabase;
    limits: HostLimits;
    log: HostLog;
    now: () => number;
  }) {
    this.#rooms = deps.rooms;
    this.#db = deps.db;
    this.#limits = deps.limits;
    this.#log = deps.log;
    this.#now = deps.now;
    this.#commits = new CommitQueue(
      deps.db,
      (sends, results) => this.#committed(sends, results),
      (sends, error) => this.#commitFailed(sends, error),
    );
  }

  /** Commits anything pending now: on shutdown, before the database closes. */
  flush(): void {
    this.#commits.flush();
  }

  handle(client: ConnectedClient, bytes: Uint8Array): void {
    const now = this.#now();
    client.lastHeardAt = now;
    client.pingOutstanding = false;
    if (!client.requestBucket.take(now)) {
      this.#log('warn', 'client-flooding', { fp: client.fingerprint, ip: client.ip });
      client.channel.close(CloseCode.flooding, 'too many requests; slow down', {
        discardPending: true,
      });
      return;
    }
    let request: ClientMessage;
    try {
      request = decodeMessage(ClientMessage, bytes);
    } catch (error) {
      const reason = error instanceof WireError ? error.message : 'unreadable request';
      this.#log('info', 'client-protocol-error', { fp: client.fingerprint, reason });
      client.channel.close(CloseCode.protocolError, reason);
      return;
    }
    switch (request.t) {
      case 'join':
        return this.#join(client, request.room);
      case 'leave':
        return this.#leave(client, request.room, 'left');
      case 'send':
        return this.#send(client, request, now);
      case 'typing':
        return this.#typing(client, request.room, now);
      case 'nick':
        return this.#nick(client, request.nick);
      case 'history':
        return this.#history(client, request.room, request.before, request.limit);
      case 'ping':
        client.send({ t: 'pong', n: request.n });
        return;
      case 'pong':
        return;
    }
  }

  /** A connection ended: everyone in its rooms sees it go. */
  disconnected(client: ConnectedClient): void {
    for (const room of [...client.rooms]) this.#leave(client, room, 'disconnected');
  }

  #join(client: ConnectedClient, room: string): void {
    if (!this.#rooms.has(room)) {
      client.send({
        t: 'error',
        code: 'unknown-room',
        message: `there is no room "${room}" here`,
        ref: room,
      });
      return;
    }
    const first = this.#rooms.join(room, client);
    client.send({ t: 'joined', room });
    const members = this.#rooms.members(room);
    for (let i = 0; i < members.length || i === 0; i += MEMBERS_PER_PAGE) {
      const last = i + MEMBERS_PER_PAGE >= members.length;
      client.send({ t: 'members', room, members: members.slice(i, i + MEMBERS_PER_PAGE), last });
    }
    for (const stored of this.#db.recentMessages(room, this.#limits.historyOnJoin)) {
      client.send({ ...this.#chatMessage(stored), history: true });
    }
    client.send({ t: 'synced', room });
    if (first) {
      this.#rooms.broadcast(
        room,
        encodeMessage({ t: 'presence', room, event: 'joined', ...client.member }),
        client,
      );
    }
  }

  #leave(client: ConnectedClient, room: string, event: 'left' | 'disconnected'): void {
    if (!client.rooms.has(room)) {
      if (event === 'left')
        client.send({
          t: 'error',
          code: 'not-in-room',
          message: `you are not in "${room}"`,
          ref: room,
        });
      return;
    }
    const last = this.#rooms.leave(room, client);
    if (event === 'left') client.send({ t: 'left', room });
    if (last)
      this.#rooms.broadcast(room, encodeMessage({ t: 'presence', room, event, ...client.member }));
  }

  #send(
    client: ConnectedClient,
    request: { room: string; id: string; text: string },
    now: number,
  ): void {
    if (!client.rooms.has(request.room)) {
      client.send({
        t: 'error',
        code: 'not-in-room',
        message: `join "${request.room}" before writing there`,
        ref: request.id,
      });
      return;
    }
    if (utf8Length(request.text) > this.#limits.maxTextBytes) {
      client.send({
        t: 'error',
        code: 'text-too-long',
        message: `a message holds at most ${this.#limits.maxTextBytes} bytes`,
        ref: request.id,
      });
      return;
    }
    // Once a send is refused, later ones are refused too until the wait is over, so a token
    // that refills meanwhile cannot let a later message overtake the refused one.
    if (now < client.limitedUntil || !client.messageBucket.take(now)) {
      client.strikes++;
      if (client.strikes > this.#limits.floodStrikes) {
        this.#log('warn', 'client-flooding', { fp: client.fingerprint, ip: client.ip });
        client.channel.close(
          CloseCode.flooding,
          'too many messages after being told to slow down',
          {
            discardPending: true,
          },
        );
        return;
      }
      if (now >= client.limitedUntil) client.limitedUntil = now + client.messageBucket.waitMs(now);
      client.send({
        t: 'error',
        code: 'rate-limited',
        message: 'you are sending too fast',
        ref: request.id,
        retryAfterMs: Math.max(1, client.limitedUntil - now),
      });
      return;
    }
    client.strikes = 0;
    this.#commits.enqueue(client, {
      room: request.room,
      senderKey: client.key,
      nick: client.nick,
      text: request.text,
      clientMsgId: request.id,
      sentAt: now,
    });
  }

  #committed(sends: PendingSend<ConnectedClient>[], results: AppendResult[]): void {
    sends.forEach((send, i) => {
      const result = results[i];
      if (!result) return;
      const stored = result.message;
      if (!result.duplicate) {
        // Encoded once, queued for every recipient; the sender gets an ack instead of an echo.
        this.#rooms.broadcast(stored.room, encodeMessage(this.#chatMessage(stored)), send.origin);
      }
      send.origin.send({
        t: 'ack',
        room: stored.room,
        id: stored.clientMsgId,
        seq: stored.seq,
        ts: stored.sentAt,
        ...(result.duplicate ? { duplicate: true } : {}),
      });
    });
  }

  #commitFailed(sends: PendingSend<ConnectedClient>[], error: unknown): void {
    this.#log('error', 'history-write-failed', {
      messages: sends.length,
      code: (error as { code?: string }).code ?? 'unknown',
    });
    for (const send of sends) {
      // Not acknowledged, so the client keeps it and resends: nothing acknowledged is lost.
      send.origin.send({
        t: 'error',
        code: 'internal',
        message: 'the host could not store this message; it will be resent',
        ref: send.message.clientMsgId,
        retryAfterMs: 1000,
      });
    }
  }

  #typing(client: ConnectedClient, room: string, now: number): void {
    if (!client.rooms.has(room)) return;
    const last = client.typingSentAt.get(room) ?? -Infinity;
    if (now - last < this.#limits.typingIntervalMs) return; // quietly: typing is best-effort
    client.typingSentAt.set(room, now);
    this.#rooms.broadcast(
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
    const claim = this.#db.claimNick(nick, client.key);
    if (!claim.ok) {
      client.send({
        t: 'error',
        code: 'nick-taken',
        message: `"${nick}" belongs to another key on this host`,
        ref: nick,
      });
      return;
    }
    const old = client.member;
    client.nick = nick;
    client.send({ t: 'nick', nick });
    for (const room of client.rooms) {
      const presence: HostMessage = {
        t: 'presence',
        room,
        event: 'renamed',
        ...old,
        newNick: nick,
      };
      this.#rooms.broadcast(room, encodeMessage(presence), client);
    }
  }

  #history(client: ConnectedClient, room: string, before: number, limit: number): void {
    if (!client.rooms.has(room)) {
      client.send({
        t: 'error',
        code: 'not-in-room',
        message: `join "${room}" to read its history`,
        ref: room,
      });
      return;
    }
    const older = this.#db.messagesBefore(room, before, limit + 1);
    const more = older.length > limit;
    for (const stored of more ? older.slice(1) : older) {
      client.send({ ...this.#chatMessage(stored), history: true });
    }
    client.send({ t: 'history-end', room, more });
  }

  #chatMessage(stored: StoredMessage): ChatMessage {
    const identity = this.#identity(stored.senderKey);
    return {
      t: 'msg',
      room: stored.room,
      seq: stored.seq,
      id: stored.clientMsgId,
      from: stored.nick,
      fp: identity.fp,
      key: identity.key,
      text: stored.text,
      ts: stored.sentAt,
    };
  }

  /** Fingerprints cost a SHA-256; history replays the same few senders again and again. */
  #identity(key: Uint8Array): { key: string; fp: string } {
    const text = encodeBase64Url(key);
    let identity = this.#fingerprints.get(text);
    if (!identity) {
      if (this.#fingerprints.size >= FINGERPRINT_CACHE_LIMIT) this.#fingerprints.clear();
      identity = { key: text, fp: fingerprint(key) };
      this.#fingerprints.set(text, identity);
    }
    return identity;
  }
}
