import { describe, expect, it } from 'vitest';
import { KnownPeople } from '../../../src-main/cli/known-people.ts';
import { inviteOptions } from '../../../src-main/cli/membership-commands.ts';

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
