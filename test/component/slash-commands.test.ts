import { describe, expect, it } from 'vitest';
import { complete, completionsFor, parseDraft } from '../../src-renderer/lib/slash-commands.ts';

describe('parseDraft', () => {
  it('sends ordinary text as it is, including a slash later in the line', () => {
    expect(parseDraft('hello')).toEqual({ kind: 'send', text: 'hello' });
    expect(parseDraft('and/or')).toEqual({ kind: 'send', text: 'and/or' });
    expect(parseDraft(' /nick x')).toEqual({ kind: 'send', text: ' /nick x' });
  });

  it('sends //text as /text, the way to write a leading slash', () => {
    expect(parseDraft('//x')).toEqual({ kind: 'send', text: '/x' });
    expect(parseDraft('//shrug ¯\\_(ツ)_/¯')).toEqual({ kind: 'send', text: '/shrug ¯\\_(ツ)_/¯' });
    expect(parseDraft('///')).toEqual({ kind: 'send', text: '//' });
  });

  it('changes the nickname with /nick, checked like the contract’s Nick', () => {
    expect(parseDraft('/nick  zoë ')).toEqual({ kind: 'nick', nick: 'zoë' });
    expect(parseDraft('/NICK bob')).toEqual({ kind: 'nick', nick: 'bob' });
    expect(parseDraft('/nick')).toMatchObject({ kind: 'error', message: /Type a nickname/ });
    expect(parseDraft('/nick two words')).toMatchObject({ kind: 'error', message: /1–32/ });
    expect(parseDraft(`/nick ${'a'.repeat(33)}`)).toMatchObject({ kind: 'error' });
    expect(parseDraft(`/nick ${'a'.repeat(32)}`)).toEqual({ kind: 'nick', nick: 'a'.repeat(32) });
  });

  it('joins a room by name, with or without #, never a direct message', () => {
    expect(parseDraft('/join #Random')).toEqual({ kind: 'join', room: 'random' });
    expect(parseDraft('/join lobby')).toEqual({ kind: 'join', room: 'lobby' });
    expect(parseDraft('/join')).toMatchObject({ kind: 'error', message: /Type a room name/ });
    expect(parseDraft('/join no such')).toMatchObject({ kind: 'error' });
    expect(parseDraft(`/join dm.${'0'.repeat(32)}`)).toMatchObject({ kind: 'error' });
  });

  it('leaves and helps without arguments', () => {
    expect(parseDraft('/leave')).toEqual({ kind: 'leave' });
    expect(parseDraft('/help')).toEqual({ kind: 'help' });
  });

  it('sends /me as the text "/me TEXT", and refuses an empty one', () => {
    expect(parseDraft('/me waves  ')).toEqual({ kind: 'send', text: '/me waves' });
    expect(parseDraft('/me')).toMatchObject({ kind: 'error', message: /after \/me/ });
  });

  it('never sends an unknown command, and says how to send it as text', () => {
    expect(parseDraft('/shrug hi')).toEqual({
      kind: 'error',
      message: 'Unknown command /shrug — type //shrug to send it as text.',
    });
    expect(parseDraft('/')).toMatchObject({ kind: 'error' });
  });
});

describe('completionsFor', () => {
  it('offers the commands that start with what is typed, only while typing the name', () => {
    expect(completionsFor('/').map((c) => c.name)).toEqual(['nick', 'join', 'leave', 'me', 'help']);
    expect(completionsFor('/n').map((c) => c.name)).toEqual(['nick']);
    expect(completionsFor('/L').map((c) => c.name)).toEqual(['leave']);
    expect(completionsFor('/nick ')).toEqual([]);
    expect(completionsFor('//')).toEqual([]);
    expect(completionsFor('/zzz')).toEqual([]);
    expect(completionsFor('hi /')).toEqual([]);
  });

  it('completes to a command ready for its argument', () => {
    const [nick] = completionsFor('/ni');
    const [leave] = completionsFor('/le');
    expect(complete(nick!)).toBe('/nick ');
    expect(complete(leave!)).toBe('/leave');
  });
});
