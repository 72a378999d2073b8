import type { EventPayload } from '../../src-shared/ipc/contract.ts';
import type { ChatMessageView, PresenceEvent } from '../../src-shared/ipc/domain.ts';
import { type Platform, unwrap } from '../lib/platform.ts';
import type { ReplyTarget } from './drafts.svelte.ts';
import { type Entry, type RoomEventEntry, seqOf, tsOf } from '../lib/rows.ts';

export const PAGE_SIZE = 200;
/** How long "bob is typing…" stays up after bob's last typing notice. */
export const TYPING_SHOWN_MS = 6000;

export interface Typist {
  readonly nick: string;
  readonly fp: string;
  readonly until: number;
}

type MessageStatusEvent = EventPayload<'messageStatus'>;

/** One room's timeline: messages (local history, then live) and presence lines, in order. */
export class Timeline {
  readonly hostId: string;
  readonly room: string;
  entries: Entry[] = $state.raw([]);
  loaded = $state(false);
  loading = $state(false);
  /** Older history exists locally. */
  more = $state(false);
  /**
   * Showing a stretch far back (a jump to a reply or a search result): newer history exists
   * after what is shown, and live messages wait for "Jump to latest" (`loadLatest`).
   */
  newer = $state(false);
  typists: Typist[] = $state.raw([]);
  error: string | null = $state(null);
  #typingTimer: ReturnType<typeof setTimeout> | undefined;
  /** Status updates that overtook their message (main acked before `send` returned). */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- bookkeeping, never rendered
  readonly #early = new Map<string, MessageStatusEvent>();

  constructor(hostId: string, room: string) {
    this.hostId = hostId;
    this.room = room;
  }

  readonly queued = $derived(
    this.entries.filter((e) => e.kind === 'message' && e.message.status === 'queued').length,
  );

  /**
   * Adds a message or updates the same one (own messages: queued, then sent; anyone's when it
   * is edited, deleted or reacted to). True when it is new here.
   */
  upsert(message: ChatMessageView): boolean {
    const id = messageEntryId(message);
    const index = this.#indexOf(id);
    const oldest = firstSeqOf(this.entries);
    if (
      index < 0 &&
      !message.history &&
      message.seq !== undefined &&
      oldest !== undefined &&
      message.seq < oldest &&
      this.more
    ) {
      // An update to a message older than what is loaded (#17: edited, deleted, reacted to
      // far back): it comes with its page, not as a row above a gap.
      return false;
    }
    if (index >= 0) {
      const entries = this.entries.slice();
      entries[index] = { kind: 'message', id, message };
      this.entries = entries;
    } else if (this.newer && message.seq !== undefined && !message.history) {
      // A stretch far back is shown: the newest page comes back with it (loadLatest).
      return false;
    } else {
      const early = message.own ? this.#early.get(message.id) : undefined;
      if (early) this.#early.delete(message.id);
      const settled = early ? withStatus(message, early) : message;
      this.entries = insertInOrder(this.entries, { kind: 'message', id, message: settled });
    }
    if (!message.own) this.#stopTyping(message.fp);
    return index < 0;
  }

