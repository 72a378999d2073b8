import { stat, readFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { formatBytes, sendableMime } from '../../src-shared/files.ts';
import { type ChatSession, ChatSessionError } from '../client/chat-session.ts';
import { type ChatEvent, MessageSeq, ReactionEmoji } from '../protocol/wire/chat-event.ts';
import type { Conversation } from './conversation.ts';
import { escapeText, systemLine } from './line-format.ts';
import { fileSavedLine, fileSentLine, searchLines } from './message-lines.ts';
import { mimeOfName } from './mime-of-name.ts';
import { saveWithoutOverwriting } from './save-file.ts';

/**
 * The line client's commands about messages (docs/line-client.md): answer, react to, edit or
 * delete a message named by its `#seq`, send and save files, search what this process has seen.
 * The host (and, in an encrypted room, every member) checks what is allowed; a refusal comes
 * back as an `error` line like any refused line.
 */

/** What these commands need from the line client. */
export interface ConversationContext {
  readonly session: ChatSession;
  readonly conversation: Conversation;
  /** The current room. */
  readonly room: string;
  readonly now: () => number;
  /** Where a relative `/send-file` or `/save` path starts. */
  readonly cwd: string;
  readonly stderr: Writable;
  /** stderr is a terminal: transfers show their progress there (else nothing). */
  readonly progress: boolean;
  out(line: string): void;
  /** Something was not sent (a refusal, a bad file): the exit code says so. */
  notSent(): void;
  /** Holds the next input lines (so they go out after the file) until the release. */
  holdInput(): (switched: boolean) => void;
  /** A transfer is under way: the end of input waits for its release. */
  requestStarted(): () => void;
}

export const CONVERSATION_COMMANDS: ReadonlySet<string> = new Set([
  '/reply',
  '/react',
  '/edit',
  '/delete',
  '/send-file',
  '/save',
  '/search',
]);

export const CONVERSATION_HELP = [
  'messages (by the #SEQ on their line; yours: on their sent line): /reply SEQ TEXT, /react SEQ EMOJI (again: take it back), /edit SEQ TEXT, /delete SEQ',
  'files: /send-file PATH [CAPTION] (a path with spaces in "quotes"), /save SEQ [FOLDER or PATH] (never overwrites); /search WORDS',
];

const USAGE: Readonly<Record<string, string>> = {
  '/reply': '/reply SEQ TEXT',
  '/react': '/react SEQ EMOJI (one emoji)',
  '/edit': '/edit SEQ TEXT',
  '/delete': '/delete SEQ',
  '/send-file': '/send-file PATH [CAPTION]',
  '/save': '/save SEQ [FOLDER or PATH]',
  '/search': '/search WORDS',
};

/** Search results printed at most. */
export const SEARCH_LIMIT = 20;

/** A parsed command, or the usage text when its arguments are wrong. */
export type ParsedCommand =
  | { readonly kind: 'event'; readonly event: ChatEvent }
  | { readonly kind: 'react'; readonly target: number; readonly emoji: string }
  | { readonly kind: 'send-file'; readonly path: string; readonly caption?: string }
  | { readonly kind: 'save'; readonly seq: number; readonly path?: string }
  | { readonly kind: 'search'; readonly query: string }
  | { readonly kind: 'usage'; readonly usage: string };

/** `#12` or `12`: a message's seq. */
export function parseSeq(word: string | undefined): number | undefined {
  const match = /^#?(\d{1,16})$/.exec(word ?? '');
  if (!match) return undefined;
  const parsed = MessageSeq.safeParse(Number(match[1]));
  return parsed.success ? parsed.data : undefined;
}

/**
 * One emoji as typed: keyboards often leave out the variation selector that makes "❤" the
 * emoji "❤️", so that one is added when it makes the text an emoji.
 */
export function emojiOf(text: string): string | undefined {
  for (const candidate of [text, `${text}\uFE0F`]) {
    if (ReactionEmoji.safeParse(candidate).success) return candidate;
  }
  return undefined;
}

/** The first word of `text` (or a "quoted" run, spaces and all), and what follows it. */
export function splitFirst(text: string): [string, string] {
  const quoted = /^"([^"]*)"(?:\s+([\s\S]*))?$/.exec(text);
  if (quoted) return [quoted[1] ?? '', (quoted[2] ?? '').trim()];
  const match = /^(\S*)\s*([\s\S]*)$/.exec(text);
  return [match?.[1] ?? '', (match?.[2] ?? '').trim()];
}

