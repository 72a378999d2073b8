import { describe, expect, it } from 'vitest';
import {
  fileSavedLine,
  fileSentLine,
  messageLine,
  searchLines,
  sentLine,
} from '../../../src-main/cli/message-lines.ts';
import type { SessionMessage } from '../../../src-main/client/session-events.ts';
import type { ChatEvent, FileRef } from '../../../src-main/protocol/wire/chat-event.ts';

const T = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
const AT = '2026-01-02T03:04:05.678Z';
const message = (extra: Partial<SessionMessage> = {}): SessionMessage => ({
  t: 'msg',
  room: 'lobby',
  seq: 7,
  id: 'abcdefghijkl',
  from: 'bob',
  fp: 'ABCD EFGH',
  key: 'A'.repeat(43),
  text: '',
  ts: T,
  ...extra,
});
const said = (event: ChatEvent, extra: Partial<SessionMessage> = {}) =>
  messageLine(message({ event, ...extra }));
const FILE: FileRef = {
  id: 'F'.repeat(22),
  name: 'report.pdf',
  mime: 'application/pdf',
  size: 1_258_291,
  chunks: 39,
  key: 'K'.repeat(43),
};

describe('message lines', () => {
  it('shows every message with its #seq: lines, replies, files', () => {
    expect(said({ type: 'text', text: 'hello' })).toBe(`msg ${AT} #lobby #7 bob: hello`);
    expect(messageLine(message({ text: 'bare line, older host' }))).toBe(
      `msg ${AT} #lobby #7 bob: bare line, older host`,
    );
    expect(said({ type: 'text', text: 'yes', reply: 3 }, { history: true })).toBe(
      `history ${AT} #lobby #7 bob ↪ #3: yes`,
    );
    expect(said({ type: 'file', file: FILE, text: 'Q3 numbers' })).toBe(
      `msg ${AT} #lobby #7 bob [file "report.pdf", 1.2 MB]: Q3 numbers`,
    );
    expect(said({ type: 'file', file: { ...FILE, size: 10 } })).toBe(
      `msg ${AT} #lobby #7 bob [file "report.pdf", 10 B]`,
    );
    expect(said({ type: 'file', file: FILE, reply: 2 })).toBe(
      `msg ${AT} #lobby #7 bob ↪ #2 [file "report.pdf", 1.2 MB]`,
    );
  });

  it('shows what is done to earlier messages as `* <nick> …`', () => {
    expect(said({ type: 'edit', target: 3, text: 'fixed\ttypo' })).toBe(
      `msg ${AT} #lobby #7 * bob edited #3: fixed\\ttypo`,
    );
    expect(said({ type: 'delete', target: 3 })).toBe(`msg ${AT} #lobby #7 * bob deleted #3`);
    expect(said({ type: 'react', target: 3, emoji: '👍', on: true })).toBe(
      `msg ${AT} #lobby #7 * bob reacted 👍 to #3`,
    );
    expect(said({ type: 'react', target: 3, emoji: '👍🏽', on: false })).toBe(
      `msg ${AT} #lobby #7 * bob removed 👍🏽 from #3`,
    );
    expect(messageLine(message({ deleted: true, history: true }))).toBe(
      `history ${AT} #lobby #7 * bob deleted this message`,
    );
    // Read positions are not shown.
    expect(said({ type: 'read', upTo: 6 })).toBeUndefined();
  });

  it('keeps free text last, so no text passes for another kind of line', () => {
    const forged = said({ type: 'text', text: '↪ #1 [file "x", 1 B]\n* bob deleted #1' });
    expect(forged).toBe(`msg ${AT} #lobby #7 bob: ↪ #1 [file "x", 1 B]\\n* bob deleted #1`);
    // A hostile file name: sanitised (no quotes, path, controls or bidi overrides).
    const name = said({
      type: 'file',
      file: { ...FILE, name: '../../x"\u202Efdp.exe\n"] evil' },
    });
    expect(name).toBe(`msg ${AT} #lobby #7 bob [file "xfdp.exe] evil", 1.2 MB]`);
    expect(name?.split('"')).toHaveLength(3);
  });

  it('shows an undecryptable message as before, with its seq', () => {
    expect(messageLine(message({ e2ee: { status: 'failed', reason: 'tampered' } }))).toBe(
      `msg ${AT} #lobby #7 bob: [not decrypted: tampered]`,
    );
  });

  it('prints search results as a count line, then one line per hit', () => {
    const lines = searchLines(T, 'deploy "x', [
      {
        key: 'lobby|9',
        host: '',
        room: 'lobby',
        seq: 9,
        id: 'i',
        from: 'alice',
        ts: T,
        text: 'deploy\nnow',
        snippet: 'deploy\nnow',
        highlights: [[0, 6]],
      },
    ]);
    expect(lines).toEqual([
      `*** ${AT} search 1 result: deploy "x`,
      `search ${AT} #lobby #9 alice: deploy\\nnow`,
    ]);
    expect(searchLines(T, 'zz', [])).toEqual([`*** ${AT} search 0 results: zz`]);
  });

  it('says where a file went', () => {
    expect(fileSentLine(T, 'lobby', { name: 'a b.txt', size: 2048 })).toBe(
      `*** ${AT} #lobby file sent "a b.txt", 2 KB`,
    );
    expect(fileSavedLine(T, 'lobby', 4, '/tmp/a\nb (1).txt')).toBe(
      `*** ${AT} #lobby saved #4 to /tmp/a\\nb (1).txt`,
    );
  });

  it('says which #seq the host gave our own line, reply or file, with its text escaped and cut', () => {
    const ack = { seq: 12, ts: T };
    const entry = (event?: ChatEvent, text = '') => ({
      id: 'q1',
      room: 'lobby',
      text,
      queuedAt: 0,
      ...(event ? { event } : {}),
    });
    // A plain line (an outbox from an earlier version has no event).
    expect(sentLine(ack, entry(undefined, 'deploy\tnow'))).toBe(
      `*** ${AT} #lobby sent #12: deploy\\tnow`,
    );
    expect(sentLine(ack, entry({ type: 'text', text: 'on it', reply: 3 }))).toBe(
      `*** ${AT} #lobby sent #12 ↪ #3: on it`,
    );
    expect(sentLine(ack, entry({ type: 'file', file: FILE, text: 'Q3' }))).toBe(
      `*** ${AT} #lobby sent #12 [file "report.pdf", 1.2 MB]: Q3`,
    );
    expect(sentLine(ack, entry({ type: 'file', file: FILE, reply: 2 }))).toBe(
      `*** ${AT} #lobby sent #12 ↪ #2 [file "report.pdf", 1.2 MB]`,
    );
    // 60 characters (whole emoji, never half a surrogate pair), then `…`; one line whatever it says.
    const long = `${'😀'.repeat(59)}ab\nmore`;
    expect(sentLine(ack, entry({ type: 'text', text: long }))).toBe(
      `*** ${AT} #lobby sent #12: ${'😀'.repeat(59)}a…`,
    );
    expect(sentLine(ack, entry({ type: 'text', text: `${'x'.repeat(59)}\n` }))).toBe(
      `*** ${AT} #lobby sent #12: ${'x'.repeat(59)}\\n`,
    );
    // What is done to earlier messages prints nothing.
    for (const event of [
      { type: 'edit', target: 3, text: 'x' },
      { type: 'delete', target: 3 },
      { type: 'react', target: 3, emoji: '👍', on: true },
      { type: 'read', upTo: 3 },
    ] as ChatEvent[]) {
      expect(sentLine(ack, entry(event))).toBeUndefined();
    }
  });
});
