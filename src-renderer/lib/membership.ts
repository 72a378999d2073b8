// Roles, the rules the UI follows to offer an action (the host checks them again), and the
// words for what happened to a room and for an invite that did not work.

import type { Role } from '../../src-shared/ipc/domain.ts';

export type { Role };

const RANK: Record<Role, number> = { owner: 3, admin: 2, member: 1 };

export const rankOf = (role: Role | undefined): number => (role ? RANK[role] : 0);

/** Admins and owners manage a room: invites, topic, removing people. */
export const isAdmin = (role: Role | undefined): boolean => rankOf(role) >= RANK.admin;

/** The roles someone with `role` may give: their own and below, highest first. */
export function grantableRoles(role: Role | undefined): Role[] {
  return (['owner', 'admin', 'member'] as const).filter((r) => RANK[r] <= rankOf(role));
}

/** Only owners open a room to everyone on the host, or make it invite-only again. */
export const isOwner = (role: Role | undefined): boolean => role === 'owner';

/** Remove, ban and role changes apply only to people ranked below the actor. */
export function outranks(actor: Role | undefined, target: Role | undefined): boolean {
  return isAdmin(actor) && rankOf(actor) > rankOf(target ?? 'member');
}

export const ROLE_LABEL: Record<Role, string> = {
  owner: 'Owner',
  admin: 'Admin',
  member: 'Member',
};

/** What the invite dialog asks the host for. */
export interface InviteRequest {
  readonly role: Role;
  /** null: unlimited. */
  readonly uses: number | null;
  /** null: never expires. */
  readonly expiresInMs: number | null;
}
/** A link just made: shown once, with what limits it. */
export interface CreatedInvite {
  readonly link: string;
  readonly expiresAt: number | null;
  readonly usesLeft: number | null;
}
/** A live invite as the list shows it (never its token). */
export interface LiveInvite {
  readonly id: string;
  readonly role: Role;
  readonly usesLeft: number | null;
  readonly expiresAt: number | null;
  readonly createdBy?: Named | undefined;
}

export const capitalize = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);

const HOUR = 3600_000;
/** Invite lifetimes offered (null: never expires). */
export const EXPIRY_OPTIONS: readonly { label: string; ms: number | null }[] = [
  { label: '1 hour', ms: HOUR },
  { label: '1 day', ms: 24 * HOUR },
  { label: '7 days', ms: 7 * 24 * HOUR },
  { label: '30 days', ms: 30 * 24 * HOUR },
  { label: 'Never', ms: null },
];
/** Invite use limits offered (null: unlimited). */
export const USES_OPTIONS: readonly { label: string; uses: number | null }[] = [
  { label: '1 use', uses: 1 },
  { label: '5 uses', uses: 5 },
  { label: '25 uses', uses: 25 },
  { label: 'Unlimited', uses: null },
];