  /** A status is about one of our own messages: only those are looked at. */
  applyStatus(event: MessageStatusEvent): void {
    const id = ownEntryId(event.id);
    const index = this.#indexOf(id);
    const entry = this.entries[index];
    if (!entry || entry.kind !== 'message') {
      if (this.#early.size > 100) this.#early.clear();
      this.#early.set(event.id, event);
      return;
    }
    const message = withStatus(entry.message, event);
    const entries = this.entries.slice();
    entries[index] = { kind: 'message', id, message };
    this.entries = entries;
  }

  addPresence(presence: PresenceEvent): void {
    const id = `presence:${presence.key}:${presence.event}:${presence.ts}`;
    if (this.#indexOf(id) >= 0) return;
    // "bob joined" (the room event) already says bob is here: no "bob came online" under it.
    const last = this.entries[this.entries.length - 1];
    if (
      presence.event === 'joined' &&
      last?.kind === 'event' &&
      last.event.action === 'joined' &&
      last.event.actor?.key === presence.key
    ) {
      return;
    }
    this.entries = [...this.entries, { kind: 'presence', id, presence }];
    if (presence.event !== 'joined' && presence.event !== 'renamed') this.#stopTyping(presence.fp);
  }

  /** A room event, in host order; the same event twice (live, then in history) shows once. */
  addEvent(event: RoomEventEntry): void {
    const id = eventId(event);
    if (this.#indexOf(id) >= 0) return;
    this.entries = insertInOrder(this.entries, { kind: 'event', id, event });
  }

  addTyping(nick: string, fp: string, now: number): void {
    this.typists = [
      ...this.typists.filter((t) => t.fp !== fp),
      { nick, fp, until: now + TYPING_SHOWN_MS },
    ];
    this.#scheduleTypingExpiry(now);
  }

  #loadingNewest: Promise<void> | null = null;

  /** The newest page of local history; merged with whatever arrived live meanwhile. */
  load(api: Platform): Promise<void> {
    // A second caller (a jump while the room opens) waits for the same page.
    this.#loadingNewest ??= this.#loadNewest(api).finally(() => (this.#loadingNewest = null));
    return this.#loadingNewest;
  }

  async #loadNewest(api: Platform): Promise<void> {
    if (this.loading) return;
    this.loading = true;
    try {
      const result = await api.loadHistory({
        hostId: this.hostId,
        room: this.room,
        limit: PAGE_SIZE,
      });
      if (!result.ok) {
        this.error = result.error.message;
        return;
      }
      this.#merge(pageEntries(result.value));
      this.more = result.value.more;
      this.loaded = true;
    } finally {
      this.loading = false;
    }
  }

  /** The page before the oldest message shown. */
  async loadOlder(api: Platform): Promise<void> {
    if (this.loading || !this.more) return;
    const oldest = this.entries.find((e) => seqOf(e) !== undefined);
    const beforeSeq = oldest ? seqOf(oldest) : undefined;
    if (beforeSeq === undefined) return;
    this.loading = true;
    try {
      const result = await api.loadHistory({
        hostId: this.hostId,
        room: this.room,
        beforeSeq,
        limit: PAGE_SIZE,
      });
      if (!result.ok) {
        this.error = result.error.message;
        return;
      }
      this.#merge(pageEntries(result.value));
      this.more = result.value.more;
    } finally {
      this.loading = false;
    }
  }

  /** Whether the message with this seq is in the timeline. */
  has(seq: number): boolean {
    return this.entries.some((e) => e.kind === 'message' && e.message.seq === seq);
  }

  /**
   * Makes sure the message `seq` is in the timeline: loads the history around it when it is
   * not. Joined to what is shown when the two meet; otherwise the stretch around it replaces
   * it (`newer`), so the timeline never holds a gap. False: not in this install's history.
   */
  async reveal(api: Platform, seq: number): Promise<boolean> {
    // The room's newest page first (it may be opening right now): no gap between the two.
    if (!this.loaded) await this.load(api);
    if (this.has(seq)) return true;
    const result = await api.loadHistory({
      hostId: this.hostId,
      room: this.room,
      aroundSeq: seq,
      limit: PAGE_SIZE,
    });
    if (!result.ok) {
      this.error = result.error.message;
      return false;
    }
    const page = pageEntries(result.value);
    const pageLast = lastSeqOf(page);
    const shownFirst = firstSeqOf(this.entries);
    if (shownFirst !== undefined && pageLast !== undefined && pageLast >= shownFirst) {
      // The page reaches what is shown: one stretch.
      this.#merge(page);
      this.more = result.value.more;
    } else {
      this.entries = page.concat(
        this.entries.filter((e) => seqOf(e) === undefined && e.kind === 'message'),
      );
      this.more = result.value.more;
      this.newer = true;
    }
    this.loaded = true;
    return this.has(seq);
  }

  /** Back from a stretch far back: the newest page again, as when the room was opened. */
  async loadLatest(api: Platform): Promise<void> {
    if (!this.newer) return;
    const queued = this.entries.filter((e) => e.kind === 'message' && seqOf(e) === undefined);
    this.entries = queued;
    this.newer = false;
    this.loaded = false;
    await this.load(api);
  }

  dispose(): void {
    clearTimeout(this.#typingTimer);
  }

  #merge(page: readonly Entry[]): void {
    let entries = this.entries;
    // eslint-disable-next-line svelte/prefer-svelte-reactivity -- a local lookup table
    const known = new Set(entries.map((e) => e.id));
    const fresh = page.filter((entry) => !known.has(entry.id));
    if (fresh.length === 0) return;
    // Usually a whole page older than everything shown: one concatenation.
    const firstSeq = firstSeqOf(entries);
    const lastFresh = fresh[fresh.length - 1];
    const freshLastSeq = lastFresh ? seqOf(lastFresh) : undefined;
    if (
      firstSeq !== undefined &&
      freshLastSeq !== undefined &&
      freshLastSeq < firstSeq &&
      fresh.every((e) => seqOf(e) !== undefined)
    ) {
      this.entries = [...fresh, ...entries];
      return;
    }
    for (const entry of fresh) entries = insertInOrder(entries, entry);
    this.entries = entries;
  }

  #indexOf(id: string): number {
    // Updates are nearly always about recent messages: search from the end.
    for (let i = this.entries.length - 1; i >= 0; i--) {
      if (this.entries[i]?.id === id) return i;
    }
    return -1;
  }

  #stopTyping(fp: string): void {
    if (this.typists.some((t) => t.fp === fp)) {
      this.typists = this.typists.filter((t) => t.fp !== fp);
    }
  }

