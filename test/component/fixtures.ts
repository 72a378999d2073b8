import type { ChatMessageView, PresenceEvent } from '../../src-shared/ipc/domain.ts';
import type { Entry } from '../../src-renderer/lib/rows.ts';

/** 10:00 local time on a fixed day, so "Today" and grouping do not depend on the clock. */
export const NOON = new Date(2026, 10, 25, 12, 0, 0).getTime();
const KEYS: Record<string, string> = {
  alice: 'A'.repeat(43),
  bob: 'B'.repeat(43),
};

let counter = 0;

export function message(
  from: string,
  text: string,
  ts: number,
  extra: Partial<ChatMessageView> = {},
): Entry {
  const id = `m${++counter}`;
  const view: ChatMessageView = {
    room: 'lobby',
    id,
    seq: counter,
    from,
    fp: `${from.toUpperCase()} FP`,
    key: KEYS[from] ?? 'C'.repeat(43),
    text,
    ts,
    own: from === 'alice',
    status: 'sent',
    ...extra,
  };
  return { kind: 'message', id, message: view };
}

export function presence(nick: string, event: PresenceEvent['event'], ts: number): Entry {
  const view: PresenceEvent = {
    room: 'lobby',
    event,
    nick,
    fp: `${nick.toUpperCase()} FP`,
    key: KEYS[nick] ?? 'C'.repeat(43),
    ts,
  };
  return { kind: 'presence', id: `p-${nick}-${event}-${ts}`, presence: view };
}
