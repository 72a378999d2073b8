import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  parseConversationCommand,
  parseSeq,
  splitFirst,
} from '../../../src-main/cli/conversation-commands.ts';
import { CONVERSATION_LIMITS, Conversation, newest } from '../../../src-main/cli/conversation.ts';
import {
  candidateName,
  saveTarget,
  saveWithoutOverwriting,
} from '../../../src-main/cli/save-file.ts';
import type { SessionMessage } from '../../../src-main/client/session-events.ts';
import type { ChatEvent, FileRef } from '../../../src-main/protocol/wire/chat-event.ts';

const parse = parseConversationCommand;

describe('conversation commands: parsing', () => {
  it('reads a seq as 12 or #12, nothing else', () => {
    expect(parseSeq('12')).toBe(12);
    expect(parseSeq('#0')).toBe(0);
    for (const bad of [undefined, '', '-1', '1.5', '#', 'x1', '1e3', '99999999999999999']) {
      expect(parseSeq(bad)).toBeUndefined();
    }
  });

  it('splits off a first word or a quoted path', () => {
    expect(splitFirst('a b  c')).toEqual(['a', 'b  c']);
    expect(splitFirst('"my file.txt" the caption')).toEqual(['my file.txt', 'the caption']);
    expect(splitFirst('"my file.txt"')).toEqual(['my file.txt', '']);
    expect(splitFirst('')).toEqual(['', '']);
  });

  it('parses the message commands, text kept as typed', () => {
    expect(parse('/reply', '#3 sure,  why not')).toEqual({
      kind: 'event',
      event: { type: 'text', text: 'sure,  why not', reply: 3 },
    });
    expect(parse('/edit', '4 new text')).toEqual({
      kind: 'event',
      event: { type: 'edit', target: 4, text: 'new text' },
    });
    expect(parse('/delete', '5')).toEqual({ kind: 'event', event: { type: 'delete', target: 5 } });
    expect(parse('/react', '5 👍')).toEqual({ kind: 'react', target: 5, emoji: '👍' });
    expect(parse('/react', '5 👩‍💻')).toEqual({ kind: 'react', target: 5, emoji: '👩‍💻' });
    expect(parse('/react', '5 ❤')).toEqual({ kind: 'react', target: 5, emoji: '❤\uFE0F' });
    expect(parse('/search', 'deploy  failed')).toEqual({ kind: 'search', query: 'deploy  failed' });
    expect(parse('/send-file', '"a b.pdf" Q3 numbers')).toEqual({
      kind: 'send-file',
      path: 'a b.pdf',
      caption: 'Q3 numbers',
    });
    expect(parse('/send-file', 'x.png')).toEqual({ kind: 'send-file', path: 'x.png' });
    expect(parse('/save', '9')).toEqual({ kind: 'save', seq: 9 });
    expect(parse('/save', '9 "out dir/"')).toEqual({ kind: 'save', seq: 9, path: 'out dir/' });
    expect(parse('/nick', 'x')).toBeUndefined();
  });

  it('answers bad arguments with the usage, never an event', () => {
    const usage = (command: string, text: string) => parse(command, text)?.kind;
    expect(usage('/reply', '3')).toBe('usage');
    expect(usage('/reply', 'x hello')).toBe('usage');
    expect(usage('/edit', '')).toBe('usage');
    expect(usage('/delete', '5 6')).toBe('usage');
    expect(usage('/react', '5 yes')).toBe('usage'); // not an emoji
    expect(usage('/react', '5 👍 👍')).toBe('usage'); // two
    expect(usage('/react', '5')).toBe('usage');
    expect(usage('/search', '')).toBe('usage');
    expect(usage('/send-file', '')).toBe('usage');
    expect(usage('/save', 'a')).toBe('usage');
    expect(usage('/save', '1 a b')).toBe('usage');
  });
});

