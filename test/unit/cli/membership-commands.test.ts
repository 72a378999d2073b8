import { describe, expect, it } from 'vitest';
import type { ChatSession } from '../../../src-main/client/chat-session.ts';
import { KnownPeople } from '../../../src-main/cli/known-people.ts';
import {
  type CommandContext,
  inviteOptions,
  runMembershipCommand,
} from '../../../src-main/cli/membership-commands.ts';

const DAY = 24 * 3600_000;

describe('/invite options', () => {
  it('defaults to one use within 7 days, as a member', () => {
    expect(inviteOptions([])).toEqual({ role: 'member', uses: 1, expiresInMs: 7 * DAY });
  });

  it('takes uses, expiry and role in any order', () => {
    expect(inviteOptions(['role', 'admin', 'uses', 'unlimited', 'expires', 'never'])).toEqual({
      role: 'admin',
      uses: null,
      expiresInMs: null,
    });
    expect(inviteOptions(['expires', '1h', 'uses', '25'])).toEqual({
      role: 'member',
      uses: 25,
      expiresInMs: 3600_000,
    });
    expect(inviteOptions(['expires', '30d'])?.expiresInMs).toBe(30 * DAY);
  });

  it('refuses what it does not know, a word twice, or a word without its value', () => {
    for (const words of [
      ['uses'],
      ['uses', '0'],
      ['uses', '10001'],
      ['uses', 'lots'],
      ['expires', '2d'],
      ['role', 'king'],
      ['uses', '2', 'uses', '3'],
      ['colour', 'red'],
    ]) {
      expect(inviteOptions(words), words.join(' ')).toBeUndefined();
    }
  });
});

describe('KnownPeople', () => {
  it('finds the latest key for a nickname, and takes a full public key as is', () => {
    const people = new KnownPeople();
    people.note({ nick: 'bob', key: 'B'.repeat(43) });
    people.note({ nick: 'bob', key: 'C'.repeat(43) });
    expect(people.keyOf('bob')).toBe('C'.repeat(43));
    expect(people.keyOf('D'.repeat(43))).toBe('D'.repeat(43));
    expect(people.keyOf('carol')).toBeUndefined();
  });
});

describe('/dm and /create refused on the spot', () => {
  /** Runs `line` with no host behind it: what it printed and how it released the input, in order. */
  function run(line: string): (string | boolean)[] {
    const log: (string | boolean)[] = [];
    const ctx: CommandContext = {
      // Refused before anything reaches the host: the session is never used.
      session: {} as unknown as ChatSession,
      people: new KnownPeople(),
      room: 'lobby',
      now: () => 0,
      out: (text) => log.push(text),
      talkIn: (room) => log.push(`talk in ${room}`),
      holdInput: () => (switched) => log.push(switched),
      requestStarted: () => () => undefined,
    };
    const [command = '', ...args] = line.split(' ');
    expect(runMembershipCommand(ctx, command, args, args.join(' '))).toBe(true);
    return log;
  }

  it('say why, then release the held input as switched to no room', () => {
    for (const line of ['/dm nobody', '/dm', '/dm bob carol', '/create Not-A-Room', '/create']) {
      const log = run(line);
      expect(log, line).toHaveLength(2);
      expect(log[0], line).toMatch(/usage: |nobody called nobody seen here/);
      expect(log[1], line).toBe(false);
    }
  });
});
