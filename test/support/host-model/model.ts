import { foldNick } from '../../../src-main/server/db/fold-nick.ts';
import { DEFAULT_LIMITS, type HostLimits } from '../../../src-main/server/host-limits.ts';
import { encodeMessage, utf8Length } from '../../../src-main/protocol/wire/codec.ts';

/**
 * The model of the whole host that test/integration/server/model.test.ts runs random commands
 * against: who is connected (per slot), in which rooms, under which nickname, who owns which
 * nickname, and which messages were acknowledged. It holds expectations only; what really
 * happened (connections, received messages, the database) lives in HostWorld.
 */

/**
 * The open rooms: any key may join them (and becomes a member). The longest room name the
 * protocol allows is one of them: it counts in every `msg`'s size.
 */
export const ROOMS = ['lobby', 'dev', `long-${'r'.repeat(59)}`] as const;
/** A private room: only its members see it; to anyone else it does not exist. */
export const PRIVATE_ROOM = 'vault';
export const ALL_ROOMS = [...ROOMS, PRIVATE_ROOM] as const;
/** Stands for "one of the rooms the connection is in" in a generated command. */
export const JOINED = '(joined)';
/** A well-formed room name the host does not have: `unknown-room`. */
export const UNKNOWN_ROOM = 'nowhere';
/** Connection slots and the key each uses: four keys, and keys 0 and 1 with a second window. */
export const SLOT_KEYS = [0, 1, 2, 3, 0, 1] as const;
export const FIRST_NICKS = ['alice', 'bob', 'carol', 'dave'] as const;
/**
 * Renames draw from here: case and compatibility variants of each other ("Alice", "ＡＬＩＣＥ",
 * "ﬁnn" folds to "finn"), the longest allowed, and letters of other scripts.
 */
export const NICK_POOL = [
  'alice',
  'Alice',
  'ＡＬＩＣＥ',
  'bob',
  'erin',
  'ﬁnn',
  'finn',
  'Ωmega',
  'ωMEGA',
  '李小龍',
  'zoë_-.9',
  'n'.repeat(32),
  '𐐀'.repeat(32), // the longest in bytes: 32 letters of 4 bytes each
  'Ⅻ',
  'xii',
] as const;

/**
 * The host's limits in the model test: the defaults, but a generous request allowance (every
 * step pings every connection) and few flood strikes, so that a flood close happens too.
 */
export const MODEL_LIMITS: Partial<HostLimits> = {
  requestsPerSecond: 100_000,
  requestBurst: 100_000,
  floodStrikes: 12,
  historyLimit: 1_000_000,
};
export const LIMITS: HostLimits = { ...DEFAULT_LIMITS, ...MODEL_LIMITS };

/** A record holds 65519 bytes; an item's header takes 3, so one message is at most this. */
export const MAX_MESSAGE_BYTES = 65_516;

export interface ConnState {
  readonly slot: number;
  readonly key: number;
  /** Distinguishes this connection from earlier ones in the same slot. */
  readonly generation: number;
  nick: string;
  readonly rooms: Set<string>;
  /** Sends refused for the rate limit in a row (the host closes with `flooding` past the limit). */
  strikes: number;
}

/** A message a client still has to resend: refused for the rate limit, or its connection died. */
export interface Unsent {
  readonly room: string;
  readonly id: string;
  readonly text: string;
  /** The connection dropped right after sending: the host may or may not have stored it. */
  readonly uncertain: boolean;
}

export interface KeyState {
  readonly index: number;
  /** The nickname new connections of this key use (the key owns it once welcomed). */
  nick: string;
  readonly outbox: Unsent[];
}

export interface AckedMessage {
  readonly key: number;
  readonly room: string;
  readonly id: string;
  readonly text: string;
  readonly seq: number;
}

export type Role = 'owner' | 'admin' | 'member';
export const RANK: Readonly<Record<Role, number>> = { owner: 3, admin: 2, member: 1 };
export const rank = (role: Role | undefined): number => (role ? RANK[role] : 0);

