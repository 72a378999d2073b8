import { formatAddress } from '../../src-shared/invite.ts';
import type { HostAddress } from '../../src-shared/invite.ts';
import type {
  InviteInfo,
  Member,
  Person,
  Role,
  RoomEvent,
  RoomInfo,
} from '../protocol/wire/messages.ts';
import type {
  InviteRefused,
  Presence,
  RoomRemoved,
  SessionError,
  StateChange,
  Welcome,
} from '../client/session-events.ts';

/**
 * The line client's output: one line per event, so scripts can read it with a line reader and
 * a split on spaces (docs/line-client.md specifies it). Chat lines (message-lines.ts) start with
 * `msg` or `history`, room events with `event` or `history-event`, everything else with `***`. Whatever a host or another user sent is escaped, so
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

/** `*** <time> [#<room> ]<text>`: `text` must already be escaped where it carries foreign data. */
export function systemLine(ms: number, text: string, room?: string): string {
  return `*** ${isoTime(ms)} ${room === undefined ? '' : `${roomTag(room)} `}${text}`;
}

export function memberText(member: Pick<Member, 'nick' | 'fp'>): string {
  return `${escapeText(member.nick)} (${escapeText(member.fp)})`;
}

/** `<nick> (<fp>)`, then ` <role> online|offline` when the host listed the member with a role. */
export function memberStanding(member: Member): string {
  const standing = member.role ? ` ${member.role} ${member.online ? 'online' : 'offline'}` : '';
  return memberText(member) + standing;
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
  const list = members.map(memberStanding).join(', ');
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

// ── private rooms ───────────────────────────────────────────────────────────────────

/** Who did something: a nickname, or `(operator)` for the host's operator (never a nickname). */
export function actorText(person: Person | undefined): string {
  return person ? escapeText(person.nick) : '(operator)';
}

/** What a room event says, after its actor: `removed bob`, `set the topic: …`. */
export function eventText(event: RoomEvent): string {
  const target = event.target ? escapeText(event.target.nick) : '(someone)';
  switch (event.action) {
    case 'created':
      return 'created the room';
    case 'joined':
      return event.role && event.role !== 'member' ? `joined as ${event.role}` : 'joined';
    case 'left':
      return 'left';
    case 'removed':
      return `removed ${target}`;
    case 'banned':
      return `banned ${target}`;
    case 'unbanned':
      return `unbanned ${target}`;
    case 'role':
      return `made ${target} ${event.role ?? 'member'}`;
    case 'topic':
      return event.topic ? `set the topic: ${escapeText(event.topic)}` : 'cleared the topic';
    case 'opened':
      return 'opened the room to everyone on the host';
    case 'closed':
      return 'made the room invite-only';
  }
}

/** `event <time> #<room> <actor> <what>`, or `history-event …` for one from the history. */
export function roomEventLine(event: RoomEvent): string {
  const kind = event.history ? 'history-event' : 'event';
  return `${kind} ${isoTime(event.ts)} ${roomTag(event.room)} ${actorText(event.actor)} ${eventText(event)}`;
}

/** This key is no longer a member of the room. */
export function removedLine(ms: number, removed: RoomRemoved): string {
  const by = actorText(removed.by);
  const text =
    removed.reason === 'parted'
      ? 'removed: you left the room'
      : `removed: ${by} ${removed.reason === 'banned' ? 'banned' : 'removed'} you from the room`;
  const unsent =
    removed.unsent.length > 0
      ? ` (${removed.unsent.length} message${removed.unsent.length === 1 ? '' : 's'} for it not sent)`
      : '';
  return systemLine(ms, text + unsent, removed.room);
}

const REFUSALS: Partial<Record<InviteRefused['code'], string>> = {
  'invite-unknown':
    'this invite is not known on this host (mistyped, or for another host); ask for a new one',
  'invite-expired': 'this invite has expired; ask for a new one',
  'invite-used-up': 'this invite has been used as often as it allows; ask for a new one',
  'invite-revoked': 'this invite was withdrawn; ask for a new one',
  banned: 'you are banned from this room; the invite cannot admit you',
};

/** `error <code>: <what it means for you>`: the invite was refused for good. */
export function inviteRefusedLine(ms: number, refused: InviteRefused): string {
  const text = REFUSALS[refused.code] ?? `the invite was refused: ${escapeText(refused.message)}`;
  return systemLine(ms, `error ${escapeText(refused.code)}: ${text}`, refused.room);
}

export function redeemedLine(ms: number, room: string, role: Role): string {
  return systemLine(ms, `invite accepted: you are ${roleText(role)} of this room`, room);
}

/** `an owner`, `an admin`, `a member`. */
function roleText(role: Role): string {
  return role === 'member' ? 'a member' : `an ${role}`;
}

/**
 * `<room> (<role>[, open][, e2ee][, direct messages with <nick>])`: `e2ee` marks a room whose
 * messages are end-to-end encrypted (the host cannot read them).
 */
export function roomText(info: RoomInfo): string {
  const parts: string[] = [info.role ?? 'not a member'];
  if (info.open) parts.push('open');
  if (info.e2ee) parts.push('e2ee');
  if (info.kind === 'dm')
    parts.push(`direct messages with ${info.peer ? escapeText(info.peer.nick) : '?'}`);
  return `${roomTag(info.room)} (${parts.join(', ')})`;
}

/** `rooms <count>[: #<room> (<role>…), …]`: the rooms you may see. */
export function roomsLine(ms: number, rooms: readonly RoomInfo[]): string {
  const list = rooms.map(roomText).join(', ');
  return systemLine(ms, `rooms ${rooms.length}${list ? `: ${list}` : ''}`);
}

/** A room newly in your list: you became a member (an invite, a DM, a new room). */
export function roomAddedLine(ms: number, info: RoomInfo): string {
  const what =
    info.kind === 'dm'
      ? `direct messages with ${info.peer ? escapeText(info.peer.nick) : '?'}`
      : `you are ${roleText(info.role ?? 'member')} here now`;
  return systemLine(ms, `room ${what}`, info.room);
}

export function topicLine(ms: number, info: RoomInfo | undefined, room: string): string {
  return systemLine(ms, info?.topic ? `topic: ${escapeText(info.topic)}` : 'topic: (none)', room);
}

function usesText(usesLeft: number | null): string {
  return usesLeft === null ? 'unlimited uses' : `${usesLeft} use${usesLeft === 1 ? '' : 's'} left`;
}

function expiryText(expiresAt: number | null): string {
  return expiresAt === null ? 'never expires' : `expires ${isoTime(expiresAt)}`;
}

/** `invite <id> <role>, <uses>, <expiry>: <link>`: the link carries the token, shown once. */
export function inviteCreatedLine(ms: number, invite: InviteInfo, link: string): string {
  return systemLine(
    ms,
    `invite ${escapeText(invite.id)} ${invite.role}, ${usesText(invite.usesLeft)}, ${expiryText(invite.expiresAt)}: ${escapeText(link)}`,
    invite.room,
  );
}

/** One live invite of `/invites`: `invite <id> <role>, <uses>, <expiry>, by <nick>`. */
export function inviteListedLine(ms: number, invite: InviteInfo): string {
  return systemLine(
    ms,
    `invite ${escapeText(invite.id)} ${invite.role}, ${usesText(invite.usesLeft)}, ${expiryText(invite.expiresAt)}, by ${actorText(invite.createdBy)}`,
    invite.room,
  );
}
