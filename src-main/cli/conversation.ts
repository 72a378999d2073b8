import { sanitizeFileName } from '../../src-shared/files.ts';
import { type SearchHit, SearchIndex } from '../client/search-index.ts';
import type { SessionMessage } from '../client/session-events.ts';
import type { OutboxEntry } from '../client/outbox.ts';
import type { ChatEvent, FileRef } from '../protocol/wire/chat-event.ts';

/** What of a message this needs. */
type SeenMessage = Pick<SessionMessage, 'room' | 'seq' | 'id' | 'from' | 'key' | 'ts' | 'text'> &
  Partial<Pick<SessionMessage, 'event' | 'deleted' | 'e2ee'>>;

/**
 * How much a long-running process keeps (the newest seen win): the messages in the search index
 * (with who wrote them, for edits), and the files `/save` can fetch (with their captions) and our
 * reactions. Without a bound both would grow with every message for as long as it runs.
 */
export interface ConversationLimits {
  readonly messages: number;
  readonly files: number;
}

export const CONVERSATION_LIMITS: ConversationLimits = { messages: 100_000, files: 10_000 };

/**
 * What the line client remembers of the conversations this process has seen (history replayed
 * on join, live messages, and its own messages once the host took them): the files `/save` can
 * fetch, who wrote each message (an edit counts only from its author), our own reactions (so
 * `/react` toggles), and the search index `/search` looks in. In memory only, like the desktop's
 * index, and gone when the process ends.
 */
export class Conversation {
  readonly #ourKey: string;
  readonly #limits: ConversationLimits;
  readonly #index = new SearchIndex();
  /** `room|seq` of the indexed messages, the one seen longest ago first (Map order). */
  readonly #indexed = new Map<string, true>();
  /** `room|seq` → the message's author key, for the lines and files that can be edited. */
  readonly #authors = new Map<string, string>();
  readonly #files = new Map<string, FileRef>();
  /** `room|seq` → the file message's caption, so an edit keeps its file name searchable. */
  readonly #captions = new Map<string, string>();
  /** `room|target|emoji`: our reactions that are on (the oldest first, Set order). */
  readonly #reactions = new Set<string>();
  /** Our queued messages by client id, until the host acknowledges them with a seq. */
  readonly #sent = new Map<string, OutboxEntry>();

  constructor(ourKey: string, limits: ConversationLimits = CONVERSATION_LIMITS) {
    this.#ourKey = ourKey;
    this.#limits = limits;
  }