  #scheduleTypingExpiry(now: number): void {
    clearTimeout(this.#typingTimer);
    const next = Math.min(...this.typists.map((t) => t.until));
    if (!Number.isFinite(next)) return;
    this.#typingTimer = setTimeout(
      () => {
        const at = Date.now();
        this.typists = this.typists.filter((t) => t.until > at);
        if (this.typists.length > 0) this.#scheduleTypingExpiry(at);
      },
      Math.max(0, next - now) + 50,
    );
  }
}

/**
 * A message's entry id. A message id is unique only per sender (the host dedupes by key and
 * id), so others' messages are told apart by their key too: otherwise a member who reused
 * someone's id would replace that message on every screen. Keys are base64url, never 'own'.
 */
function messageEntryId(message: ChatMessageView): string {
  return message.own ? ownEntryId(message.id) : `${message.key}:${message.id}`;
}

function ownEntryId(id: string): string {
  return `own:${id}`;
}

function withStatus(message: ChatMessageView, event: MessageStatusEvent): ChatMessageView {
  return {
    ...message,
    status: event.status,
    ...(event.seq !== undefined ? { seq: event.seq } : {}),
    ...(event.ts !== undefined ? { ts: event.ts } : {}),
  };
}

/** A page of history: its messages and room events, in seq order. */
function pageEntries(page: {
  messages: readonly ChatMessageView[];
  events?: readonly RoomEventEntry[] | undefined;
}): Entry[] {
  const entries: Entry[] = page.messages.map((message) => ({
    kind: 'message',
    id: messageEntryId(message),
    message,
  }));
  if (!page.events?.length) return entries;
  for (const event of page.events) entries.push({ kind: 'event', id: eventId(event), event });
  return entries.sort((a, b) => (seqOf(a) ?? Infinity) - (seqOf(b) ?? Infinity));
}

function lastSeqOf(entries: readonly Entry[]): number | undefined {
  for (let i = entries.length - 1; i >= 0; i--) {
    const entry = entries[i];
    const seq = entry ? seqOf(entry) : undefined;
    if (seq !== undefined) return seq;
  }
  return undefined;
}

function firstSeqOf(entries: readonly Entry[]): number | undefined {
  for (const entry of entries) {
    const seq = seqOf(entry);
    if (seq !== undefined) return seq;
  }
  return undefined;
}

/** A room event has no id of its own: its seq names it in its room. */
const eventId = (event: RoomEventEntry): string => `event:${event.seq}`;

/**
 * Host order is `seq` (messages and room events); a message without one (queued, ours) goes
 * last. Live messages nearly always belong at the end, so the search runs backwards and
 * usually stops at once.
 */
function insertInOrder(entries: readonly Entry[], entry: Entry): Entry[] {
  const seq = seqOf(entry);
  let at = entries.length;
  if (seq !== undefined) {
    const ts = tsOf(entry);
    while (at > 0) {
      const before = entries[at - 1];
      if (!before) break;
      const beforeSeq = seqOf(before);
      if (before.kind === 'presence') {
        if (before.presence.ts <= ts) break;
      } else if (beforeSeq !== undefined && beforeSeq < seq) {
        break;
      }
      at--;
    }
  }
  if (at === entries.length) return [...entries, entry];
  return [...entries.slice(0, at), entry, ...entries.slice(at)];
}

/**
 * Every room's timeline on every host, created on first use; fed by the message events, which
 * name their host. `get(room)` and the other methods without a host are about the host on
 * screen (`host()`).
 */
export class TimelineStore {
  readonly #api: Platform;
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- each Timeline is reactive itself
  readonly #rooms = new Map<string, Timeline>();
  readonly #now: () => number;
  readonly #host: () => string;
  /** Bumped when a message from someone else arrives (on any host); the screen announces it. */
  lastIncoming: EventPayload<'message'> | null = $state.raw(null);