/**
 * `command` with `text` (everything after it, trimmed, spaces inside kept), or undefined when
 * it is not one of these commands.
 */
export function parseConversationCommand(command: string, text: string): ParsedCommand | undefined {
  if (!CONVERSATION_COMMANDS.has(command)) return undefined;
  const usage: ParsedCommand = { kind: 'usage', usage: USAGE[command] ?? command };
  if (command === '/search') return text ? { kind: 'search', query: text } : usage;
  if (command === '/send-file') {
    const [path, caption] = splitFirst(text);
    if (!path) return usage;
    return { kind: 'send-file', path, ...(caption ? { caption } : {}) };
  }
  const [first, rest] = splitFirst(text);
  const seq = parseSeq(first);
  if (seq === undefined) return usage;
  switch (command) {
    case '/reply':
      return rest ? { kind: 'event', event: { type: 'text', text: rest, reply: seq } } : usage;
    case '/edit':
      return rest ? { kind: 'event', event: { type: 'edit', target: seq, text: rest } } : usage;
    case '/delete':
      return rest ? usage : { kind: 'event', event: { type: 'delete', target: seq } };
    case '/react': {
      const emoji = emojiOf(rest);
      return emoji === undefined ? usage : { kind: 'react', target: seq, emoji };
    }
    case '/save': {
      const [path, extra] = splitFirst(rest);
      if (extra) return usage;
      return { kind: 'save', seq, ...(path ? { path } : {}) };
    }
    default:
      return usage;
  }
}

/**
 * Runs `command` if it is one of these (returns false otherwise). Sending is queued in the
 * outbox like any line; files and saving go on in the background, holding the next input lines
 * (a file) or only the end of input (saving) until done.
 */
export function runConversationCommand(
  ctx: ConversationContext,
  command: string,
  text: string,
): boolean {
  const parsed = parseConversationCommand(command, text);
  if (!parsed) return false;
  const now = ctx.now();
  switch (parsed.kind) {
    case 'usage':
      ctx.out(systemLine(now, `usage: ${parsed.usage}`));
      return true;
    case 'search':
      for (const line of searchLines(
        now,
        parsed.query,
        ctx.conversation.search(parsed.query, SEARCH_LIMIT),
      )) {
        ctx.out(line);
      }
      return true;
    case 'event':
      send(ctx, parsed.event);
      return true;
    case 'react': {
      const on = !ctx.conversation.reacted(ctx.room, parsed.target, parsed.emoji);
      send(ctx, { type: 'react', target: parsed.target, emoji: parsed.emoji, on });
      return true;
    }
    case 'send-file':
      void sendFile(ctx, parsed.path, parsed.caption);
      return true;
    case 'save':
      void saveFile(ctx, parsed.seq, parsed.path);
      return true;
  }
}

function send(ctx: ConversationContext, event: ChatEvent): void {
  try {
    const id = ctx.session.sendEvent(ctx.room, event);
    const entry = ctx.session.pending.find((pending) => pending.id === id);
    if (entry) ctx.conversation.sending(entry);
  } catch (error) {
    refused(ctx, error, 'that message was not sent');
  }
}

function refused(ctx: ConversationContext, error: unknown, what: string): void {
  if (!(error instanceof ChatSessionError)) throw error;
  ctx.notSent();
  ctx.out(
    systemLine(ctx.now(), `error ${error.code}: ${escapeText(error.message)} (${what})`, ctx.room),
  );
}

