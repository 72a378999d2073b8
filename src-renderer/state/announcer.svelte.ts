// What a screen reader hears about new messages, decided here and spoken by LiveAnnouncer.
// The timeline itself is not a live region (virtualised rows come and go as it scrolls), so
// every message would otherwise go unheard, or be heard twice, or flood the reader:
//
// - each new message from someone else in the room on screen is announced once, identical
//   ones too (each announcement is a new entry in an append-only log, never a rewritten text);
// - a burst (several within about a second) is held back briefly and summarised as
//   "5 new messages in #room from alice, bob" instead of being read out one after another;
// - messages in other rooms and on other hosts are summarised as unread counts ("3 unread in
//   #general on Friends' host"), at most every few seconds; a room muted to 'nothing' is left
//   out, one muted to 'mentions' counts only messages naming us;
// - our own messages, and history, are never announced.
import type { RoomMute } from '../../src-shared/ipc/domain.ts';
import { mentions } from '../../src-shared/mentions.ts';
import { spokenText } from '../lib/action.ts';

/** A message event, as far as the announcer cares. */
export interface Incoming {
  readonly hostId: string;
  readonly room: string;
  readonly from: string;
  readonly text: string;
  readonly own: boolean;
  readonly history?: boolean | undefined;
  /** The message's id and sender key (#17: the same message again is not news). */
  readonly id?: string | undefined;
  readonly key?: string | undefined;
  readonly deleted?: boolean | undefined;
}

/** What the announcer needs to know about the app, asked at the moment it decides. */
export interface AnnouncerContext {
  /** The room on screen, or null (no room, or no host). */
  onScreen(): { readonly hostId: string; readonly room: string } | null;
  mute(hostId: string, room: string): RoomMute | undefined;
  /** Our nickname on that host: a room muted to 'mentions' counts `@nick`s. */
  nick(hostId: string): string | undefined;
  /** "#general", or "your conversation with bob". */
  roomLabel(hostId: string, room: string): string;
  /** "Friends' host": the host's name, else its address. */
  hostLabel(hostId: string): string;
  /** The room's unread count as the room list shows it, if known. */
  unread(hostId: string, room: string): number | undefined;
}

/** Time, injected so the decisions can be tested without waiting. */
export interface Clock {
  now(): number;
  /** Runs `run` after `ms`; the returned function cancels it. */
  later(run: () => void, ms: number): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  later: (run, ms) => {
    const timer = setTimeout(run, ms);
    return () => clearTimeout(timer);
  },
};

/** Messages this close together in the room on screen are one burst. */
export const BURST_QUIET_MS = 800;
/** A burst that goes on is summarised after this long anyway. */
export const BURST_MAX_MS = 2500;
/** From this many messages, a burst is summarised instead of read out. */
export const BURST_SUMMARY_FROM = 3;
/** Other rooms: the summary waits this long for more, and comes at most this often. */
export const ELSEWHERE_DEBOUNCE_MS = 1000;
export const ELSEWHERE_INTERVAL_MS = 5000;
/** An announcement leaves the log after this long (removals are not read out). */
export const KEEP_MS = 15_000;
/** The log never holds more than this many. */
const KEEP_MAX = 20;
/** A long message is cut for speech: the timeline has all of it. */
const SPOKEN_MAX = 140;
/** Names in a burst summary before "and N others". */
const NAMES_MAX = 3;

export interface Announcement {
  readonly id: number;
  readonly text: string;
}

interface Burst {
  readonly hostId: string;
  readonly room: string;
  readonly startedAt: number;
  readonly messages: Incoming[];
  cancel: () => void;
}

export class Announcer {
  /** The log: newest last. Each entry is read once, when it is added. */
  entries: readonly Announcement[] = $state.raw([]);
  readonly #context: AnnouncerContext;
  readonly #clock: Clock;
  #nextId = 1;
  #burst: Burst | null = null;
  /** Other rooms with news since the last summary, by host and room, in arrival order. */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- bookkeeping, never rendered
  readonly #elsewhere = new Map<
    string,
    { hostId: string; room: string; count: number; mentionsOnly: boolean }
  >();
  #elsewhereCancel: (() => void) | null = null;
  #lastElsewhereAt = -Infinity;
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- pending timers, never rendered
  readonly #removals = new Set<() => void>();

  constructor(context: AnnouncerContext, clock: Clock = systemClock) {
    this.#context = context;
    this.#clock = clock;
  }

  /**
   * Messages said already (#17): an edit, a deletion or a reaction comes back as the same
   * message again, and is not news. Bounded: the oldest half goes when it is full.
   */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- bookkeeping, never rendered
  #said = new Set<string>();