  constructor(api: Platform, now: () => number = Date.now, host: () => string = () => '') {
    this.#api = api;
    this.#now = now;
    this.#host = host;
  }

  /** A room's timeline on the host on screen. */
  get(room: string): Timeline {
    return this.on(this.#host(), room);
  }

  /** A room's timeline on a host. */
  on(hostId: string, room: string): Timeline {
    const key = `${hostId}\n${room}`;
    let timeline = this.#rooms.get(key);
    if (!timeline) {
      timeline = new Timeline(hostId, room);
      this.#rooms.set(key, timeline);
    }
    return timeline;
  }

  /** A host left the sidebar: its timelines go (history stays on disk, for next time). */
  forget(hostId: string): void {
    for (const [key, timeline] of this.#rooms) {
      if (timeline.hostId !== hostId) continue;
      timeline.dispose();
      this.#rooms.delete(key);
    }
  }

  listen(): () => void {
    const offs = [
      this.#api.onMessage((message) => {
        const fresh = this.on(message.hostId, message.room).upsert(message);
        if (fresh && !message.own && !message.history) this.lastIncoming = message;
      }),
      this.#api.onMessageStatus((event) => this.on(event.hostId, event.room).applyStatus(event)),
      this.#api.onPresence((presence) =>
        this.on(presence.hostId, presence.room).addPresence(presence),
      ),
      this.#api.onTyping(({ hostId, room, nick, fp }) =>
        this.on(hostId, room).addTyping(nick, fp, this.#now()),
      ),
      this.#api.onRoomEvent((event) => this.on(event.hostId, event.room).addEvent(event)),
    ];
    return () => {
      offs.forEach((off) => off());
      for (const timeline of this.#rooms.values()) timeline.dispose();
    };
  }

  async open(room: string): Promise<void> {
    const timeline = this.get(room);
    if (!timeline.loaded) await timeline.load(this.#api);
  }

  loadOlder(room: string): Promise<void> {
    return this.get(room).loadOlder(this.#api);
  }

  /** Tells the room on the host on screen that we are typing. */
  typing(room: string): Promise<unknown> {
    return this.#api.typing({ hostId: this.#host(), room });
  }

  /** Sends, showing the message at once (queued) if main has not shown it yet. */
  async send(
    room: string,
    text: string,
    self: { nick: string; fp: string; key: string },
    replyTo?: ReplyTarget | null,
  ): Promise<string | null> {
    const hostId = this.#host();
    const timelineNow = this.on(hostId, room);
    // Sending from a stretch far back: back to the newest, where the message will show.
    if (timelineNow.newer) await timelineNow.loadLatest(this.#api);
    const result = await this.#api.send({
      hostId,
      room,
      text,
      ...(replyTo ? { replyTo: replyTo.seq } : {}),
    });
    if (!result.ok) return result.error.message;
    const timeline = this.on(hostId, room);
    if (!timeline.entries.some((e) => e.id === ownEntryId(result.value.id))) {
      timeline.upsert({
        room,
        id: result.value.id,
        from: self.nick,
        fp: self.fp,
        key: self.key,
        text,
        ts: this.#now(),
        own: true,
        status: 'queued',
        ...(replyTo
          ? {
              replyTo: {
                seq: replyTo.seq,
                from: replyTo.from,
                text: replyTo.text,
                ...(replyTo.file ? { file: replyTo.file } : {}),
              },
            }
          : {}),
      });
    }
    return null;
  }

  /** Adds or takes back our reaction; null, or why it failed. */
  async react(room: string, seq: number, emoji: string, on: boolean): Promise<string | null> {
    const result = await this.#api.react({ hostId: this.#host(), room, seq, emoji, on });
    return result.ok ? null : result.error.message;
  }

  /** Replaces the text of one of our messages; null, or why it failed. */
  async edit(room: string, seq: number, text: string): Promise<string | null> {
    const result = await this.#api.editMessage({ hostId: this.#host(), room, seq, text });
    return result.ok ? null : result.error.message;
  }

  /** Deletes a message for everyone (throws RequestFailed: the confirmation shows why). */
  async delete(room: string, seq: number): Promise<void> {
    await unwrap(this.#api.deleteMessage({ hostId: this.#host(), room, seq }));
  }

  /** Loads the history around `seq` of a room on a host if it is not shown; false: not kept here. */
  reveal(hostId: string, room: string, seq: number): Promise<boolean> {
    return this.on(hostId, room).reveal(this.#api, seq);
  }

  /** Back to the newest page of a room on the host on screen. */
  loadLatest(room: string): Promise<void> {
    return this.get(room).loadLatest(this.#api);
  }
}
