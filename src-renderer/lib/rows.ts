import type { ChatMessageView, PresenceEvent, RoomEventView } from '../../src-shared/ipc/domain.ts';
import { dayKey, formatDay } from './format.ts';

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
  | {
      readonly kind: 'message';
      readonly key: string;
      readonly message: ChatMessageView;
      /** First of a run by one sender: shows the name, avatar and time. */
      readonly head: boolean;
    }
  | { readonly kind: 'presence'; readonly key: string; readonly presence: PresenceEvent }
  | { readonly kind: 'event'; readonly key: string; readonly event: RoomEventEntry };

/** A first guess at each row's height, until it is measured on screen. */
export function estimateHeight(row: Row): number {
  switch (row.kind) {
    case 'start':
      return 112;
    case 'day':
      return 44;
    case 'presence':
    case 'event':
      return 28;
    case 'message':
      return (row.head ? 50 : 26) + Math.floor(row.message.text.length / 90) * 20;
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

export function buildRows(entries: readonly Entry[], now: number, complete = false): Row[] {
  const rows: Row[] = complete ? [{ kind: 'start', key: 'start' }] : [];
  // The current day as [start, end) in ms: most entries fall inside it, and a comparison is
  // much cheaper than a Date per entry (this runs over every message of a long room).
  let dayStart = Infinity;
  let dayEnd = -Infinity;
  let previous: ChatMessageView | undefined;
  for (const entry of entries) {
    const ts = tsOf(entry);
    if (ts < dayStart || ts >= dayEnd) {
      const start = new Date(ts);
      start.setHours(0, 0, 0, 0);
      dayStart = start.getTime();
      start.setDate(start.getDate() + 1);
      dayEnd = start.getTime();
      rows.push({ kind: 'day', key: `day:${dayKey(ts)}`, label: formatDay(ts, now), ts });
      previous = undefined;
    }
    if (entry.kind === 'presence') {
      rows.push({ kind: 'presence', key: entry.id, presence: entry.presence });
      previous = undefined;
      continue;
    }
    if (entry.kind === 'event') {
      rows.push({ kind: 'event', key: entry.id, event: entry.event });
      previous = undefined;
      continue;
    }
    const message = entry.message;
    const head =
      previous === undefined ||
      previous.key !== message.key ||
      previous.from !== message.from ||
      message.ts - previous.ts > GROUP_GAP_MS;
    rows.push({ kind: 'message', key: entry.id, message, head });
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