async function sendFile(ctx: ConversationContext, path: string, caption?: string): Promise<void> {
  const release = ctx.holdInput();
  const done = ctx.requestStarted();
  const room = ctx.room;
  const fail = (code: string, message: string) => {
    ctx.notSent();
    ctx.out(systemLine(ctx.now(), `error ${code}: ${message} (the file was not sent)`, room));
  };
  try {
    const full = resolve(ctx.cwd, path);
    const name = basename(full);
    let size: number;
    try {
      const info = await stat(full);
      if (!info.isFile()) return fail('not-a-file', `${escapeText(path)} is not a file`);
      size = info.size;
    } catch (error) {
      return fail('unreadable', `cannot read ${escapeText(path)}: ${errorCode(error)}`);
    }
    if (ctx.session.host === undefined) {
      // Without a connection the host's limit is not known (maxFileBytes says 0).
      return fail('not-connected', 'not connected to the host now; send it again once connected');
    }
    const max = ctx.session.maxFileBytes;
    if (size > max) {
      return fail(
        'file-too-large',
        max === 0
          ? 'this host does not take files'
          : `${escapeText(name)} has ${formatBytes(size)}; the host takes files of up to ${formatBytes(max)}`,
      );
    }
    let bytes: Uint8Array;
    try {
      bytes = await readFile(full);
    } catch (error) {
      return fail('unreadable', `cannot read ${escapeText(path)}: ${errorCode(error)}`);
    }
    const progress = progressReporter(ctx, `sending ${name}`);
    try {
      const { id } = await ctx.session.sendFile(
        room,
        {
          bytes,
          name,
          mime: sendableMime(mimeOfName(name)),
          ...(caption ? { text: caption } : {}),
        },
        { onProgress: progress.update },
      );
      progress.end();
      const entry = ctx.session.pending.find((pending) => pending.id === id);
      if (entry) ctx.conversation.sending(entry);
      ctx.out(fileSentLine(ctx.now(), room, { name, size: bytes.length }));
    } catch (error) {
      progress.end();
      if (!(error instanceof ChatSessionError)) throw error;
      fail(error.code, escapeText(error.message));
    }
  } finally {
    release(true);
    done();
  }
}

async function saveFile(ctx: ConversationContext, seq: number, path?: string): Promise<void> {
  const room = ctx.room;
  const file = ctx.conversation.fileOf(room, seq);
  if (!file) {
    ctx.out(
      systemLine(
        ctx.now(),
        `error no-such-file: no file #${seq} seen here in this run (nothing was saved)`,
        room,
      ),
    );
    return;
  }
  const done = ctx.requestStarted();
  const progress = progressReporter(ctx, `saving #${seq}`);
  try {
    const bytes = await ctx.session.fetchFile(room, file, { onProgress: progress.update });
    progress.end();
    const saved = await saveWithoutOverwriting(ctx.cwd, path, file.name, bytes);
    ctx.out(fileSavedLine(ctx.now(), room, seq, saved));
  } catch (error) {
    progress.end();
    const code = error instanceof ChatSessionError ? error.code : 'unwritable';
    const message =
      error instanceof ChatSessionError
        ? escapeText(error.message)
        : `cannot write: ${errorCode(error)}`;
    ctx.out(systemLine(ctx.now(), `error ${code}: ${message} (nothing was saved)`, room));
  } finally {
    done();
  }
}

/** A system error's code (ENOENT, EACCES…): never a path or content. */
function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'failed';
}

/**
 * Progress on stderr, redrawn in place at most 10 times a second and erased at the end, when
 * stderr is a terminal.
 */
function progressReporter(
  ctx: ConversationContext,
  what: string,
): { update: (done: number, total: number) => void; end: () => void } {
  let shownAt = 0;
  let shown = false;
  return {
    update: (done, total) => {
      if (!ctx.progress) return;
      const at = Date.now();
      if (at - shownAt < 100 && done < total) return;
      shownAt = at;
      shown = true;
      const percent = total > 0 ? Math.floor((done / total) * 100) : 100;
      ctx.stderr.write(
        `\rparley --connect: ${escapeText(what)}: ${percent}% (${formatBytes(done)} of ${formatBytes(total)})\x1b[K`,
      );
    },
    // The progress line is erased: the outcome's own line (on stdout) says how it ended.
    end: () => {
      if (shown) ctx.stderr.write('\r\x1b[K');
      shown = false;
    },
  };
}
