import { isValidRoomName } from '../../src-shared/identifiers.ts';
import {
  DEFAULT_ROOM,
  type HostAddress,
  parseHostAddress,
  parseInvite,
} from '../../src-shared/invite.ts';
import { Hello } from '../protocol/wire/messages.ts';
import { UsageError, parseOptions } from './usage-error.ts';

export const CONNECT_HELP = `Usage: parley --connect <invite link | host[:port]> --nick NAME [options]

Joins a room and chats line by line: each line on stdin is a message to the current room.
An invite link with ?invite=CODE makes you a member of its room; after that any link to the
host (or host:port) gets you in. Without a code: your rooms and the host's open rooms only.
Commands (/help lists them; start a message with // to send a /):
  /join ROOM, /rooms, /nick NAME, /members (/who), /topic [TEXT], /part, /quit
  /invite [uses N|unlimited] [expires 1h|1d|7d|30d|never] [role member|admin|owner]
  /invites, /revoke ID, /kick NICK, /ban NICK, /unban NICK, /promote NICK [admin|owner],
  /demote NICK, /create ROOM, /open, /close, /dm NICK, /verify NICK
Private rooms and direct messages are end-to-end encrypted (the host relays ciphertext): /rooms
marks them e2ee, and /verify NICK prints the safety number to compare with NICK.
Events go to stdout, one per line: msg/history (messages), event/history-event (who did what
to a room, e.g. "event <time> #lobby alice removed bob"), *** (everything else; see
docs/line-client.md). Diagnostics go to stderr.

Options:
  --connect TARGET   an invite link (parley://host:port/room?invite=CODE#key), or host[:port]
  --nick NAME        your nickname on this host (required)
  --room ROOM        the room to join (default: the invite's room, else ${DEFAULT_ROOM})
  --data-dir DIR     your identity key, known hosts, trusted authorities, member key pins
                     and this client's encryption device in DIR/e2ee-line/ (default: the
                     app data folder); trust an authority with: parley ca trust FILE
  --trust-new-host   trust a host that has no invite and is not known yet (check its
                     fingerprint with its owner first)
  --help             show this help

Lines the host has not acknowledged stay in DIR/outbox/ and are sent on the next run.
Exit codes: 0 every line acknowledged, 1 failure (or a line not delivered), 2 bad arguments,
3 host key changed, 4 unknown host not trusted, 5 nickname taken, 6 never connected, 7 no such
room (or not yours: the invite was refused, or you are not a member).
`;

export interface ConnectArgs {
  readonly help: false;
  readonly address: HostAddress;
  /** From an invite link: the host key to pin before the first byte. */
  readonly inviteKey: Uint8Array | undefined;
  /** From an invite link's `?invite=`: redeemed once connected, never printed or stored. */
  readonly inviteToken: string | undefined;
  readonly nick: string;
  readonly room: string;
  readonly dataDir: string | undefined;
  readonly trustNewHost: boolean;
}

/** Parses `--connect …` arguments; throws UsageError with a message fit for the user. */
export function parseConnectArgs(argv: readonly string[]): ConnectArgs | { readonly help: true } {
  // `parley --connect --help` is how people ask; parseArgs would read --help as the address.
  if (argv.includes('--help') || argv.includes('-h')) return { help: true };
  const values = parseOptions(
    argv,
    {
      connect: { type: 'string' },
      nick: { type: 'string' },
      room: { type: 'string' },
      'data-dir': { type: 'string' },
      'trust-new-host': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    {
      connect: 'an invite link (parley://HOST:PORT/ROOM#KEY) or HOST[:PORT]',
      nick: 'a nickname',
      room: 'a room name',
      'data-dir': 'a folder',
    },
  );
  if (values.help) return { help: true };

  const target = values.connect?.trim();
  if (!target) throw new UsageError('--connect needs an invite link or host[:port]');
  let address: HostAddress;
  let inviteKey: Uint8Array | undefined;
  let inviteRoom: string | undefined;
  let inviteToken: string | undefined;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(target)?.[1];
  if (scheme !== undefined && scheme.toLowerCase() !== 'parley') {
    throw new UsageError(
      `"${scheme}://" is not a Parley link: an invite link starts with parley:// (or give HOST[:PORT])`,
    );
  }
  if (/^parley:/i.test(target)) {
    const invite = parseInvite(target);
    if (!invite.ok) throw new UsageError(`invalid invite link: ${invite.error.message}`);
    ({ hostKey: inviteKey, room: inviteRoom, token: inviteToken } = invite.value);
    address = { host: invite.value.host, port: invite.value.port };
  } else {
    const parsed = parseHostAddress(target);
    if (!parsed.ok) throw new UsageError(`invalid --connect address: ${parsed.error.message}`);
    address = parsed.value;
  }

  if (values.nick === undefined) throw new UsageError('--nick NAME is required');
  if (!Hello.shape.nick.safeParse(values.nick).success) {
    throw new UsageError(
      `${JSON.stringify(values.nick)} is not a nickname: use 1–32 letters, numbers, _ . -`,
    );
  }
  const room = values.room ?? inviteRoom ?? DEFAULT_ROOM;
  if (!isValidRoomName(room)) {
    throw new UsageError(
      `${JSON.stringify(room)} is not a room name: use a-z, 0-9, . _ - (up to 64, starting with a letter or digit)`,
    );
  }
  if (values['data-dir'] === '') throw new UsageError('--data-dir must not be empty');
  return {
    help: false,
    address,
    inviteKey,
    inviteToken,
    nick: values.nick,
    room,
    dataDir: values['data-dir'],
    trustNewHost: values['trust-new-host'] ?? false,
  };
}
