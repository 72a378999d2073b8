import { describe, expect, it } from 'vitest';
import {
  accessText,
  leaveText,
  removeText,
  unbanText,
} from '../../src-renderer/lib/confirmations.ts';

describe('membership confirmations', () => {
  it('leaving a room says how to come back, by whether it is open', () => {
    const closed = leaveText('lobby', null, false);
    expect(closed).toMatchObject({
      title: 'Leave #lobby?',
      confirmLabel: 'Leave room',
      danger: true,
    });
    expect(closed.text).toContain('you will need a new invite link');
    expect(leaveText('lobby', null, true).text).toContain('join it again from the rooms');
  });

  it('leaving a direct message names the other person and is not dangerous', () => {
    const dm = leaveText('dm-1', { title: 'bob' }, false);
    expect(dm).toMatchObject({
      title: 'Leave the conversation with bob?',
      confirmLabel: 'Leave',
      danger: false,
    });
    expect(dm.text).not.toContain('#dm-1');
  });

  it('opening and closing a room each say what changes', () => {
    expect(accessText('lobby', false)).toMatchObject({
      title: 'Open #lobby to everyone on this host?',
      confirmLabel: 'Open room',
    });
    expect(accessText('lobby', true)).toMatchObject({
      title: 'Make #lobby invite-only?',
      confirmLabel: 'Make invite-only',
    });
  });

  it('lifting a ban says whether an invite is needed', () => {
    expect(unbanText('lobby', 'eve', false).text).toContain('with a new invite link');
    expect(unbanText('lobby', 'eve', true).text).toContain('like anyone on this host');
    expect(unbanText('lobby', 'eve', true).confirmLabel).toBe('Unban eve');
  });

  it('removing and banning are dangerous and named for the member', () => {
    expect(removeText('lobby', 'eve', false)).toMatchObject({
      title: 'Remove eve from #lobby?',
      confirmLabel: 'Remove eve',
      danger: true,
    });
    const ban = removeText('lobby', 'eve', true);
    expect(ban).toMatchObject({ title: 'Ban eve from #lobby?', danger: true });
    expect(ban.text).toContain('not even with an invite link');
  });
});
