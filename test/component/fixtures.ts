import type {
  AppSnapshot,
  ChatMessageView,
  HostState,
  PresenceEvent,
  RoomView,
  Settings,
} from '../../src-shared/ipc/domain.ts';
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

/** The host the fixtures are about, as main names it. */
export const HOST = '127.0.0.1:7878';

/** A host's connection state: connected to 127.0.0.1:7878 as alice unless told otherwise. */
export function hostState(extra: Partial<HostState> = {}): HostState {
  const hostId = extra.hostId ?? HOST;
  const [host = '127.0.0.1', port = '7878'] = hostId.split(/:(?=\d+$)/);
  return { status: 'connected', hostId, host, port: Number(port), nick: 'alice', ...extra };
}

/** A room in a host's list: joined, nothing unread, not muted. */
export function roomView(name: string, extra: Partial<RoomView> = {}): RoomView {
  return {
    name,
    joined: true,
    unread: 0,
    kind: 'room',
    open: false,
    mute: 'all',
    e2ee: 'not-encrypted',
    ...extra,
  };
}

export const SETTINGS: Settings = {
  notificationPrivacy: 'sender',
  muted: false,
  closeToTray: false,
  theme: 'system',
};

/** What `getSnapshot` answers: these hosts with their rooms (none: the connect screen). */
export function snapshot(
  hosts: { connection: HostState; rooms: RoomView[] }[] = [],
  extra: Partial<AppSnapshot> = {},
): AppSnapshot {
  return { hosts, settings: SETTINGS, recentHosts: [], ...extra };
}

/** jsdom has no matchMedia; the chat screen asks it about the window's width (wide here). */
export function stubMatchMedia(matches = false): void {
  window.matchMedia ??= (query: string): MediaQueryList =>
    ({
      matches,
      media: query,
      onchange: null,
      addEventListener: () => {},
      removeEventListener: () => {},
      addListener: () => {},
      removeListener: () => {},
      dispatchEvent: () => false,
    }) as MediaQueryList;
}
