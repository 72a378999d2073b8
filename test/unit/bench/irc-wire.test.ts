import { describe, expect, it } from 'vitest';
import {
  IrcLineReader,
  PRIVMSG,
  ascii,
  commandIs,
  parseIrcLine,
  trailingStart,
} from '../../../bench/irc-wire.ts';

// The load generator's IRC parsing (bench/irc-wire.ts): lines arrive in arbitrary TCP chunks,
// and a wrong split would silently lose deliveries or time them from the wrong bytes.

function collectLines(chunks: string[], maxLine?: number): string[] {
  const lines: string[] = [];
  const reader = new IrcLineReader((buffer, start, end) => {
    lines.push(Buffer.from(buffer.subarray(start, end)).toString('latin1'));
  }, maxLine);
  for (const chunk of chunks) {
    // A reused read buffer, as the socket's onread gives: what the reader keeps must be a copy.
    const shared = Buffer.alloc(64 * 1024, 0x21);
    shared.write(chunk, 'latin1');
    reader.push(new Uint8Array(shared.buffer, shared.byteOffset, chunk.length));
    shared.fill(0x21);
  }
  return lines;
}

describe('IrcLineReader', () => {
  it('splits CRLF lines and hands out each line without its terminator', () => {
    expect(collectLines([':a PRIVMSG #r :one\r\n:a PRIVMSG #r :two\r\n'])).toEqual([
      ':a PRIVMSG #r :one',
      ':a PRIVMSG #r :two',
    ]);
  });

  it('joins a line split across reads, even between CR and LF and byte by byte', () => {
    const line = ':k1!~k1@127.0.0.1 PRIVMSG #f1 :~123.5~xxxx';
    expect(collectLines([`${line.slice(0, 10)}`, `${line.slice(10)}\r`, '\nPING :x\r\n'])).toEqual([
      line,
      'PING :x',
    ]);
    expect(collectLines([...`${line}\r\nNEXT\r\n`])).toEqual([line, 'NEXT']);
  });

  it('accepts a lone LF and skips empty lines', () => {
    expect(collectLines(['A\n\r\n\nB\r\n'])).toEqual(['A', 'B']);
  });

  it('keeps an unfinished line until its end arrives', () => {
    expect(collectLines(['PRIVMSG #r :no end yet'])).toEqual([]);
  });

  it('refuses a partial line longer than its bound instead of growing without end', () => {
    expect(() => collectLines(['x'.repeat(600), 'y'.repeat(600)], 1000)).toThrow(/longer than/);
  });
});

describe('IRC line fields on the hot path', () => {
  const bytes = ascii(':k1!~k1@127.0.0.1 PRIVMSG #f1 :~42.5~ hello :)');

  it('finds the command behind a prefix, and only the whole word', () => {
    expect(commandIs(bytes, 0, bytes.length, PRIVMSG)).toBe(true);
    expect(commandIs(bytes, 0, bytes.length, ascii('PRIV'))).toBe(false);
    const bare = ascii('PRIVMSG #f1 :hi');
    expect(commandIs(bare, 0, bare.length, PRIVMSG)).toBe(true);
  });

  it('finds the trailing text after the first " :" behind the command, not in the prefix', () => {
    const at = trailingStart(bytes, 0, bytes.length);
    expect(Buffer.from(bytes.subarray(at)).toString()).toBe('~42.5~ hello :)');
  });
});

describe('parseIrcLine', () => {
  it('parses prefix, command, middle and trailing parameters', () => {
    expect(parseIrcLine(':srv 265 ctl 3 5 :Current local users: 3, Max: 5')).toEqual({
      prefix: 'srv',
      command: '265',
      params: ['ctl', '3', '5', 'Current local users: 3, Max: 5'],
    });
    expect(parseIrcLine('PING :bench.parley.invalid')).toEqual({
      prefix: null,
      command: 'PING',
      params: ['bench.parley.invalid'],
    });
  });

  it('rejects what is not an IRC message', () => {
    expect(() => parseIrcLine(':prefix-only')).toThrow();
    expect(() => parseIrcLine('12 x')).toThrow();
  });
});