  /** A message event from main, any host, any room. */
  receive(message: Incoming): void {
    if (message.own || message.history) return;
    if (message.deleted) return;
    if (message.id !== undefined) {
      const id = `${message.hostId}\n${message.room}\n${message.key ?? ''}\n${message.id}`;
      if (this.#said.has(id)) return;
      this.#said.add(id);
      // eslint-disable-next-line svelte/prefer-svelte-reactivity -- bookkeeping, never rendered
      if (this.#said.size > 4000) this.#said = new Set([...this.#said].slice(2000));
    }
    const screen = this.#context.onScreen();
    if (screen && screen.hostId === message.hostId && screen.room === message.room) {
      this.#inBurst(message);
    } else {
      this.#elsewhereMessage(message);
    }
  }

  dispose(): void {
    this.#burst?.cancel();
    this.#burst = null;
    this.#elsewhereCancel?.();
    this.#elsewhereCancel = null;
    for (const cancel of this.#removals) cancel();
    this.#removals.clear();
  }

  #inBurst(message: Incoming): void {
    const now = this.#clock.now();
    let burst = this.#burst;
    if (burst && (burst.hostId !== message.hostId || burst.room !== message.room)) {
      // The reader switched rooms mid-burst: say what the old room had first.
      this.#flushBurst();
      burst = null;
    }
    if (!burst) {
      burst = {
        hostId: message.hostId,
        room: message.room,
        startedAt: now,
        messages: [],
        cancel: () => {},
      };
      this.#burst = burst;
    }
    burst.messages.push(message);
    burst.cancel();
    const at = Math.min(now + BURST_QUIET_MS, burst.startedAt + BURST_MAX_MS);
    burst.cancel = this.#clock.later(() => this.#flushBurst(), Math.max(0, at - now));
  }

  #flushBurst(): void {
    const burst = this.#burst;
    if (!burst) return;
    this.#burst = null;
    burst.cancel();
    const { messages } = burst;
    if (messages.length < BURST_SUMMARY_FROM) {
      this.#say(messages.map((m) => cut(spokenText(m.from, m.text))));
      return;
    }
    const label = this.#context.roomLabel(burst.hostId, burst.room);
    this.#say([`${messages.length} new messages in ${label} from ${names(messages)}`]);
  }

  #elsewhereMessage(message: Incoming): void {
    const mute = this.#context.mute(message.hostId, message.room) ?? 'all';
    if (mute === 'nothing') return;
    if (mute === 'mentions' && !mentions(message.text, this.#context.nick(message.hostId) ?? '')) {
      return;
    }
    const key = `${message.hostId}\n${message.room}`;
    const known = this.#elsewhere.get(key);
    this.#elsewhere.set(key, {
      hostId: message.hostId,
      room: message.room,
      count: (known?.count ?? 0) + 1,
      mentionsOnly: mute === 'mentions',
    });
    if (this.#elsewhereCancel) return;
    const now = this.#clock.now();
    const at = Math.max(now + ELSEWHERE_DEBOUNCE_MS, this.#lastElsewhereAt + ELSEWHERE_INTERVAL_MS);
    this.#elsewhereCancel = this.#clock.later(() => this.#flushElsewhere(), at - now);
  }

  #flushElsewhere(): void {
    this.#elsewhereCancel = null;
    const screen = this.#context.onScreen();
    const parts: string[] = [];
    for (const { hostId, room, count, mentionsOnly } of this.#elsewhere.values()) {
      // Opened meanwhile: the reader is there now (its messages were announced as they came).
      if (screen?.hostId === hostId && screen.room === room) continue;
      const where = this.#context.roomLabel(hostId, room);
      const host = screen?.hostId === hostId ? '' : ` on ${this.#context.hostLabel(hostId)}`;
      if (mentionsOnly) {
        // The room's unread count includes what the reader chose not to hear about.
        parts.push(`${count} ${count === 1 ? 'mention' : 'mentions'} of you in ${where}${host}`);
        continue;
      }
      const unread = this.#context.unread(hostId, room) ?? count;
      if (unread > 0) parts.push(`${unread} unread in ${where}${host}`);
    }
    this.#elsewhere.clear();
    if (parts.length === 0) return;
    this.#lastElsewhereAt = this.#clock.now();
    this.#say([parts.join('; ')]);
  }

  #say(texts: readonly string[]): void {
    if (texts.length === 0) return;
    const added = texts.map((text) => ({ id: this.#nextId++, text }));
    this.entries = [...this.entries, ...added].slice(-KEEP_MAX);
    // eslint-disable-next-line svelte/prefer-svelte-reactivity -- a local lookup
    const ids = new Set(added.map((a) => a.id));
    const cancel = this.#clock.later(() => {
      this.#removals.delete(cancel);
      this.entries = this.entries.filter((entry) => !ids.has(entry.id));
    }, KEEP_MS);
    this.#removals.add(cancel);
  }
}

function cut(text: string): string {
  return text.length > SPOKEN_MAX ? `${text.slice(0, SPOKEN_MAX)}…` : text;
}

/** "alice, bob", or "alice, bob, carol and 2 others", in the order they spoke. */
function names(messages: readonly Incoming[]): string {
  const unique = [...new Set(messages.map((m) => m.from))];
  if (unique.length <= NAMES_MAX) return unique.join(', ');
  const others = unique.length - NAMES_MAX;
  return `${unique.slice(0, NAMES_MAX).join(', ')} and ${others} ${others === 1 ? 'other' : 'others'}`;
}