  /** A message of a room, from history or live, as the session hands it on. */
  seen(message: SeenMessage): void {
    if (message.deleted) return this.#forget(message.room, message.seq);
    const event = message.event;
    if (event === undefined) {
      // A bare line from an older host (or one that could not be read: nothing to index).
      if (message.e2ee?.status === 'failed' || message.text === '') return;
      return this.#said(message, { type: 'text', text: message.text });
    }
    if (event.type === 'text' || event.type === 'file') return this.#said(message, event);
    if (event.type === 'edit') {
      const target = keyOf(message.room, event.target);
      // Only the author's own edit counts (the host checks it too).
      if (this.#authors.get(target) !== message.key) return;
      const file = this.#files.get(target);
      this.#index.update(target, file ? searchText(file, event.text) : event.text);
      if (file) this.#captions.set(target, event.text);
      return;
    }
    if (event.type === 'delete') return this.#forget(message.room, event.target);
    if (event.type === 'react' && message.key === this.#ourKey) {
      this.#react(message.room, event.target, event.emoji, event.on);
    }
  }

  /** We queued `entry`: remember it for its acknowledgement, and our reaction at once. */
  sending(entry: OutboxEntry): void {
    this.#sent.set(entry.id, entry);
    const event = entry.event;
    if (event?.type === 'react') this.#react(entry.room, event.target, event.emoji, event.on);
  }

  /**
   * The host took our message `id` as `seq`: it is ours to edit and to find now. Returns the
   * queued entry the first time (so its `sent` line is printed once), else undefined.
   */
  acknowledged(
    ack: { id: string; seq: number; ts: number },
    nick: string,
  ): OutboxEntry | undefined {
    const entry = this.#sent.get(ack.id);
    if (!entry) return undefined;
    this.#sent.delete(ack.id);
    this.seen({
      room: entry.room,
      seq: ack.seq,
      id: entry.id,
      from: nick,
      key: this.#ourKey,
      ts: ack.ts,
      text: entry.text,
      ...(entry.event ? { event: entry.event } : {}),
    });
    return entry;
  }

  /** Our queued message `id` will never be acknowledged (refused, or its room is gone). */
  dropped(id: string): void {
    this.#sent.delete(id);
  }

  /** The file the message `seq` of `room` carries, if this process saw it. */
  fileOf(room: string, seq: number): FileRef | undefined {
    return this.#files.get(keyOf(room, seq));
  }

  /** Whether our reaction `emoji` to `seq` of `room` is on. */
  reacted(room: string, target: number, emoji: string): boolean {
    return this.#reactions.has(`${keyOf(room, target)}|${emoji}`);
  }

  search(query: string, limit: number): SearchHit[] {
    return this.#index.search(query, { limit });
  }

  close(): void {
    this.#index.close();
  }

  #said(message: SeenMessage, event: Extract<ChatEvent, { type: 'text' | 'file' }>): void {
    const key = keyOf(message.room, message.seq);
    this.#authors.set(key, message.key);
    newest(this.#indexed, key, true, this.#limits.messages, (old) => {
      // Too old to keep: no longer found, and its edits no longer followed.
      this.#index.remove(old);
      this.#authors.delete(old);
    });
    let text = event.text ?? '';
    if (event.type === 'file') {
      this.#captions.set(key, text);
      newest(this.#files, key, event.file, this.#limits.files, (old) => this.#captions.delete(old));
      text = searchText(event.file, text);
    }
    this.#index.add({
      key,
      host: '',
      room: message.room,
      seq: message.seq,
      id: message.id,
      from: message.from,
      ts: message.ts,
      text,
    });
  }

  /** The message is deleted: its text, file and our reactions to it go. */
  #forget(room: string, seq: number): void {
    const key = keyOf(room, seq);
    this.#index.remove(key);
    this.#files.delete(key);
    this.#captions.delete(key);
    this.#authors.delete(key);
    this.#indexed.delete(key);
    for (const reaction of this.#reactions) {
      if (reaction.startsWith(`${key}|`)) this.#reactions.delete(reaction);
    }
  }

  #react(room: string, target: number, emoji: string, on: boolean): void {
    const reaction = `${keyOf(room, target)}|${emoji}`;
    this.#reactions.delete(reaction);
    if (!on) return;
    this.#reactions.add(reaction);
    for (const oldest of this.#reactions) {
      if (this.#reactions.size <= this.#limits.files) break;
      this.#reactions.delete(oldest);
    }
  }
}

/**
 * Sets `key` in `map` as its newest entry, then drops the oldest ones beyond `limit`, telling
 * `evicted` about each. Map order is insertion order, so both steps cost O(1) each.
 */
export function newest<V>(
  map: Map<string, V>,
  key: string,
  value: V,
  limit: number,
  evicted: (key: string) => void,
): void {
  map.delete(key);
  map.set(key, value);
  for (const oldest of map.keys()) {
    if (map.size <= limit) break;
    map.delete(oldest);
    evicted(oldest);
  }
}

function keyOf(room: string, seq: number): string {
  return `${room}|${seq}`;
}

/** A file is found by its name as well as its caption. */
function searchText(file: FileRef, caption: string): string {
  const name = sanitizeFileName(file.name);
  return caption ? `${name} ${caption}` : name;
}
