// The desktop side of private rooms, piece by piece: what the contract accepts, how a host's
// refusal reaches the UI, and when losing a room is worth a desktop notification.
import { describe, expect, it } from 'vitest';
import { ChatSessionError } from '../../../src-main/client/chat-session.ts';
import { MembershipError } from '../../../src-main/client/membership-requests.ts';
import {
  MAX_INVITE_TTL_MS as WIRE_TTL,
  MAX_INVITE_USES as WIRE_USES,
  MAX_TOPIC_LENGTH as WIRE_TOPIC,
} from '../../../src-main/protocol/wire/messages.ts';
import { membershipFailure } from '../../../src-main/service/membership-error.ts';
import { removalNotice } from '../../../src-main/service/removal-notice.ts';
import { requests } from '../../../src-shared/ipc/contract.ts';
import { DEFAULT_SETTINGS } from '../../../src-shared/ipc/domain.ts';

const KEY = 'K'.repeat(43);
/** The host every host-scoped request names (`host:port`). */
const H = 'example.org:7878';

describe('the private-room requests of the IPC contract', () => {
  it('takes an invite of any role, uses and expiry the host allows, and nothing else', () => {
    const input = requests.createInvite.input;
    const ok = { hostId: H, room: 'dev', role: 'member', uses: 5, expiresInMs: 3_600_000 };
    expect(input.safeParse(ok).success).toBe(true);
    expect(input.safeParse({ ...ok, uses: null, expiresInMs: null }).success).toBe(true);
    for (const bad of [
      { ...ok, uses: 0 },
      { ...ok, uses: WIRE_USES + 1 },
      { ...ok, expiresInMs: 59_999 },
      { ...ok, expiresInMs: WIRE_TTL + 1 },
      { ...ok, role: 'god' },
      { ...ok, room: 'Not A Room' },
      { ...ok, token: 'x' }, // strict: no field the contract does not name
      { hostId: H, room: 'dev', role: 'member' },
    ]) {
      expect(input.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });

  it('refuses a key that is not one, a topic too long, and extra fields', () => {
    expect(
      requests.removeMember.input.safeParse({ hostId: H, room: 'dev', key: KEY, ban: true })
        .success,
    ).toBe(true);
    expect(
      requests.removeMember.input.safeParse({ hostId: H, room: 'dev', key: 'bob', ban: true })
        .success,
    ).toBe(false);
    expect(
      requests.setRole.input.safeParse({ hostId: H, room: 'dev', key: KEY, role: 'owner' }).success,
    ).toBe(true);
    expect(requests.openDm.input.safeParse({ hostId: H, key: KEY, room: 'dev' }).success).toBe(
      false,
    );
    expect(requests.setTopic.input.safeParse({ hostId: H, room: 'dev', topic: '' }).success).toBe(
      true,
    );
    expect(
      requests.setTopic.input.safeParse({
        hostId: H,
        room: 'dev',
        topic: 'x'.repeat(WIRE_TOPIC + 1),
      }).success,
    ).toBe(false);
    expect(
      requests.revokeInvite.input.safeParse({ hostId: H, room: 'dev', id: 'abc' }).success,
    ).toBe(false);
  });
});

describe('membershipFailure', () => {
  it("passes the host's refusal on with its words, in the UI's codes", () => {
    const cases: [MembershipError['code'], string][] = [
      ['forbidden', 'forbidden'],
      ['too-many-rooms', 'forbidden'],
      ['room-exists', 'room-exists'],
      ['not-member', 'not-member'],
      ['unknown-room', 'not-found'],
      ['rate-limited', 'rate-limited'],
      ['busy', 'rate-limited'],
      ['offline', 'not-connected'],
      ['stopped', 'not-connected'],
      ['disconnected', 'timeout'],
      ['bad-request', 'invalid-request'],
      ['internal', 'internal'],
    ];
    for (const [host, ui] of cases) {
      expect(membershipFailure(new MembershipError(host, 'because')).code, host).toBe(ui);
    }
    expect(membershipFailure(new MembershipError('forbidden', 'only admins\u202e')).message).toBe(
      'only admins\\u{202e}',
    );
    expect(membershipFailure(new ChatSessionError('invalid-request', 'bad')).code).toBe(
      'invalid-request',
    );
    expect(() => membershipFailure(new TypeError('bug'))).toThrow(TypeError);
  });
});

describe('removalNotice', () => {
  const context = { windowFocused: false, settings: DEFAULT_SETTINGS, platform: 'darwin' };
  it('says who removed or banned us, when the window is not in front', () => {
    expect(removalNotice({ room: 'dev', reason: 'removed', by: 'alice' }, context)).toMatchObject({
      title: 'Parley',
      body: 'You were removed from #dev by alice',
      room: 'dev',
    });
    expect(removalNotice({ room: 'dev', reason: 'banned' }, context)?.body).toBe(
      'You were banned from #dev',
    );
  });

  it('stays quiet for our own part, a focused window, muted, and names nothing if asked', () => {
    expect(removalNotice({ room: 'dev', reason: 'parted' }, context)).toBeUndefined();
    expect(
      removalNotice({ room: 'dev', reason: 'removed' }, { ...context, windowFocused: true }),
    ).toBeUndefined();
    const muted = { ...context, settings: { ...DEFAULT_SETTINGS, muted: true } };
    expect(removalNotice({ room: 'dev', reason: 'removed' }, muted)).toBeUndefined();
    const nothing = {
      ...context,
      settings: { ...DEFAULT_SETTINGS, notificationPrivacy: 'nothing' as const },
    };
    expect(removalNotice({ room: 'dev', reason: 'removed', by: 'alice' }, nothing)?.body).toBe(
      'You were removed from a room',
    );
  });
});
