// Who may do what to a room (docs/protocol.md §11.2), as pure functions of roles and counts, so
// that every rule is tested without a host. The membership handler looks the facts up, asks
// here, and refuses with the answer's code and message; `undefined` means allowed.
import type { HostErrorCode, Role } from '../protocol/wire/messages.ts';
import type { RoomKind } from './room-store.ts';

export interface Refusal {
  readonly code: HostErrorCode;
  readonly message: string;
}

/** undefined: allowed. */
export type Verdict = Refusal | undefined;

/** How many rooms (and direct messages) one key may be a member of. */
export const MAX_ROOMS_PER_KEY = 500;

const RANK: Readonly<Record<Role, number>> = { owner: 3, admin: 2, member: 1 };

export function rank(role: Role | undefined): number {
  return role === undefined ? 0 : RANK[role];
}

function forbidden(message: string): Refusal {
  return { code: 'forbidden', message };
}

const NOT_IN_DM = forbidden('a direct message has no roles, invites or bans');

/** Creating, listing and revoking invites; `granted` is the role an invite would give. */
export function mayManageInvites(actor: Role | undefined, kind: RoomKind, granted?: Role): Verdict {
  if (kind === 'dm') return NOT_IN_DM;
  if (rank(actor) < RANK.admin) return forbidden('only admins and owners manage invites');
  if (granted !== undefined && rank(granted) > rank(actor)) {
    return forbidden('an invite cannot give a role higher than your own');
  }
  return undefined;
}

/**
 * Creating a room: the key must be an admin or owner somewhere (so a stranger with one member
 * invite cannot fill the host with rooms), the name must be free and not a direct message's.
 */
export function mayCreateRoom(facts: {
  readonly name: string;
  readonly nameTaken: boolean;
  readonly rolesOfKey: readonly Role[];
}): Verdict {
  if (!facts.rolesOfKey.some((role) => rank(role) >= RANK.admin)) {
    return forbidden('only an admin or owner of a room may create rooms');
  }
  if (facts.name.startsWith('dm.')) {
    return {
      code: 'room-exists',
      message: 'names starting with "dm." are kept for direct messages',
    };
  }
  if (facts.nameTaken) {
    return { code: 'room-exists', message: `the name "${facts.name}" is taken` };
  }
  return mayJoinAnother(facts.rolesOfKey.length);
}

/** Whether a key that is a member of `count` rooms may become a member of one more. */
export function mayJoinAnother(count: number): Verdict {
  if (count < MAX_ROOMS_PER_KEY) return undefined;
  return {
    code: 'too-many-rooms',
    message: `you are a member of ${MAX_ROOMS_PER_KEY} rooms, as many as this host allows`,
  };
}

/** Admins and owners set a room's topic; in a direct message, either member. */
export function maySetTopic(actor: Role | undefined, kind: RoomKind): Verdict {
  if (kind === 'dm' ? actor !== undefined : rank(actor) >= RANK.admin) return undefined;
  return forbidden('only admins and owners set the topic');
}

/** Only owners open or close a room; a direct message stays between its two. */
export function maySetOpen(actor: Role | undefined, kind: RoomKind): Verdict {
  if (kind === 'dm') return forbidden('a direct message cannot be opened');
  if (actor !== 'owner') return forbidden('only owners open or close a room');
  return undefined;
}

/**
 * Removing or banning: an admin or owner, on someone of a lower role, never oneself (that is
 * `part`), never in a direct message. A key that is no member may be banned ahead (if the host
 * knows it at all), not removed.
 */
export function mayRemove(facts: {
  readonly actor: Role | undefined;
  readonly kind: RoomKind;
  readonly self: boolean;
  /** The target's role; undefined: not a member. */
  readonly target: Role | undefined;
  readonly ban: boolean;
  /** Whether the host knows the target key (a nickname, or a membership anywhere). */
  readonly knownKey: boolean;
}): Verdict {
  if (facts.kind === 'dm') return NOT_IN_DM;
  if (rank(facts.actor) < RANK.admin) return forbidden('only admins and owners remove people');
  if (facts.self) return forbidden('to leave the room yourself, part it');
  if (facts.target === undefined) {
    if (facts.ban && facts.knownKey) return undefined;
    return { code: 'not-member', message: 'that key is not a member of this room' };
  }
  if (rank(facts.target) >= rank(facts.actor)) {
    return forbidden('you can only remove people of a lower role than yours');
  }
  return undefined;
}

export function mayUnban(actor: Role | undefined, kind: RoomKind): Verdict {
  if (kind === 'dm') return NOT_IN_DM;
  if (rank(actor) < RANK.admin) return forbidden('only admins and owners lift bans');
  return undefined;
}

/**
 * Changing a role: of someone below you, to a role no higher than yours. Your own role you may
 * lower, unless that leaves the room without an owner. Owners cannot demote other owners.
 */
export function maySetRole(facts: {
  readonly actor: Role | undefined;
  readonly kind: RoomKind;
  readonly self: boolean;
  /** The target's current role; undefined: not a member. */
  readonly target: Role | undefined;
  readonly role: Role;
  readonly owners: number;
}): Verdict {
  if (facts.kind === 'dm') return NOT_IN_DM;
  if (facts.actor === undefined) return forbidden('only members have roles to give');
  if (facts.target === undefined) {
    return { code: 'not-member', message: 'that key is not a member of this room' };
  }
  if (facts.self) {
    if (rank(facts.role) > rank(facts.actor)) return forbidden('you cannot raise your own role');
    if (facts.actor === 'owner' && facts.role !== 'owner' && facts.owners <= 1) {
      return forbidden('the room would have no owner: make someone else owner first');
    }
    return undefined;
  }
  if (rank(facts.target) >= rank(facts.actor)) {
    return forbidden('you can only change the role of people below yours');
  }
  if (rank(facts.role) > rank(facts.actor)) {
    return forbidden('you cannot give a role higher than your own');
  }
  return undefined;
}

/** Any member may part, but the last owner only once nobody else remains. */
export function mayPart(facts: {
  readonly actor: Role | undefined;
  readonly owners: number;
  readonly members: number;
}): Verdict {
  if (facts.actor === undefined) {
    return { code: 'not-member', message: 'you are not a member of this room' };
  }
  if (facts.actor === 'owner' && facts.owners <= 1 && facts.members > 1) {
    return forbidden('you are the last owner: make someone else owner first');
  }
  return undefined;
}

/** A direct message is opened with another key that shares a room (not a DM) with you. */
export function mayOpenDm(facts: {
  readonly self: boolean;
  readonly sharesRoom: boolean;
}): Verdict {
  if (facts.self || !facts.sharesRoom) {
    return { code: 'not-member', message: 'you can message only people who share a room with you' };
  }
  return undefined;
}
