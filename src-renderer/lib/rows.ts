import type { ChatMessageView, PresenceEvent, RoomEventView } from '../../src-shared/ipc/domain.ts';
import { FOLD_LINES, estimatedLines, mayFold } from './fold.ts';
import { dayKey, formatDay } from './format.ts';
import { fileHeight } from './file-format.ts';

/** Something done to the room (a removal, a new topic…), in host order like a message. */
export type RoomEventEntry = RoomEventView;

/** What a room's timeline holds, in display order. */
export type Entry =
  | { readonly kind: 'message'; readonly id: string; readonly message: ChatMessageView }
  | { readonly kind: 'presence'; readonly id: string; readonly presence: PresenceEvent }
  | { readonly kind: 'event'; readonly id: string; readonly event: RoomEventEntry };

/** What the timeline draws: one row per message, plus day and presence lines. */
export type Row =
  /** The top of the room's history: nothing older exists. */
  | { readonly kind: 'start'; readonly key: 'start' }
  | { readonly kind: 'day'; readonly key: string; readonly label: string; readonly ts: number }
  /** "New messages": the first unread message is the row after it. */
  | { readonly kind: 'unread'; readonly key: typeof UNREAD_KEY }
  | {
      readonly kind: 'message';
      readonly key: string;
      readonly message: ChatMessageView;
      /** First of a run by one sender: shows the name, avatar and time. */
      readonly head: boolean;
    }
  | { readonly kind: 'presence'; readonly key: string; readonly presence: PresenceEvent }
  | { readonly kind: 'event'; readonly key: string; readonly event: RoomEventEntry };

export const UNREAD_KEY = 'unread';

/** Pixels per line of message text (14 px at 1.45), and the width a wide window gives it. */
const LINE = 20;
const WIDE_CHARS_PER_LINE = 90;

/** A first guess at each row's height, until it is measured on screen. */
export function estimateHeight(row: Row): number {
  switch (row.kind) {
    case 'start':
      return 112;
    case 'day':
      return 44;
    case 'unread':
      return 36;
    case 'presence':
    case 'event':
      return 28;
    case 'message': {
      // A long message is folded: at most FOLD_LINES lines and its "Show more".
      const text = row.message.text;
      const lines = estimatedLines(text, WIDE_CHARS_PER_LINE);
      const shown = mayFold(text) ? Math.min(lines, FOLD_LINES) + 1.5 : lines;
      // Files (#17): the thumbnail's box or the file card; a bare file has no text line.
      if (row.message.file) {
        return (row.head ? 30 : 6) + (text ? shown * LINE : 0) + fileHeight(row.message.file);
      }
      return (row.head ? 30 : 6) + shown * LINE;
    }
  }
}

/**
 * A direct message opens with "alice started the conversation" and both people joining: the
 * joins say nothing the first line does not, so they are left out (later ones are kept).
 */
export function withoutOpeningJoins(entries: readonly Entry[]): readonly Entry[] {
  let opening = false;
  return entries.filter((entry) => {
    if (entry.kind !== 'event') {
      opening = false;
      return true;
    }
    if (entry.event.action === 'created') {
      opening = true;
      return true;
    }
    return !(opening && entry.event.action === 'joined');
  });
}

/** Messages further apart than this start a new group even from the same sender. */
export const GROUP_GAP_MS = 5 * 60_000;

export function tsOf(entry: Entry): number {
  switch (entry.kind) {
    case 'message':
      return entry.message.ts;
    case 'presence':
      return entry.presence.ts;
    case 'event':
      return entry.event.ts;
  }
}

/** Host order: messages and room events have one (a message still queued does not). */
export function seqOf(entry: Entry): number | undefined {
  switch (entry.kind) {
    case 'message':
      return entry.message.seq;
    case 'event':
      return entry.event.seq;
    case 'presence':
      return undefined;
  }
}

/**
 * The rows for `entries`; with `firstUnreadSeq`, the "New messages" line goes above the first
 * message or room event whose seq is at least that (the first one that arrived unread).
 */
export function buildRows(
  entries: readonly Entry[],
  now: number,
  complete = false,
  firstUnreadSeq?: number,
): Row[] {
  const rows: Row[] = complete ? [{ kind: 'start', key: 'start' }] : [];
  let divider = firstUnreadSeq === undefined;
  /**
   * Something older than the first unread is here (or nothing older exists): a later entry
   * really is the first unread, not merely the oldest one loaded so far.
   */
  let readBefore = complete;
  // The current day as [start, end) in ms: most entries fall inside it, and a comparison is
  // much cheaper than a Date per entry (this runs over every message of a long room).
  let dayStart = Infinity;
  let dayEnd = -Infinity;
  let previous: ChatMessageView | undefined;
  // Row keys must be unique (the timeline's keyed list needs it), and entries cannot promise
  // that: a day comes back when a timestamp goes back across midnight, and an id is only
  // unique per sender. A repeated key gets a suffix; the first keeps its own.
  const seen = new Map<string, number>();
  const unique = (key: string): string => {
    const count = seen.get(key) ?? 0;
    seen.set(key, count + 1);
    return count === 0 ? key : `${key}#${count}`;
  };
  for (const entry of entries) {
    const ts = tsOf(entry);
    if (ts < dayStart || ts >= dayEnd) {
      const start = new Date(ts);
      start.setHours(0, 0, 0, 0);
      dayStart = start.getTime();
      start.setDate(start.getDate() + 1);
      dayEnd = start.getTime();
      rows.push({ kind: 'day', key: unique(`day:${dayKey(ts)}`), label: formatDay(ts, now), ts });
      previous = undefined;
    }
    if (!divider) {
      const seq = seqOf(entry);
      const first = firstUnreadSeq ?? Infinity;
      if (seq !== undefined && seq < first) readBefore = true;
      else if (seq !== undefined && (readBefore || seq === first)) {
        rows.push({ kind: 'unread', key: UNREAD_KEY });
        divider = true;
        previous = undefined;
      }
    }
    if (entry.kind === 'presence') {
      rows.push({ kind: 'presence', key: unique(entry.id), presence: entry.presence });
      previous = undefined;
      continue;
    }
    if (entry.kind === 'event') {
      rows.push({ kind: 'event', key: unique(entry.id), event: entry.event });
      previous = undefined;
      continue;
    }
    const message = entry.message;
    const head =
      previous === undefined ||
      previous.key !== message.key ||
      previous.from !== message.from ||
      message.ts - previous.ts > GROUP_GAP_MS;
    rows.push({ kind: 'message', key: unique(entry.id), message, head });
    previous = message;
  }
  return rows;
}

/**
 * What happened, without the nicknames (the UI shows those isolated, around it). Presence is
 * about being online in the room; joining and leaving the room itself are room events.
 */
export function presenceVerb(presence: PresenceEvent): string {
  switch (presence.event) {
    case 'joined':
      return 'came online';
    case 'left':
    case 'disconnected':
      return 'went offline';
    case 'renamed':
      return 'is now';
  }
}