/** An invite to PRIVATE_ROOM the model knows the token of: printed at a start, or made. */
export interface ModelInvite {
  readonly token: string;
  /** Known for invites made over the wire (the answer says); a start invite's is not shown. */
  readonly id?: string;
  readonly role: Role;
  /** The key that made it over the wire; a start invite is the operator's. */
  readonly maker?: number;
  /** null: no limit. */
  usesLeft: number | null;
  revoked: boolean;
}

/** What redeeming a token should come to (docs/protocol.md §11.2: the order of the checks). */
export type RedeemExpectation =
  | { readonly ok: true; readonly role: Role; readonly invite?: ModelInvite }
  | {
      readonly ok: false;
      readonly code: 'invite-unknown' | 'invite-revoked' | 'invite-used-up' | 'banned';
    };

export class HostModel {
  readonly keys: KeyState[] = FIRST_NICKS.map((nick, index) => ({ index, nick, outbox: [] }));
  readonly slots: (ConnState | undefined)[] = SLOT_KEYS.map(() => undefined);
  /** Folded nickname → the key that claimed it first (claims are forever). */
  readonly nickOwners = new Map<string, number>();
  /** `key index/id` → the acknowledged message. */
  readonly acked = new Map<string, AckedMessage>();
  /** Every text ever sent under `key index/id`, and its room (the first send decides). */
  readonly sent = new Map<string, { readonly room: string; readonly text: string }>();
  /** Messages the host refused for good (too long, malformed): they must never be stored. */
  readonly refused = new Set<string>();
  /** Keys that sent `typing` to a room: only those may show up as typing there. */
  readonly typers = new Set<string>();
  /** PRIVATE_ROOM's members and their roles. */
  readonly roles = new Map<number, Role>();
  /** Whether PRIVATE_ROOM's owner opened it: then any key not banned may see and join it. */
  privateRoomOpen = false;
  /** Keys banned from PRIVATE_ROOM. */
  readonly bans = new Set<number>();
  readonly invites: ModelInvite[] = [];
  /** `key/room`: keys that joined an open room, which made them members of it. */
  readonly openMembers = new Set<string>();
  /** Keys the host has welcomed at least once: it knows them (a pre-emptive ban needs that). */
  readonly known = new Set<number>();
  /** When each failed redemption happened, and whose: the guessing budgets (§10). */
  readonly redeemFailures: { readonly key: number; readonly at: number }[] = [];
  /** When each membership request was made, and whose: the `manage` budget (§10). */
  readonly manageRequests: { readonly key: number; readonly at: number }[] = [];
  #generation = 0;
  #ids = 0;

  nextGeneration(): number {
    return ++this.#generation;
  }

  nextId(key: number): string {
    return `k${key}-m${String(++this.#ids).padStart(6, '0')}`;
  }

  open(): ConnState[] {
    return this.slots.filter((s): s is ConnState => s !== undefined);
  }

  closedSlots(): number[] {
    return this.slots.flatMap((s, slot) => (s === undefined ? [slot] : []));
  }

  connectionsOf(key: number): ConnState[] {
    return this.open().filter((c) => c.key === key);
  }

  /** Keys with at least one connection in the room, and the nickname each shows. */
  members(room: string): Map<number, string> {
    const members = new Map<number, string>();
    for (const conn of this.open()) {
      if (conn.rooms.has(room) && !members.has(conn.key)) members.set(conn.key, conn.nick);
    }
    return members;
  }

  /** Whether the key may see the room: an open room, or the private one as a member (or opened). */
  visible(key: number, room: string): boolean {
    if ((ROOMS as readonly string[]).includes(room)) return true;
    if (room !== PRIVATE_ROOM) return false;
    return this.roles.has(key) || (this.privateRoomOpen && !this.bans.has(key));
  }

  /**
   * The key's role in PRIVATE_ROOM changed (or it is no longer a member): the host revokes every
   * invite it made for a role above its new one, used up or not (docs/protocol.md §11.2).
   */
  makerRoleChanged(key: number): void {
    const now = rank(this.roles.get(key));
    for (const invite of this.invites) {
      if (invite.maker === key && rank(invite.role) > now) invite.revoked = true;
    }
  }

  owners(): number {
    return [...this.roles.values()].filter((role) => role === 'owner').length;
  }

