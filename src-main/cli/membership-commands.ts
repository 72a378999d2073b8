import { isValidRoomName } from '../../src-shared/identifiers.ts';
import { type ChatSession, ChatSessionError } from '../client/chat-session.ts';
import { MembershipError } from '../client/membership-requests.ts';
import { MAX_INVITE_USES, type Role } from '../protocol/wire/messages.ts';
import type { KnownPeople } from './known-people.ts';
import {
  escapeText,
  inviteCreatedLine,
  inviteListedLine,
  membersLine,
  roomsLine,
  systemLine,
  topicLine,
} from './line-format.ts';

/** What a membership command needs from the line client. */
export interface CommandContext {
  readonly session: ChatSession;
  readonly people: KnownPeople;
  /** The current room. */
  readonly room: string;
  readonly now: () => number;
  out(line: string): void;
  /** Makes `room` the current room (after /create and /dm). */
  talkIn(room: string): void;
  /**
   * Holds the next input lines until the returned release is called: with true once the new
   * room is current, with false when the command failed (then no room is current, and the held
   * lines never go to the room before).
   */
  holdInput(): (switched: boolean) => void;
  /** A request went to the host; call the returned function once it is answered. */
  requestStarted(): () => void;
}

/** The commands that act on the current room: with no current room they are not run. */
export const CURRENT_ROOM_COMMANDS: ReadonlySet<string> = new Set([
  '/members',
  '/who',
  '/topic',
  '/part',
  '/open',
  '/close',
  '/invite',
  '/invites',
  '/revoke',
  '/kick',
  '/ban',
  '/unban',
  '/promote',
  '/demote',
]);

export const MEMBERSHIP_HELP = [
  'rooms: /rooms (the rooms you may join), /members (who is in this room, with roles), /topic [TEXT], /part (stop being a member)',
  'invites: /invite [uses N|unlimited] [expires 1h|1d|7d|30d|never] [role member|admin|owner] (default: 1 use, 7 days, member), /invites, /revoke ID',
  'members: /kick NICK, /ban NICK, /unban NICK, /promote NICK [admin|owner], /demote NICK',
  'new rooms: /create ROOM, /open (anyone may join), /close (invite only), /dm NICK (direct messages)',
];

const INVITE_USAGE =
  '/invite [uses N|unlimited] [expires 1h|1d|7d|30d|never] [role member|admin|owner]';
const EXPIRIES: Readonly<Record<string, number | null>> = {
  '1h': 3600_000,
  '1d': 24 * 3600_000,
  '7d': 7 * 24 * 3600_000,
  '30d': 30 * 24 * 3600_000,
  never: null,
};
const ROLES: readonly Role[] = ['owner', 'admin', 'member'];

/**
 * The line client's commands for private rooms. Each prints its outcome as one line when the
 * host answers (a room event line says most of them); a refusal prints `error <code>: …`.
 * `args` are the words after the command, `text` all of it as typed. Returns false when
 * `command` is not one of them.
 */
