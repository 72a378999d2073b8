import { encodeBase64Url } from '../../src-shared/base64url.ts';
import { fingerprint } from '../protocol/node-fingerprint.ts';
import { MAX_ITEM_LEN } from '../protocol/records.ts';
import { encodeMessage } from '../protocol/wire/codec.ts';
import type { ChatMessage, CommitItem, Person, RoomEvent } from '../protocol/wire/messages.ts';
import type { StoredMessage } from './host-database.ts';
import type { HostLog } from './host-log.ts';
import type { PersonRecord } from './room-store.ts';

const FINGERPRINT_CACHE_LIMIT = 10_000;

/**
 * A room's timeline rows as the wire items clients get: a chat message as `msg` (with `text` or
 * `ev`, or `mls` in an end-to-end encrypted room; a deleted one as a tombstone, §13), a room event as `event` (docs/protocol.md §11.3), a
 * commit as `commit` (§12), live or marked as history. One place, so that a live fan-out
 * and a replay of the same row are the same item.
 */
export class TimelineItems {
  readonly #log: HostLog;
  readonly #identities = new Map<string, { key: string; fp: string }>();

  constructor(log: HostLog) {
    this.#log = log;
  }

  /**
   * The item for a stored row, or nothing when it cannot fit one item: sends are checked before
   * they are stored, but a history written by an earlier version may hold one, and it must be
   * skipped, never allowed to end the connection or the host that replays it.
   */
  encode(stored: StoredMessage, history: boolean, senderKeyText?: string): Uint8Array | undefined {
    const item = stored.event ? this.#event(stored) : this.#sent(stored, senderKeyText);
    const bytes = encodeMessage(history ? { ...item, history: true } : item);
    if (bytes.length <= MAX_ITEM_LEN) return bytes;
    this.#log('warn', 'message-too-large-skipped', { room: stored.room, seq: stored.seq });
    return undefined;
  }

  /** Fingerprints cost a SHA-256; history replays the same few senders again and again. */
  identity(key: Uint8Array): { key: string; fp: string } {
    const text = encodeBase64Url(key);
    let identity = this.#identities.get(text);
    if (!identity) {
      if (this.#identities.size >= FINGERPRINT_CACHE_LIMIT) this.#identities.clear();
      identity = { key: text, fp: fingerprint(key) };
      this.#identities.set(text, identity);
    }
    return identity;
  }

  /**
   * A message or commit. A live row's sender is a connected client whose key text is known
   * (`senderKeyText`); since v5 the item needs nothing else of the key (no fp), so a live
   * fan-out derives nothing per message; history looks the key text up in the cache.
   */
  #sent(stored: StoredMessage, senderKeyText: string | undefined): ChatMessage | CommitItem {
    const keyText = senderKeyText ?? this.identity(stored.senderKey).key;
    return stored.commit
      ? this.#commit(stored, stored.commit, keyText)
      : this.#chat(stored, keyText);
  }

  // Since wire v5 a `msg` or `commit` names its sender by `key` alone: `fp` is a function of it,
  // and was ~47 bytes of every copy sent to every recipient (docs/protocol.md §8.2).
  #chat(stored: StoredMessage, keyText: string): ChatMessage {
    return {
      t: 'msg',
      room: stored.room,
      seq: stored.seq,
      id: stored.clientMsgId,
      from: stored.nick,
      key: keyText,
      ...(stored.deleted ? { deleted: true } : content(stored)),
      ts: stored.sentAt,
    };
  }

  #commit(
    stored: StoredMessage,
    commit: { epoch: number; data: string },
    keyText: string,
  ): CommitItem {
    return {
      t: 'commit',
      room: stored.room,
      seq: stored.seq,
      ts: stored.sentAt,
      from: stored.nick,
      key: keyText,
      epoch: commit.epoch,
      data: commit.data,
    };
  }

  #event(stored: StoredMessage): RoomEvent {
    const event = stored.event;
    // The operator acts from the host machine, with no key: its rows carry 32 zero bytes.
    const byOperator = stored.senderKey.every((byte) => byte === 0);
    return {
      t: 'event',
      room: stored.room,
      seq: stored.seq,
      ts: stored.sentAt,
      action: event?.action ?? 'joined',
      ...(byOperator ? {} : { actor: person({ key: stored.senderKey, nick: stored.nick }) }),
      ...(event?.target ? { target: person(event.target) } : {}),
      ...(event?.role ? { role: event.role } : {}),
      ...(event?.topic !== undefined ? { topic: event.topic } : {}),
    };
  }
}

/** A message's content as the wire carries it: one of text, ev and mls, and its rel and file. */
function content(stored: StoredMessage): Partial<ChatMessage> {
  return {
    ...(stored.mls !== undefined
      ? { mls: stored.mls }
      : stored.ev !== undefined
        ? { ev: stored.ev }
        : { text: stored.text }),
    ...(stored.rel === undefined ? {} : { rel: stored.rel }),
    ...(stored.file === undefined ? {} : { file: stored.file }),
  };
}

/** A person as the wire names one: the nickname at the time, and the key as text. */
export function person(record: PersonRecord): Person {
  return { nick: record.nick, key: encodeBase64Url(record.key) };
}