/** "expires in 7 days · 1 use left", for an invite's summary. */
export function inviteSummary(
  invite: { expiresAt: number | null; usesLeft: number | null },
  now: number,
): string {
  const expiry =
    invite.expiresAt === null ? 'never expires' : `expires ${until(invite.expiresAt, now)}`;
  const uses =
    invite.usesLeft === null
      ? 'unlimited uses'
      : invite.usesLeft === 1
        ? '1 use left'
        : `${invite.usesLeft} uses left`;
  return `${expiry} · ${uses}`;
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

function until(ts: number, now: number): string {
  const minutes = Math.round((ts - now) / 60_000);
  if (minutes < 1) return 'in less than a minute';
  if (minutes < 90) return relative.format(minutes, 'minute');
  const hours = Math.round(minutes / 60);
  if (hours < 36) return relative.format(hours, 'hour');
  return relative.format(Math.round(hours / 24), 'day');
}

/** A person named in a room event: shown isolated (bdi), as nicknames may run right to left. */
export interface Named {
  readonly nick: string;
  readonly key?: string;
}

export interface RoomEventLike {
  readonly action: string;
  readonly actor?: Named | undefined;
  readonly target?: Named | undefined;
  readonly role?: Role | undefined;
  readonly topic?: string | undefined;
}

/** Someone's own words inside a sentence (a topic): isolated like a name, shown plainly. */
export interface Quote {
  readonly quote: string;
}

/** A sentence as words, names and quotes, so the UI can isolate each name and quote. */
export type Phrase = readonly (string | Named | Quote)[];

/** Events by the host's operator (no actor) are said to be by "The host". */
const OPERATOR: Named = { nick: 'The host' };

const ROLE_PHRASE: Record<Role, string> = {
  owner: 'an owner',
  admin: 'an admin',
  member: 'a member',
};

/** "alice removed bob", "bob joined", "alice made carol an admin", … */
export function eventPhrase(event: RoomEventLike, direct = false): Phrase {
  const actor = event.actor ?? OPERATOR;
  const target = event.target ?? { nick: 'someone' };
  switch (event.action) {
    case 'created':
      return [actor, direct ? ' started the conversation' : ' created the room'];
    case 'joined':
      return [event.actor ?? event.target ?? OPERATOR, ' joined'];
    case 'left':
      return [
        event.actor ?? event.target ?? OPERATOR,
        direct ? ' left the conversation' : ' left the room',
      ];
    case 'removed':
      return [actor, ' removed ', target];
    case 'banned':
      return [actor, ' banned ', target];
    case 'unbanned':
      return [actor, ' lifted the ban on ', target];
    case 'role': {
      const role = ROLE_PHRASE[event.role ?? 'member'];
      const self = event.actor && event.target && samePerson(event.actor, event.target);
      return self ? [actor, ` is now ${role}`] : [actor, ' made ', target, ` ${role}`];
    }
    case 'topic':
      return event.topic
        ? [actor, ' set the topic to “', { quote: event.topic }, '”']
        : [actor, ' cleared the topic'];
    case 'opened':
      return [actor, ' opened the room to everyone on the host'];
    case 'closed':
      return [actor, ' made the room invite-only'];
    default:
      return [actor, ' changed the room'];
  }
}

/**
 * The seqs of the 'banned' rows that still stand: the newest ban of their key, with no
 * 'unbanned' after it. Only those offer Unban; a lifted ban's row stays as a record.
 */
export function standingBans(
  events: readonly {
    readonly seq: number;
    readonly action: string;
    readonly target?: Named | undefined;
  }[],
): Set<number> {
  const latest = new Map<string, { seq: number; banned: boolean }>();
  for (const event of events) {
    const key = event.target?.key;
    if (key === undefined || (event.action !== 'banned' && event.action !== 'unbanned')) continue;
    const seen = latest.get(key);
    if (!seen || event.seq > seen.seq) {
      latest.set(key, { seq: event.seq, banned: event.action === 'banned' });
    }
  }
  return new Set([...latest.values()].filter((ban) => ban.banned).map((ban) => ban.seq));
}

function samePerson(a: Named, b: Named): boolean {
  return a.key !== undefined && b.key !== undefined ? a.key === b.key : a.nick === b.nick;
}

export function phraseText(phrase: Phrase): string {
  return phrase
    .map((part) => (typeof part === 'string' ? part : 'quote' in part ? part.quote : part.nick))
    .join('');
}

export const ASK_FOR_NEW_LINK = 'Ask the person who invited you for a new link.';

/** What went wrong with an invite link, and what to do about it. */
export function inviteProblem(
  code: string,
  room: string | undefined,
  message: string,
): { title: string; text: string } {
  const where = room ? `#${room}` : 'the room';
  switch (code) {
    case 'invite-expired':
      return {
        title: 'This invite link has expired',
        text: `Invite links only work for a while, and this one ran out before you used it. ${ASK_FOR_NEW_LINK}`,
      };
    case 'invite-used-up':
      return {
        title: 'This invite link has been used up',
        text: `It was made for a set number of people, and they have all joined with it. ${ASK_FOR_NEW_LINK}`,
      };
    case 'invite-revoked':
      return {
        title: 'This invite link was withdrawn',
        text: `An admin of ${where} revoked it, so it no longer lets anyone in. ${ASK_FOR_NEW_LINK}`,
      };
    case 'invite-unknown':
      return {
        title: 'This host does not know this invite link',
        text: `Perhaps part of the link was lost when it was copied, or it was made for another host. Check that you pasted all of it. ${ASK_FOR_NEW_LINK}`,
      };
    case 'banned':
      return {
        title: `You are banned from ${where}`,
        text: 'An admin of the room banned you, so invite links to it do not work for you. Only its admins can lift the ban.',
      };
    case 'rate-limited':
      return {
        title: 'Too many invite links tried',
        text: 'The host refused to check more links for now. Wait a minute, then connect with the link again.',
      };
    default:
      return { title: 'The invite link did not work', text: `${message} ${ASK_FOR_NEW_LINK}` };
  }
}

/** "You were removed from #room by alice." */
export function removalText(
  room: string,
  reason: 'removed' | 'banned' | 'parted',
  by: Named | undefined,
): string {
  const who = by ? ` by ${by.nick}` : ' by the host';
  switch (reason) {
    case 'removed':
      return `You were removed from #${room}${who}.`;
    case 'banned':
      return `You were banned from #${room}${who}.`;
    case 'parted':
      return `You left #${room}.`;
  }
}