export function runMembershipCommand(
  ctx: CommandContext,
  command: string,
  args: readonly string[],
  text: string,
): boolean {
  const { session, room } = ctx;
  const usage = (text: string) => ctx.out(systemLine(ctx.now(), `usage: ${text}`));
  /** `/verb NICK`: the request for NICK's key, or a line saying why there is none. */
  const person = (
    verb: string,
    then: (key: string) => Promise<unknown>,
    after: (ok: boolean) => void = () => undefined,
  ) => {
    const [nick, ...extra] = args;
    const key = nick === undefined || extra.length > 0 ? undefined : ctx.people.keyOf(nick);
    if (key) return settle(ctx, room, then(key), after);
    if (nick === undefined || extra.length > 0) usage(`${verb} NICK`);
    else ctx.out(nobodyLine(ctx, nick));
    after(false);
  };
  switch (command) {
    case '/members':
    case '/who':
      ctx.out(membersLine(ctx.now(), room, session.members(room)));
      return true;
    case '/rooms':
      ctx.out(roomsLine(ctx.now(), session.roomList));
      return true;
    case '/topic':
      if (text === '') ctx.out(topicLine(ctx.now(), session.roomInfo(room), room));
      else settle(ctx, room, session.setTopic(room, text));
      return true;
    case '/part':
      if (args.length > 0) usage('/part (leaves the current room for good)');
      else settle(ctx, room, session.part(room));
      return true;
    case '/open':
    case '/close':
      if (args.length > 0) usage(command);
      else settle(ctx, room, session.setOpen(room, command === '/open'));
      return true;
    case '/invite': {
      const options = inviteOptions(args);
      if (!options) {
        usage(INVITE_USAGE);
        return true;
      }
      settle(
        ctx,
        room,
        session.createInvite(room, options).then(({ link, invite }) => {
          ctx.out(inviteCreatedLine(ctx.now(), invite, link));
        }),
      );
      return true;
    }
    case '/invites':
      settle(
        ctx,
        room,
        session.listInvites(room).then((invites) => {
          ctx.out(systemLine(ctx.now(), `invites ${invites.length}`, room));
          for (const invite of invites) ctx.out(inviteListedLine(ctx.now(), invite));
        }),
      );
      return true;
    case '/revoke': {
      const [id, ...extra] = args;
      if (id === undefined || extra.length > 0) {
        usage('/revoke ID (/invites lists them)');
        return true;
      }
      settle(
        ctx,
        room,
        session.revokeInvite(room, id).then(() => {
          ctx.out(systemLine(ctx.now(), `invite ${escapeText(id)} revoked`, room));
        }),
      );
      return true;
    }
    case '/kick':
      person('/kick', (key) => session.remove(room, key));
      return true;
    case '/ban':
      person('/ban', (key) => session.remove(room, key, { ban: true }));
      return true;
    case '/unban':
      person('/unban', (key) => session.unban(room, key));
      return true;
    case '/demote':
      person('/demote', (key) => session.setRole(room, key, 'member'));
      return true;
    case '/promote': {
      const [nick, roleWord = 'admin', ...extra] = args;
      const role = ROLES.find((r) => r === roleWord);
      if (nick === undefined || extra.length > 0 || (role !== 'admin' && role !== 'owner')) {
        usage('/promote NICK [admin|owner]');
        return true;
      }
      const key = ctx.people.keyOf(nick);
      if (key) settle(ctx, room, session.setRole(room, key, role));
      else ctx.out(nobodyLine(ctx, nick));
      return true;
    }
    case '/create': {
      // The lines after /create go to the new room: they wait for the answer, and go nowhere
      // if there is no new room.
      const release = ctx.holdInput();
      const [name, ...extra] = args;
      if (name === undefined || extra.length > 0 || !isValidRoomName(name)) {
        usage('/create ROOM (a-z, 0-9, . _ -)');
        release(false);
        return true;
      }
      settle(
        ctx,
        name,
        session.createRoom(name).then((info) => ctx.talkIn(info.room)),
        release,
      );
      return true;
    }
    case '/dm': {
      const release = ctx.holdInput();
      person('/dm', (key) => session.openDm(key).then((info) => ctx.talkIn(info.room)), release);
      return true;
    }
    default:
      return false;
  }
}

/**
 * `/invite`'s words: `uses N|unlimited`, `expires 1h|1d|7d|30d|never`, `role …`, each at most
 * once, in any order; the rest default to 1 use, 7 days, member. Undefined: not that.
 */
export function inviteOptions(
  args: readonly string[],
): { role: Role; uses: number | null; expiresInMs: number | null } | undefined {
  const options = {
    role: 'member' as Role,
    uses: 1 as number | null,
    expiresInMs: EXPIRIES['7d'] ?? null,
  };
  const seen = new Set<string>();
  for (let i = 0; i < args.length; i += 2) {
    const word = args[i] ?? '';
    const value = args[i + 1];
    if (value === undefined || seen.has(word)) return undefined;
    seen.add(word);
    if (word === 'uses') {
      if (value === 'unlimited') options.uses = null;
      else if (/^\d{1,5}$/.test(value) && Number(value) >= 1 && Number(value) <= MAX_INVITE_USES) {
        options.uses = Number(value);
      } else return undefined;
    } else if (word === 'expires') {
      if (!(value in EXPIRIES)) return undefined;
      options.expiresInMs = EXPIRIES[value] ?? null;
    } else if (word === 'role') {
      const role = ROLES.find((r) => r === value);
      if (!role) return undefined;
      options.role = role;
    } else return undefined;
  }
  return options;
}

/**
 * Reports a refusal as `error <code>: <message>` (what succeeds printed its own line), then
 * calls `after` with whether the request succeeded.
 */
function settle(
  ctx: CommandContext,
  room: string,
  request: Promise<unknown>,
  after: (ok: boolean) => void = () => undefined,
): void {
  const answered = ctx.requestStarted();
  let ok = false;
  request
    .then(() => {
      ok = true;
    })
    .catch((error: unknown) => {
      const code =
        error instanceof MembershipError || error instanceof ChatSessionError
          ? error.code
          : 'client-failed';
      const message = error instanceof Error ? error.message : String(error);
      ctx.out(systemLine(ctx.now(), `error ${code}: ${escapeText(message)}`, room));
    })
    .finally(() => {
      answered();
      after(ok);
    });
}

function nobodyLine(ctx: CommandContext, nick: string): string {
  return systemLine(
    ctx.now(),
    `error not-member: nobody called ${escapeText(nick)} seen here (/members lists them)`,
    ctx.room,
  );
}