  redeemOutcome(key: number, token: string): RedeemExpectation {
    const invite = this.invites.find((i) => i.token === token);
    if (!invite) return { ok: false, code: 'invite-unknown' };
    const role = this.roles.get(key);
    // A member redeeming again spends nothing, whatever became of the invite.
    if (role && rank(role) >= rank(invite.role)) return { ok: true, role };
    if (invite.revoked) return { ok: false, code: 'invite-revoked' };
    if (invite.usesLeft === 0) return { ok: false, code: 'invite-used-up' };
    if (this.bans.has(key)) return { ok: false, code: 'banned' };
    return { ok: true, role: invite.role, invite };
  }

  /**
   * Whether a redemption by this key may meet an empty guessing budget (5 failures per key, 10
   * per address, refilled within a minute): loosely, enough failures and a recent one.
   */
  mayBeOutOfGuesses(key: number, now: number): boolean {
    const recent = this.redeemFailures.filter((f) => now - f.at < 60_000);
    const mine = this.redeemFailures.filter((f) => f.key === key);
    return (
      (mine.length >= 5 && recent.some((f) => f.key === key)) ||
      (this.redeemFailures.length >= 10 && recent.length > 0)
    );
  }

  ownerOf(nick: string): number | undefined {
    return this.nickOwners.get(foldNick(nick));
  }

  mayUse(key: number, nick: string): boolean {
    const owner = this.ownerOf(nick);
    return owner === undefined || owner === key;
  }

  /** The nickname a new connection of `key` says hello with: its own, or a free one. */
  helloNick(key: number): string {
    const state = this.keys[key];
    if (!state) throw new Error(`no key ${key}`);
    if (this.mayUse(key, state.nick)) return state.nick;
    const free = NICK_POOL.find((nick) => this.mayUse(key, nick));
    return free ?? `${FIRST_NICKS[key] ?? 'k'}${key}x`;
  }
}

export const messageKey = (key: number, id: string) => `${key}/${id}`;

/** Replaces lone surrogates with U+FFFD, as storing text as UTF-8 does (String#toWellFormed). */
export function wellFormed(text: string): string {
  return text.replace(
    /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
    '\ufffd',
  );
}

/** What the host may answer to a `send` of this text, by size and form alone. */
export interface SendVerdict {
  /** The schema refuses it (empty): protocol-error. A long one is text-too-long, not this. */
  readonly malformed: boolean;
  /** It must be refused with `text-too-long`. */
  readonly tooLong: boolean;
  /** It may be refused with `text-too-long` (its `msg` is at the edge of a record). */
  readonly mayBeTooLong: boolean;
  readonly bytes: number;
  readonly encodedBytes: number;
}

export function sendVerdict(
  text: string,
  sender: { room: string; id: string; nick: string; fp: string; key: string },
): SendVerdict {
  const bytes = utf8Length(text);
  const malformed = text.length === 0;
  // The `msg` every other member (and a later history page) gets, at its smallest and largest:
  // field order as the host writes it, a one-digit or 2^53 seq, `history: true` or not.
  const encoded = (body: string, seq: number, history: boolean) =>
    encodeMessage({
      t: 'msg',
      room: sender.room,
      seq,
      id: sender.id,
      from: sender.nick,
      key: sender.key,
      text: body,
      ts: Date.now(),
      ...(history ? { history: true } : {}),
    }).length;
  // A host may size the text as received or as it will store it (lone surrogates replaced).
  const smallest = encoded(wellFormed(text), 1, false);
  const largest = encoded(text, Number.MAX_SAFE_INTEGER, true) + 4; // ts may grow a digit
  const overBytes = bytes > LIMITS.maxTextBytes;
  return {
    malformed,
    tooLong: overBytes || smallest > MAX_MESSAGE_BYTES,
    mayBeTooLong: overBytes || largest > MAX_MESSAGE_BYTES,
    bytes,
    encodedBytes: smallest,
  };
}

/** A short description of a text for failure output: sizes and its first code points, never long. */
export function describeText(text: string): string {
  const head = [...text.slice(0, 6)]
    .map((c) => `U+${(c.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`)
    .join(' ');
  return `${text.length} units/${utf8Length(text)} bytes [${head}${text.length > 6 ? ' …' : ''}]`;
}
