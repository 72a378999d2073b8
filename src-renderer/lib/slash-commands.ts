import {
  DM_ROOM_PREFIX,
  NICK_RULE,
  isValidNick,
  isValidRoomName,
} from '../../src-shared/identifiers.ts';

/**
 * The composer's slash commands, parsed without side effects: the composer decides what to
 * send, the chat screen does what a command asks. `//text` is the way to send `/text` as is.
 */

export interface SlashCommandInfo {
  readonly name: 'nick' | 'join' | 'leave' | 'me' | 'help';
  /** As typed, with its argument: "/nick NAME". */
  readonly usage: string;
  readonly description: string;
  /** Whether it needs text after it: completing it leaves a space to type into. */
  readonly takesArgument: boolean;
}

export const SLASH_COMMANDS: readonly SlashCommandInfo[] = [
  {
    name: 'nick',
    usage: '/nick NAME',
    description: 'Change your nickname on this host',
    takesArgument: true,
  },
  {
    name: 'join',
    usage: '/join ROOM',
    description: 'Join an open room, or go to one you are in',
    takesArgument: true,
  },
  { name: 'leave', usage: '/leave', description: 'Leave this room', takesArgument: false },
  {
    name: 'me',
    usage: '/me TEXT',
    description: 'Say what you are doing, e.g. /me waves',
    takesArgument: true,
  },
  {
    name: 'help',
    usage: '/help',
    description: 'Show the commands and keyboard shortcuts',
    takesArgument: false,
  },
];

export type SlashResult =
  /** Send this text as a message (plain text, `//x` as `/x`, `/me x`). */
  | { readonly kind: 'send'; readonly text: string }
  | { readonly kind: 'nick'; readonly nick: string }
  | { readonly kind: 'join'; readonly room: string }
  | { readonly kind: 'leave' }
  | { readonly kind: 'help' }
  /** Nothing is sent: the composer shows why, and the draft stays. */
  | { readonly kind: 'error'; readonly message: string };

/** What a draft asks for when sent. Only a draft starting with `/` is a command. */
export function parseDraft(draft: string): SlashResult {
  if (!draft.startsWith('/')) return { kind: 'send', text: draft };
  if (draft.startsWith('//')) return { kind: 'send', text: draft.slice(1) };
  const match = /^\/(\S*)(?:\s+([\s\S]*))?$/.exec(draft);
  const name = (match?.[1] ?? '').toLowerCase();
  const rest = (match?.[2] ?? '').trim();
  switch (name) {
    case '':
      return {
        kind: 'error',
        message: 'Type a command after /, or start with // to send “/” as text.',
      };
    case 'nick':
      if (rest === '') return { kind: 'error', message: 'Type a nickname after /nick.' };
      if (!isValidNick(rest)) return { kind: 'error', message: `Not a nickname: ${NICK_RULE}.` };
      return { kind: 'nick', nick: rest };
    case 'join': {
      // "#lobby" is how rooms are shown, so it is accepted as typed.
      const room = rest.replace(/^#/, '').toLowerCase();
      if (room === '') return { kind: 'error', message: 'Type a room name after /join.' };
      if (!isValidRoomName(room) || room.startsWith(DM_ROOM_PREFIX)) {
        return { kind: 'error', message: `“${rest}” is not a room name.` };
      }
      return { kind: 'join', room };
    }
    case 'leave':
      return { kind: 'leave' };
    case 'help':
      return { kind: 'help' };
    case 'me':
      if (rest === '') return { kind: 'error', message: 'Type what you are doing after /me.' };
      // Sent as written: every client shows a message starting with "/me " as an action.
      return { kind: 'send', text: `/me ${rest}` };
    default: {
      const typed = `/${match?.[1] ?? ''}`;
      return {
        kind: 'error',
        message: `Unknown command ${typed} — type /${typed} to send it as text.`,
      };
    }
  }
}

/**
 * The commands to offer while the draft is still a command name ("/", "/ni"); none once an
 * argument is being typed, for `//`, or for anything that is not a command.
 */
export function completionsFor(draft: string): readonly SlashCommandInfo[] {
  const match = /^\/([a-z]*)$/i.exec(draft);
  if (!match) return [];
  const typed = (match[1] ?? '').toLowerCase();
  return SLASH_COMMANDS.filter((command) => command.name.startsWith(typed));
}

/** The draft after choosing a completion: "/nick " (ready for its argument) or "/leave". */
export function complete(command: SlashCommandInfo): string {
  return command.takesArgument ? `/${command.name} ` : `/${command.name}`;
}

/** A command the chat screen carries out: everything but sending text or refusing. */
export type SlashAction = Exclude<SlashResult, { kind: 'send' } | { kind: 'error' }>;
