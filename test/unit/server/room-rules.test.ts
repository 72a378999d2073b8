import { describe, expect, it } from 'vitest';
import {
  MAX_ROOMS_PER_KEY,
  mayCreateRoom,
  mayManageInvites,
  mayOpenDm,
  mayPart,
  mayRemove,
  maySetOpen,
  maySetRole,
  maySetTopic,
  mayUnban,
} from '../../../src-main/server/room-rules.ts';

const code = (verdict: { code: string } | undefined) => verdict?.code ?? 'ok';

describe('room rules', () => {
  it('invites: admins and owners, for a role no higher than their own, never in a DM', () => {
    expect(code(mayManageInvites('member', 'room', 'member'))).toBe('forbidden');
    expect(code(mayManageInvites(undefined, 'room'))).toBe('forbidden');
    expect(code(mayManageInvites('admin', 'room', 'member'))).toBe('ok');
    expect(code(mayManageInvites('admin', 'room', 'admin'))).toBe('ok');
    expect(code(mayManageInvites('admin', 'room', 'owner'))).toBe('forbidden');
    expect(code(mayManageInvites('owner', 'room', 'owner'))).toBe('ok');
    expect(code(mayManageInvites('admin', 'room'))).toBe('ok'); // list, revoke
    expect(code(mayManageInvites('member', 'dm', 'member'))).toBe('forbidden');
  });

  it('create: an admin somewhere, a free name outside dm., within the rooms per key', () => {
    const facts = { name: 'new', nameTaken: false, rolesOfKey: ['admin' as const] };
    expect(code(mayCreateRoom(facts))).toBe('ok');
    expect(code(mayCreateRoom({ ...facts, rolesOfKey: ['member'] }))).toBe('forbidden');
    expect(code(mayCreateRoom({ ...facts, rolesOfKey: [] }))).toBe('forbidden');
    expect(code(mayCreateRoom({ ...facts, nameTaken: true }))).toBe('room-exists');
    expect(code(mayCreateRoom({ ...facts, name: 'dm.abc' }))).toBe('room-exists');
    const many = Array.from({ length: MAX_ROOMS_PER_KEY }, () => 'owner' as const);
    expect(code(mayCreateRoom({ ...facts, rolesOfKey: many }))).toBe('too-many-rooms');
  });

  it('topic: admins and owners; in a DM either member', () => {
    expect(code(maySetTopic('member', 'room'))).toBe('forbidden');
    expect(code(maySetTopic('admin', 'room'))).toBe('ok');
    expect(code(maySetTopic('member', 'dm'))).toBe('ok');
    expect(code(maySetTopic(undefined, 'dm'))).toBe('forbidden');
  });

  it('set-open: owners only, never a DM', () => {
    expect(code(maySetOpen('admin', 'room'))).toBe('forbidden');
    expect(code(maySetOpen('owner', 'room'))).toBe('ok');
    expect(code(maySetOpen('member', 'dm'))).toBe('forbidden');
  });

  it('remove and ban: on a lower role, not oneself, not in a DM; bans ahead of known keys', () => {
    const base = {
      actor: 'admin' as const,
      kind: 'room' as const,
      self: false,
      target: 'member' as const,
      ban: false,
      knownKey: true,
    };
    expect(code(mayRemove(base))).toBe('ok');
    expect(code(mayRemove({ ...base, actor: 'member' }))).toBe('forbidden');
    expect(code(mayRemove({ ...base, target: 'admin' }))).toBe('forbidden');
    expect(code(mayRemove({ ...base, actor: 'owner', target: 'admin' }))).toBe('ok');
    expect(code(mayRemove({ ...base, actor: 'owner', target: 'owner' }))).toBe('forbidden');
    expect(code(mayRemove({ ...base, self: true }))).toBe('forbidden');
    expect(code(mayRemove({ ...base, kind: 'dm' }))).toBe('forbidden');
    expect(code(mayRemove({ ...base, target: undefined }))).toBe('not-member');
    expect(code(mayRemove({ ...base, target: undefined, ban: true }))).toBe('ok');
    expect(code(mayRemove({ ...base, target: undefined, ban: true, knownKey: false }))).toBe(
      'not-member',
    );
  });

  it('unban: admins and owners', () => {
    expect(code(mayUnban('member', 'room'))).toBe('forbidden');
    expect(code(mayUnban('admin', 'room'))).toBe('ok');
  });

  it('set-role: below you, to at most your role; own demotion unless no owner remains', () => {
    const base = {
      actor: 'owner' as const,
      kind: 'room' as const,
      self: false,
      target: 'member' as const,
      role: 'admin' as const,
      owners: 1,
    };
    expect(code(maySetRole(base))).toBe('ok');
    expect(code(maySetRole({ ...base, role: 'owner' }))).toBe('ok');
    expect(code(maySetRole({ ...base, actor: 'admin' }))).toBe('ok');
    expect(code(maySetRole({ ...base, actor: 'admin', role: 'owner' }))).toBe('forbidden');
    expect(code(maySetRole({ ...base, actor: 'admin', target: 'admin', role: 'member' }))).toBe(
      'forbidden',
    );
    expect(code(maySetRole({ ...base, target: 'owner', role: 'member', owners: 2 }))).toBe(
      'forbidden',
    );
    expect(code(maySetRole({ ...base, actor: 'member' }))).toBe('forbidden');
    expect(code(maySetRole({ ...base, target: undefined }))).toBe('not-member');
    // oneself
    const self = { ...base, self: true, target: 'owner' as const };
    expect(code(maySetRole({ ...self, role: 'admin' }))).toBe('forbidden');
    expect(code(maySetRole({ ...self, role: 'admin', owners: 2 }))).toBe('ok');
    expect(code(maySetRole({ ...self, actor: 'admin', target: 'admin', role: 'member' }))).toBe(
      'ok',
    );
    expect(code(maySetRole({ ...self, actor: 'admin', target: 'admin', role: 'owner' }))).toBe(
      'forbidden',
    );
    expect(code(maySetRole({ ...base, kind: 'dm' }))).toBe('forbidden');
  });

  it('part: any member, but not the last owner while others remain', () => {
    expect(code(mayPart({ actor: 'member', owners: 1, members: 3 }))).toBe('ok');
    expect(code(mayPart({ actor: 'owner', owners: 1, members: 3 }))).toBe('forbidden');
    expect(code(mayPart({ actor: 'owner', owners: 2, members: 3 }))).toBe('ok');
    expect(code(mayPart({ actor: 'owner', owners: 1, members: 1 }))).toBe('ok');
    expect(code(mayPart({ actor: undefined, owners: 1, members: 3 }))).toBe('not-member');
  });

  it('dm: another key that shares a room', () => {
    expect(code(mayOpenDm({ self: false, sharesRoom: true }))).toBe('ok');
    expect(code(mayOpenDm({ self: true, sharesRoom: true }))).toBe('not-member');
    expect(code(mayOpenDm({ self: false, sharesRoom: false }))).toBe('not-member');
  });
});
