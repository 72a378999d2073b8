import { describe, expect, it } from 'vitest';
import {
  errorLine,
  escapeText,
  INVALID_TIME,
  membersLine,
  presenceLine,
  reconnectingLine,
  welcomeLine,
} from '../../../src-main/cli/line-format.ts';
import { messageLine } from '../../../src-main/cli/message-lines.ts';
import type { SessionMessage } from '../../../src-main/client/session-events.ts';

const T = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
const message = (text: string, extra: Partial<SessionMessage> = {}): SessionMessage => ({
  t: 'msg',
  room: 'lobby',
  seq: 1,
  id: 'abcdefghijkl',
  from: 'bob',
  fp: 'ABCD EFGH',
  key: 'A'.repeat(43),
  text,
  ts: T,
  ...extra,
});

describe('line format', () => {
  it('formats live and history messages', () => {
    expect(messageLine(message('hello there'))).toBe(
      'msg 2026-01-02T03:04:05.678Z #lobby #1 bob: hello there',
    );
    expect(messageLine(message('old', { history: true }))).toBe(
      'history 2026-01-02T03:04:05.678Z #lobby #1 bob: old',
    );
  });

  it('keeps a message with a newline and a fake system line on one line', () => {
    const line =
      messageLine(message('hi\n*** 2026-01-02T03:04:05.678Z #lobby joined mallory')) ?? '';
    expect(line.split('\n')).toHaveLength(1);
    expect(line).toBe(
      'msg 2026-01-02T03:04:05.678Z #lobby #1 bob: hi\\n*** 2026-01-02T03:04:05.678Z #lobby joined mallory',
    );
  });

  it('escapes backslashes, carriage returns, terminal escapes and other controls', () => {
    expect(escapeText('a\\n')).toBe('a\\\\n'); // a literal backslash-n stays tellable from a newline
    expect(escapeText('x\ry')).toBe('x\\ry');
    expect(escapeText('\x1b[2J\x1b]0;pwned\x07')).toBe('\\x1b[2J\\x1b]0;pwned\\x07');
    expect(escapeText('tab\there\x00\x7f\x9b')).toBe('tab\\there\\x00\\x7f\\x9b');
    expect(escapeText('a\u2028b\u2029c')).toBe('a\\u{2028}b\\u{2029}c');
    expect(escapeText('evil\u202Etxt.exe')).toBe('evil\\u{202e}txt.exe');
    expect(escapeText('lone \ud800 surrogate')).toBe('lone \\u{d800} surrogate');
    expect(escapeText('Grüße, 你好 🙂')).toBe('Grüße, 你好 🙂');
  });

  it('escapes what the host says too: names, fingerprints, reasons', () => {
    const line = presenceLine(T, {
      room: 'lobby',
      event: 'joined',
      nick: 'eve',
      fp: 'FAKE\n*** x',
      key: 'A'.repeat(43),
    });
    expect(line).toBe('*** 2026-01-02T03:04:05.678Z #lobby joined eve (FAKE\\n*** x)');
    expect(
      reconnectingLine(T, {
        state: 'reconnecting',
        attempt: 2,
        retryInMs: 1234,
        reason: 'shutdown: bye\nnow',
      }),
    ).toBe('*** 2026-01-02T03:04:05.678Z reconnecting in 1.2 s (attempt 2): shutdown: bye\\nnow');
    expect(errorLine(T, { code: 'rate-limited', message: 'slow\x1b', retryAfterMs: 400 })).toBe(
      '*** 2026-01-02T03:04:05.678Z error rate-limited: slow\\x1b (resending in 0.4 s)',
    );
  });

  it("escapes a room named by an error's ref, which the schema does not check", () => {
    const line = errorLine(T, {
      code: 'unknown-room',
      message: 'no such room',
      room: '\x1b[2J\n*** 2026-01-01T00:00:00.000Z #lobby joined admin',
    });
    expect(line.split('\n')).toHaveLength(1);
    expect(line).toBe(
      '*** 2026-01-02T03:04:05.678Z #\\x1b[2J\\n*** 2026-01-01T00:00:00.000Z #lobby joined admin ' +
        'error unknown-room: no such room',
    );
  });

  it('prints a time beyond what Date can show as invalid-time instead of throwing', () => {
    expect(messageLine(message('far future', { ts: 9e15 }))).toBe(
      `msg ${INVALID_TIME} #lobby #1 bob: far future`,
    );
    expect(messageLine(message('max', { ts: Number.MAX_SAFE_INTEGER, history: true }))).toBe(
      `history ${INVALID_TIME} #lobby #1 bob: max`,
    );
  });

  it('formats members, renames and the connection line', () => {
    expect(
      membersLine(T, 'dev', [
        { nick: 'a', fp: 'F1', key: 'k' },
        { nick: 'b', fp: 'F2', key: 'k' },
      ]),
    ).toBe('*** 2026-01-02T03:04:05.678Z #dev members 2: a (F1), b (F2)');
    expect(membersLine(T, 'dev', [])).toBe('*** 2026-01-02T03:04:05.678Z #dev members 0');
    expect(
      presenceLine(T, {
        room: 'dev',
        event: 'renamed',
        nick: 'a',
        fp: 'F1',
        key: 'k',
        newNick: 'b',
      }),
    ).toBe('*** 2026-01-02T03:04:05.678Z #dev renamed a (F1) to b');
    const welcome = welcomeLine(T, {
      nick: 'alice',
      fp: 'ME',
      host: {
        address: { host: '::1', port: 7878 },
        fingerprint: 'HOST FP',
        name: 'Home\x1b',
        software: 'parley',
        rooms: ['lobby'],
        limits: { maxTextBytes: 100, messagesPerSecond: 1 },
        trust: {
          fingerprint: 'HOST FP',
          method: 'invite',
          firstSeen: '',
          newlyPinned: true,
          replacedFingerprint: 'OLD FP',
        },
      },
    });
    expect(welcome).toBe(
      '*** 2026-01-02T03:04:05.678Z connected to [::1]:7878 as alice: host "Home\\x1b", ' +
        'fingerprint HOST FP (pinned by invite, replacing the old key OLD FP)',
    );
  });
});
