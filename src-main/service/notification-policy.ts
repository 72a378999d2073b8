import type { NotificationPrivacy } from '../../src-shared/ipc/domain.ts';

/**
 * Whether a chat message deserves a desktop notification, and what it says. Pure: everything
 * it depends on is in the input, so every rule is tested on its own (see
 * test/unit/service/notification-policy.test.ts). The rules come from what users of Signal, Element,
 * Mumble and HexChat asked for:
 * - never for your own messages, nor for history replayed on join;
 * - nothing while muted;
 * - only when the window is not focused or the room is not the one shown;
 * - bursts in one room coalesce into one notification ("3 new messages from alice, bob");
 * - three privacy levels: nothing about the message, the sender only, sender and text;
 * - on Linux the body is markup for libnotify, so `& < >` are escaped.
 */

/** Messages in one room closer together than this coalesce into one notification. */
export const COALESCE_WINDOW_MS = 5000;
/** What a notification with text says of a message that could not be decrypted. */
export const UNREADABLE_TEXT = 'a message that could not be decrypted';
/** Longest message excerpt in a notification (characters). */
export const MAX_EXCERPT = 200;
/** Senders named in a coalesced notification before "and N others". */
const MAX_NAMED_SENDERS = 3;

export interface NotificationMessage {
  readonly room: string;
  readonly from: string;
  readonly text: string;
  readonly own: boolean;
  /** Replayed history (on join or on request), not a live message. */
  readonly history: boolean;
  /** In a direct message: its `dm.…` name means nothing to the user, so it is not shown. */
  readonly direct?: boolean;
}

/** A message that was notified earlier (shown or folded into a shown notification). */
export interface RecentNotification {
  readonly room: string;
  readonly from: string;
  readonly at: number;
}

export interface NotificationInput {
  readonly message: NotificationMessage;
  readonly windowFocused: boolean;
  /** The message's room is the one the window shows. */
  readonly roomVisible: boolean;
  readonly muted: boolean;
  readonly privacy: NotificationPrivacy;
  /** Earlier notifications, any room, any age: the policy picks the burst it belongs to. */
  readonly recent: readonly RecentNotification[];
  readonly now: number;
  readonly platform: string;
}

export type SuppressReason = 'own' | 'history' | 'muted' | 'visible';

export type NotificationDecision =
  | { readonly show: false; readonly reason: SuppressReason }
  | {
      readonly show: true;
      readonly title: string;
      readonly body: string;
      readonly room: string;
      /** Messages this notification stands for (1, or more for a coalesced burst). */
      readonly coalesced: number;
    };

export type ShownNotification = Extract<NotificationDecision, { show: true }>;

export function decideNotification(input: NotificationInput): NotificationDecision {
  const { message } = input;
  if (message.own) return { show: false, reason: 'own' };
  if (message.history) return { show: false, reason: 'history' };
  if (input.muted) return { show: false, reason: 'muted' };
  if (input.windowFocused && input.roomVisible) return { show: false, reason: 'visible' };

  const burst = burstOf(input.recent, message.room, input.now);
  const coalesced = burst.length + 1;
  const senders = uniqueInOrder([...burst.map((r) => r.from), message.from]);
  const { title, body } = render(input.privacy, message, coalesced, senders);
  return {
    show: true,
    title,
    body: input.platform === 'linux' ? escapeMarkup(body) : body,
    room: message.room,
    coalesced,
  };
}

/**
 * The notifications of `room` that the new one continues: walking back from `now`, each
 * earlier one less than COALESCE_WINDOW_MS before the next. Oldest first.
 */
export function burstOf(
  recent: readonly RecentNotification[],
  room: string,
  now: number,
): RecentNotification[] {
  const inRoom = recent.filter((r) => r.room === room && r.at <= now).sort((a, b) => b.at - a.at);
  const burst: RecentNotification[] = [];
  let edge = now;
  for (const entry of inRoom) {
    if (edge - entry.at >= COALESCE_WINDOW_MS) break;
    burst.push(entry);
    edge = entry.at;
  }
  return burst.reverse();
}

function render(
  privacy: NotificationPrivacy,
  message: NotificationMessage,
  count: number,
  senders: readonly string[],
): { title: string; body: string } {
  if (privacy === 'nothing') {
    return { title: 'Parley', body: count === 1 ? 'New message' : `${count} new messages` };
  }
  if (count === 1) {
    return {
      title: message.direct
        ? `${message.from} (direct message)`
        : `${message.from} in #${message.room}`,
      body: privacy === 'sender-and-text' ? excerpt(message.text) : 'New message',
    };
  }
  const summary = `${count} new messages from ${nameList(senders)}`;
  return {
    title: message.direct ? 'Direct message' : `#${message.room}`,
    body:
      privacy === 'sender-and-text'
        ? `${summary}\n${message.from}: ${excerpt(message.text)}`
        : summary,
  };
}

/** "alice", "alice, bob", …, "alice, bob, carol and 2 others". */
export function nameList(names: readonly string[]): string {
  if (names.length <= MAX_NAMED_SENDERS) return names.join(', ');
  const rest = names.length - MAX_NAMED_SENDERS;
  return `${names.slice(0, MAX_NAMED_SENDERS).join(', ')} and ${rest} ${rest === 1 ? 'other' : 'others'}`;
}

/** At most MAX_EXCERPT characters (code points, so no half emoji), then an ellipsis. */
export function excerpt(text: string): string {
  const chars = [...text.trim()];
  return chars.length <= MAX_EXCERPT ? chars.join('') : `${chars.slice(0, MAX_EXCERPT).join('')}…`;
}

/** libnotify reads the body as a subset of HTML: a message must not be able to style it. */
export function escapeMarkup(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function uniqueInOrder(names: readonly string[]): string[] {
  return [...new Set(names)];
}
