import { formatBytes, sanitizeFileName } from '../../src-shared/files.ts';
import type { OutboxEntry } from '../client/outbox.ts';
import type { SearchHit } from '../client/search-index.ts';
import type { SessionMessage } from '../client/session-events.ts';
import type { FileRef } from '../protocol/wire/chat-event.ts';
import { escapeText, isoTime, roomTag, systemLine } from './line-format.ts';

/**
 * The line client's message lines (docs/line-client.md, "Output"): one per message of a room,
 * whatever it says. Every one starts `msg|history <time> #<room> #<seq> `, so a command can name
 * the message by its seq. Then either `<nick>` (something said: a line, a reply, a file), or
 * `* <nick>` (something done to an earlier message: an edit, a deletion, a reaction; a nickname
 * is never `*`). Only the last part, after `: `, is free text, so no text can pass for another
 * kind of line.
 */

/** The message's line, or undefined for what is not shown (a read position). */
export function messageLine(message: SessionMessage): string | undefined {
  const head = `${message.history ? 'history' : 'msg'} ${isoTime(message.ts)} ${roomTag(message.room)} #${message.seq}`;
  const nick = escapeText(message.from);
  if (message.e2ee?.status === 'failed') {
    return `${head} ${nick}: [not decrypted: ${message.e2ee.reason}]`;
  }
  if (message.deleted) return `${head} * ${nick} deleted this message`;
  const event = message.event;
  if (event === undefined) return `${head} ${nick}: ${escapeText(message.text)}`;
  switch (event.type) {
    case 'text':
      return `${head} ${nick}${replyText(event.reply)}: ${escapeText(event.text)}`;
    case 'file':
      return (
        `${head} ${nick}${replyText(event.reply)} ${fileText(event.file)}` +
        (event.text !== undefined ? `: ${escapeText(event.text)}` : '')
      );
    case 'edit':
      return `${head} * ${nick} edited #${event.target}: ${escapeText(event.text)}`;
    case 'delete':
      return `${head} * ${nick} deleted #${event.target}`;
    case 'react':
      return event.on
        ? `${head} * ${nick} reacted ${escapeText(event.emoji)} to #${event.target}`
        : `${head} * ${nick} removed ${escapeText(event.emoji)} from #${event.target}`;
    case 'read':
      return undefined;
  }
}

/** ` ↪ #<seq>` for a reply, else nothing. */
function replyText(reply: number | undefined): string {
  return reply === undefined ? '' : ` ↪ #${reply}`;
}

/**
 * `[file "<name>", <size>]`: the name as `/save` would write it (sanitised: it holds no `"`, no
 * `:` and no control character), the size in words.
 */
export function fileText(file: Pick<FileRef, 'name' | 'size'>): string {
  return `[file "${escapeText(sanitizeFileName(file.name))}", ${formatBytes(file.size)}]`;
}

/** Characters of our own text a `sent` line repeats: enough to tell which line it was. */
export const SENT_TEXT_CHARS = 60;

/**
 * `*** <time> #<room> sent #<seq>: <text>` (a reply: `sent #<seq> ↪ #<target>: …`; a file:
 * `sent #<seq> [file "<name>", <size>]`, then `: <caption>` if any): the host took our own
 * message as `#<seq>`, at `<time>` (its time for the message), so `/edit` and `/delete` can
 * name it. Only what follows `: ` is free text: its first SENT_TEXT_CHARS characters, then `…`
 * when there is more. Undefined for what is done to earlier messages (edits, deletions,
 * reactions, read positions): their seq names nothing a command could act on.
 */
export function sentLine(ack: { seq: number; ts: number }, entry: OutboxEntry): string | undefined {
  const head = `sent #${ack.seq}`;
  const event = entry.event;
  let what: string;
  if (event === undefined) what = `${head}: ${shortText(entry.text)}`;
  else if (event.type === 'text') {
    what = `${head}${replyText(event.reply)}: ${shortText(event.text)}`;
  } else if (event.type === 'file') {
    what =
      `${head}${replyText(event.reply)} ${fileText(event.file)}` +
      (event.text !== undefined ? `: ${shortText(event.text)}` : '');
  } else return undefined;
  return systemLine(ack.ts, what, entry.room);
}

/** The first SENT_TEXT_CHARS characters (whole code points), escaped, `…` if cut. */
function shortText(text: string): string {
  const chars = Array.from(text);
  return chars.length <= SENT_TEXT_CHARS
    ? escapeText(text)
    : `${escapeText(chars.slice(0, SENT_TEXT_CHARS).join(''))}…`;
}

/** `*** <time> search <n> results: <query>`, then one `search …` line per hit, newest first. */
export function searchLines(ms: number, query: string, hits: readonly SearchHit[]): string[] {
  const count = `${hits.length} result${hits.length === 1 ? '' : 's'}`;
  return [
    systemLine(ms, `search ${count}: ${escapeText(query)}`),
    ...hits.map(
      (hit) =>
        `search ${isoTime(hit.ts)} ${roomTag(hit.room)} #${hit.seq} ${escapeText(hit.from)}: ${escapeText(hit.snippet)}`,
    ),
  ];
}

/** `*** <time> #<room> file sent "<name>", <size>`: uploaded, its message queued. */
export function fileSentLine(
  ms: number,
  room: string,
  file: Pick<FileRef, 'name' | 'size'>,
): string {
  return systemLine(ms, `file sent ${fileText(file).slice('[file '.length, -1)}`, room);
}

/** `*** <time> #<room> saved #<seq> to <path>`. */
export function fileSavedLine(ms: number, room: string, seq: number, path: string): string {
  return systemLine(ms, `saved #${seq} to ${escapeText(path)}`, room);
}