describe('conversation: what the line client remembers', () => {
  const ALICE = 'A'.repeat(43);
  const BOB = 'B'.repeat(43);
  const FILE: FileRef = {
    id: 'F'.repeat(22),
    name: 'Quarterly Report.pdf',
    mime: 'application/pdf',
    size: 10,
    chunks: 1,
    key: 'K'.repeat(43),
  };
  let conversation: Conversation | undefined;
  afterEach(() => conversation?.close());
  const seen = (seq: number, key: string, event: ChatEvent, extra: Partial<SessionMessage> = {}) =>
    conversation?.seen({
      t: 'msg',
      room: 'lobby',
      seq,
      id: `id${seq}`,
      from: key === ALICE ? 'alice' : 'bob',
      fp: 'F',
      key,
      ts: 1000 + seq,
      text: '',
      event,
      ...extra,
    });
  const found = (query: string) => conversation?.search(query, 20).map((hit) => hit.seq);

  it('indexes lines and files, follows the author’s edits only, and forgets deletions', () => {
    conversation = new Conversation(ALICE);
    seen(1, BOB, { type: 'text', text: 'the deploy failed' });
    seen(2, BOB, { type: 'file', file: FILE, text: 'numbers' });
    seen(3, ALICE, { type: 'edit', target: 1, text: 'hijacked' }); // not alice's message
    expect(found('deploy')).toEqual([1]);
    expect(found('hijacked')).toEqual([]);
    seen(4, BOB, { type: 'edit', target: 1, text: 'the deploy worked' });
    expect(found('worked')).toEqual([1]);
    expect(found('quarterly')).toEqual([2]);
    seen(5, BOB, { type: 'edit', target: 2, text: 'new caption' });
    expect(found('quarterly caption')).toEqual([2]);
    expect(conversation.fileOf('lobby', 2)).toEqual(FILE);
    seen(6, ALICE, { type: 'delete', target: 2 });
    expect(conversation.fileOf('lobby', 2)).toBeUndefined();
    expect(found('quarterly')).toEqual([]);
    seen(7, BOB, { type: 'text', text: 'gone soon' });
    seen(7, BOB, { type: 'text', text: 'x' }, { deleted: true });
    expect(found('gone')).toEqual([]);
  });

  it('toggles our own reactions, from what we send and from history', () => {
    conversation = new Conversation(ALICE);
    seen(1, BOB, { type: 'text', text: 'hi' });
    seen(2, BOB, { type: 'react', target: 1, emoji: '👍', on: true }); // bob's, not ours
    expect(conversation.reacted('lobby', 1, '👍')).toBe(false);
    seen(3, ALICE, { type: 'react', target: 1, emoji: '👍', on: true }, { history: true });
    expect(conversation.reacted('lobby', 1, '👍')).toBe(true);
    conversation.sending({
      id: 'q1',
      room: 'lobby',
      text: '',
      event: { type: 'react', target: 1, emoji: '👍', on: false },
      queuedAt: 0,
    });
    expect(conversation.reacted('lobby', 1, '👍')).toBe(false);
    conversation.sending({
      id: 'q2',
      room: 'lobby',
      text: '',
      event: { type: 'react', target: 1, emoji: '🎉', on: true },
      queuedAt: 0,
    });
    seen(4, BOB, { type: 'delete', target: 1 });
    expect(conversation.reacted('lobby', 1, '🎉')).toBe(false);
  });

  it('finds our own messages once the host acknowledged them', () => {
    conversation = new Conversation(ALICE);
    conversation.sending({ id: 'q1', room: 'lobby', text: 'my own words', queuedAt: 0 });
    expect(found('own')).toEqual([]);
    conversation.acknowledged({ id: 'q1', seq: 12, ts: 5 }, 'alice');
    expect(found('own')).toEqual([12]);
    // Ours: our edit counts.
    seen(13, ALICE, { type: 'edit', target: 12, text: 'my edited words' });
    expect(conversation.search('edited', 5)[0]).toMatchObject({ seq: 12, from: 'alice' });
    // A resend's second acknowledgement (or one for a message not ours) gives nothing again.
    expect(conversation.acknowledged({ id: 'q1', seq: 12, ts: 5 }, 'alice')).toBeUndefined();
    expect(conversation.acknowledged({ id: 'zz', seq: 13, ts: 5 }, 'alice')).toBeUndefined();
    conversation.sending({ id: 'q2', room: 'lobby', text: 'refused', queuedAt: 0 });
    conversation.dropped('q2');
    expect(conversation.acknowledged({ id: 'q2', seq: 14, ts: 5 }, 'alice')).toBeUndefined();
  });

  it('keeps only the newest messages, files and reactions of a long run', () => {
    expect(CONVERSATION_LIMITS).toEqual({ messages: 100_000, files: 10_000 });
    conversation = new Conversation(ALICE, { messages: 3, files: 2 });
    for (let seq = 1; seq <= 5; seq++) seen(seq, BOB, { type: 'text', text: `word${seq} common` });
    expect(found('common')).toEqual([5, 4, 3]);
    expect(found('word1')).toEqual([]);
    // An evicted message's edit is not followed (it is not found under either text).
    seen(6, BOB, { type: 'edit', target: 1, text: 'revived' });
    expect(found('revived')).toEqual([]);
    for (let seq = 7; seq <= 9; seq++) {
      seen(seq, BOB, { type: 'file', file: { ...FILE, id: `${'F'.repeat(21)}${seq}` } });
    }
    expect(conversation.fileOf('lobby', 7)).toBeUndefined();
    expect(conversation.fileOf('lobby', 8)?.id).toBe(`${'F'.repeat(21)}8`);
    expect(conversation.fileOf('lobby', 9)?.id).toBe(`${'F'.repeat(21)}9`);
    expect(found('quarterly')).toEqual([9, 8, 7]);
    expect(found('common')).toEqual([]);
    for (const emoji of ['👍', '🎉', '❤️']) {
      seen(10, ALICE, { type: 'react', target: 9, emoji, on: true });
    }
    expect(['👍', '🎉', '❤️'].map((e) => conversation?.reacted('lobby', 9, e))).toEqual([
      false,
      true,
      true,
    ]);
  });

  it('newest(): a key set again counts as new, the oldest beyond the limit go', () => {
    const map = new Map<string, number>();
    const gone: string[] = [];
    for (const key of ['a', 'b', 'c', 'a', 'd']) newest(map, key, 1, 3, (k) => gone.push(k));
    expect([...map.keys()]).toEqual(['c', 'a', 'd']);
    expect(gone).toEqual(['b']);
  });
});

