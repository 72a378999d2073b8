import { formatAddress } from '../../src-shared/invite.ts';
import type { HostAddress } from '../../src-shared/invite.ts';
import type { ChatMessage, Member } from '../protocol/wire/messages.ts';
import type { Presence, SessionError, StateChange, Welcome } from '../client/session-events.ts';

/**
 * The line client's output: one line per event, so scripts can read it with a line reader and
 * a split on spaces (docs/line-client.md specifies it). Chat lines start with `msg` or
 * `history`, everything else with `***`. Whatever a host or another user sent is escaped, so
 * a hostile text can neither start a fake line nor drive the terminal.
 */

const NAMED_ESCAPES: Readonly<Record<string, string>> = {
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
};

// C0 and C1 controls, DEL, line/paragraph separators, bidi controls (which reorder what a
// reader sees), and lone surrogates (which a terminal shows as something else).
const UNSAFE = /[\\\p{Cc}\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\p{Cs}]/gu;

export function escapeText(text: string): string {
  return text.replace(UNSAFE, (c) => NAMED_ESCAPES[c] ?? hexEscape(c));
}

function hexEscape(c: string): string {
  const code = c.charCodeAt(0);
  return code < 0x100
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u{${code.toString(16).padStart(4, '0')}}`;
}

/** A time the host sent may be beyond what Date can show: printed as INVALID_TIME, never thrown. */
export const INVALID_TIME = 'invalid-time';

export function isoTime(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? INVALID_TIME : date.toISOString();
}

/** `#<room>`: rooms are checked on receipt, but a room named in an error's `ref` is not. */
export function roomTag(room: string): string {
  return `#${escapeText(room)}`;
}

export function addressText(address: HostAddress): string {
  return formatAddress(address.host, address.port);
}

/** `msg <time> #<room> <nick>: <text>`, or `history …` for a replayed message. */
export function chatLine(message: ChatMessage): string {
  const kind = message.history ? 'history' : 'msg';
  return `${kind} ${isoTime(message.ts)} ${roomTag(message.room)} ${escapeText(message.from)}: ${escapeText(message.text)}`;
}

/** `*** <time> [#<room> ]<text>`: `text` must already be escaped where it carries foreign data. */
export function systemLine(ms: number, text: string, room?: string): string {
  return `*** ${isoTime(ms)} ${room === undefined ? '' : `${roomTag(room)} `}${text}`;
}

export function memberText(member: Pick<Member, 'nick' | 'fp'>): string {
  return `${escapeText(member.nick)} (${escapeText(member.fp)})`;
}

export function secondsText(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

export function connectingLine(ms: number, address: HostAddress): string {
  return systemLine(ms, `connecting to ${addressText(address)}`);
}

export function welcomeLine(ms: number, welcome: Welcome): string {
  const { host } = welcome;
  const trust = host.trust;
  let how =
    trust.method === 'invite'
      ? 'pinned by invite'
      : trust.method === 'authority'
        ? `vouched for by authority "${escapeText(trust.authority ?? trust.certificate?.authority ?? '?')}"`
        : 'pinned on first use';
  if (trust.certificate && trust.method !== 'authority') {
    how += `, certificate from authority "${escapeText(trust.certificate.authority)}"`;
  }
  if (trust.replacedFingerprint) {
    how += `, replacing the old key ${escapeText(trust.replacedFingerprint)}`;
  } else if (trust.newlyPinned) how += ', just now';
  return systemLine(
    ms,
    `connected to ${addressText(host.address)} as ${escapeText(welcome.nick)}: ` +
      `host "${escapeText(host.name)}", fingerprint ${host.fingerprint} (${how})`,
  );
}

/**
 * After the welcome line, when an authority vouched for a key that replaced the pinned one:
 * the connection went ahead without a question, so this says it loudly.
 */
export function keyChangeLine(ms: number, welcome: Welcome): string | undefined {
  const { trust, address, fingerprint } = welcome.host;
  if (trust.method !== 'authority' || !trust.replacedFingerprint) return undefined;
  return systemLine(
    ms,
    `host key changed for ${addressText(address)}: ${escapeText(trust.replacedFingerprint)} -> ` +
      `${fingerprint}, accepted because authority "${escapeText(trust.authority ?? '?')}" ` +
      'vouches for the new key',
  );
}

/** After the welcome line, when the host's certificate was presented but not accepted. */
export function certificateProblemLine(ms: number, welcome: Welcome): string | undefined {
  const problem = welcome.host.trust.certificateProblem;
  if (!problem) return undefined;
  return systemLine(
    ms,
    `certificate not accepted (${problem.code}): ${escapeText(problem.message)}`,
  );
}

export function reconnectingLine(ms: number, change: StateChange): string {
  const reason = change.reason ? `: ${escapeText(change.reason)}` : '';
  return systemLine(
    ms,
    `reconnecting in ${secondsText(change.retryInMs ?? 0)} (attempt ${change.attempt})${reason}`,
  );
}

export function presenceLine(ms: number, presence: Presence): string {
  const who = memberText(presence);
  const text =
    presence.event === 'renamed'
      ? `renamed ${who} to ${escapeText(presence.newNick ?? presence.nick)}`
      : `${presence.event} ${who}`;
  return systemLine(ms, text, presence.room);
}

export function membersLine(ms: number, room: string, members: readonly Member[]): string {
  const list = members.map(memberText).join(', ');
  return systemLine(ms, `members ${members.length}${list ? `: ${list}` : ''}`, room);
}

export function syncedLine(ms: number, room: string): string {
  return systemLine(ms, 'synced: live messages follow', room);
}

export function nickLine(ms: number, nick: string): string {
  return systemLine(ms, `nick ${escapeText(nick)}: you are now known as ${escapeText(nick)}`);
}

export function errorLine(
  ms: number,
  error: Pick<SessionError, 'code' | 'message' | 'room' | 'retryAfterMs' | 'dropped'>,
): string {
  let text = `error ${escapeText(error.code)}: ${escapeText(error.message)}`;
  if (error.dropped) text += ' (that message was not sent)';
  else if (error.code === 'rate-limited' && error.retryAfterMs !== undefined) {
    text += ` (resending in ${secondsText(error.retryAfterMs)})`;
  }
  return systemLine(ms, text, error.room);
}