describe('/save: where a file goes', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const temp = () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-save-'));
    dirs.push(dir);
    return dir;
  };

  it('names candidates " (1)", " (2)" before the extension', () => {
    expect(candidateName('a.pdf', 0)).toBe('a.pdf');
    expect(candidateName('a.pdf', 1)).toBe('a (1).pdf');
    expect(candidateName('README', 2)).toBe('README (2)');
  });

  it('sanitises the sender’s name, keeps a name the user typed', () => {
    const isDir = (path: string) => path === '/home/u/in';
    expect(saveTarget('/home/u', undefined, '../../etc/passwd', isDir)).toEqual({
      dir: '/home/u',
      name: 'passwd',
    });
    expect(saveTarget('/home/u', 'in', '.bashrc', isDir)).toEqual({
      dir: '/home/u/in',
      name: 'bashrc',
    });
    expect(saveTarget('/home/u', 'new/', 'a\u202Etxt.exe', isDir)).toEqual({
      dir: '/home/u/new',
      name: 'atxt.exe',
    });
    expect(saveTarget('/home/u', 'in/mine.bin', 'x', isDir)).toEqual({
      dir: '/home/u/in',
      name: 'mine.bin',
    });
  });

  it('never overwrites: adds (1), (2)… and writes mode 0600', async () => {
    const dir = temp();
    writeFileSync(join(dir, 'a.txt'), 'existing');
    const bytes = new TextEncoder().encode('new');
    const first = await saveWithoutOverwriting(dir, undefined, 'a.txt', bytes);
    const second = await saveWithoutOverwriting(dir, '.', 'a.txt', bytes);
    const named = await saveWithoutOverwriting(dir, 'a.txt', 'ignored', bytes);
    expect([first, second, named]).toEqual([
      join(dir, 'a (1).txt'),
      join(dir, 'a (2).txt'),
      join(dir, 'a (3).txt'),
    ]);
    expect(readFileSync(join(dir, 'a.txt'), 'utf8')).toBe('existing');
    expect(readFileSync(first, 'utf8')).toBe('new');
    expect(statSync(first).mode & 0o777).toBe(0o600);
  });
});
