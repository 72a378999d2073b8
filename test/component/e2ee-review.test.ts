// End-to-end encrypted rooms, as a demanding user meets them (review R2 of #16): the Verify
// dialog from the keyboard and in honest words, a changed key shown where it matters (not only
// in the members panel), a direct message worded for two people, an open room's choice made
// knowing the host can read it, and messages that could not be read in plain words.
import { fireEvent, render, screen, within } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { MemberView, RoomView } from '../../src-shared/ipc/domain.ts';
import EncryptionBadge from '../../src-renderer/components/EncryptionBadge.svelte';
import KeyChangedNotice from '../../src-renderer/components/KeyChangedNotice.svelte';
import MembersPanel from '../../src-renderer/components/MembersPanel.svelte';
import NewRoomDialog from '../../src-renderer/components/NewRoomDialog.svelte';
import Timeline from '../../src-renderer/components/Timeline.svelte';
import VerifyDialog from '../../src-renderer/components/VerifyDialog.svelte';
import { failureText } from '../../src-renderer/lib/e2ee.ts';
import ChatScreen from '../../src-renderer/screens/ChatScreen.svelte';
import { AppState } from '../../src-renderer/state/app.svelte.ts';
import { NOON, hostState, message, roomView, snapshot, stubMatchMedia } from './fixtures.ts';
import { fakePlatform } from './platform.ts';

afterEach(() => {
  document.body.innerHTML = '';
});

const SAFETY = '12345 67890 13579 24680 11111 22222 33333 44444 55555 66666 77777 88888';

function member(extra: Partial<MemberView> = {}): MemberView {
  return {
    nick: 'bob',
    fp: 'BOB FP',
    key: 'B'.repeat(43),
    online: true,
    verified: false,
    self: false,
    devices: 1,
    ...extra,
  };
}

describe('the Verify dialog from the keyboard', () => {
  it('has the focus while the number is worked out, and Escape closes it', async () => {
    const onclose = vi.fn();
    let resolve: (value: string) => void = () => {};
    render(VerifyDialog, {
      member: member(),
      load: () => new Promise<string>((r) => (resolve = r)),
      onmark: () => Promise.resolve(),
      onclose,
    });
    const dialog = screen.getByRole('dialog', { name: 'Verify bob' });
    // Focus in the dialog (not left on the page behind it, where Escape and Tab do nothing).
    expect(dialog.contains(document.activeElement)).toBe(true);
    resolve(SAFETY);
    await within(dialog).findByRole('group', { name: 'Safety number' });
    // Enter on what has the focus does not claim a comparison the user has not made.
    expect(document.activeElement?.textContent ?? '').not.toMatch(/Mark as verified/);
    await fireEvent.keyDown(document.activeElement as HTMLElement, { key: 'Escape' });
    expect(onclose).toHaveBeenCalled();
  });

  it('says what a match proves, without promising a room of many is read by two', async () => {
    render(VerifyDialog, {
      member: member(),
      load: () => Promise.resolve(SAFETY),
      onmark: () => Promise.resolve(),
      onclose: () => {},
    });
    const dialog = screen.getByRole('dialog', { name: 'Verify bob' });
    await within(dialog).findByRole('group', { name: 'Safety number' });
    expect(dialog.textContent).not.toMatch(/only your devices and theirs can read/);
    expect(dialog.textContent).toMatch(/devices shown as\s+bob’s are really\s+bob’s/);
    // Not verified yet: a way out that is not called "Not verified" (it verifies nothing).
    expect(within(dialog).getByRole('button', { name: 'Close' })).toBeTruthy();
    expect(within(dialog).queryByRole('button', { name: 'Not verified' })).toBeNull();
  });

  it('for a verified member offers to remove the mark, not to mark again', async () => {
    const onmark = vi.fn(() => Promise.resolve());
    render(VerifyDialog, {
      member: member({ verified: true }),
      load: () => Promise.resolve(SAFETY),
      onmark,
      onclose: () => {},
    });
    const dialog = screen.getByRole('dialog', { name: 'Verify bob' });
    await within(dialog).findByRole('group', { name: 'Safety number' });
    expect(within(dialog).queryByRole('button', { name: /Mark as verified/ })).toBeNull();
    await fireEvent.click(within(dialog).getByRole('button', { name: 'Remove verification' }));
    expect(onmark).toHaveBeenCalledWith(false);
  });
});

describe('a member marked verified, in the members panel', () => {
  it('says so when expanded, instead of asking to compare as if they were not', async () => {
    render(MembersPanel, {
      room: 'lobby',
      encrypted: true,
      members: [member({ verified: true })],
      onverify: () => {},
      onsafety: () => {},
      onclose: () => {},
    });
    await fireEvent.click(screen.getByRole('button', { name: /^bob/ }));
    const item = screen.getAllByRole('listitem')[0] as HTMLElement;
    expect(item.textContent).toMatch(/You compared safety numbers with\s+bob/);
    expect(item.textContent).not.toMatch(/If it matches, mark them verified/);
  });
});

describe('the members panel in another room', () => {
  it('does not keep a member open from the room before (an open room shows a fingerprint)', async () => {
    const props = {
      room: 'lobby',
      encrypted: true,
      members: [member()],
      onverify: () => {},
      onsafety: () => {},
      onclose: () => {},
    };
    const { rerender } = render(MembersPanel, props);
    await fireEvent.click(screen.getByRole('button', { name: /^bob/ }));
    expect(screen.getByRole('button', { name: /^bob/ }).getAttribute('aria-expanded')).toBe('true');
    await rerender({ ...props, room: 'square', encrypted: false });
    expect(screen.getByRole('button', { name: /^bob/ }).getAttribute('aria-expanded')).toBe(
      'false',
    );
  });
});

describe('a changed key, where the user is', () => {
  async function open(room: RoomView, members: MemberView[]) {
    stubMatchMedia(false);
    const fake = fakePlatform();
    fake.answer('getSnapshot', () => ({
      ok: true,
      value: snapshot([{ connection: hostState(), rooms: [room] }]),
    }));
    fake.answer('getMembers', () => ({ ok: true, value: members }));
    fake.answer('loadHistory', () => ({ ok: true, value: { messages: [], more: false } }));
    fake.answer('safetyNumber', () => ({ ok: true, value: SAFETY }));
    const app = new AppState(fake.api);
    app.start();
    await vi.waitFor(() => expect(app.ready).toBe(true));
    render(ChatScreen, { app, onsettings: () => {} });
    return fake;
  }

  it('shows above a direct message, with a way to verify them', async () => {
    const bob = member({ keyChanged: true });
    await open(
      roomView('dm.0123', {
        kind: 'dm',
        e2ee: 'encrypted',
        peer: { nick: 'bob', key: bob.key, fp: bob.fp },
      }),
      [member({ nick: 'alice', key: 'A'.repeat(43), self: true }), bob],
    );
    const notice = await screen.findByTestId('key-changed-notice');
    expect(notice.textContent).toMatch(/bob’s key changed/);
    // Not hidden behind the members panel: it is a note of the room itself.
    expect(notice.closest('aside')).toBeNull();
    await fireEvent.click(within(notice).getByRole('button', { name: 'Verify bob…' }));
    expect(await screen.findByRole('dialog', { name: 'Verify bob' })).toBeTruthy();
  });

  it('shows in a room with the members panel closed, and not for an unchanged key', async () => {
    await open(roomView('lobby', { e2ee: 'encrypted' }), [
      member({ nick: 'alice', key: 'A'.repeat(43), self: true }),
      member({ nick: 'carol', key: 'C'.repeat(43), keyChanged: true }),
      member(),
    ]);
    await screen.findByRole('textbox', { name: 'Message #lobby' });
    const close = screen.queryByRole('button', { name: 'Close members' });
    if (close) await fireEvent.click(close);
    const notice = await screen.findByTestId('key-changed-notice');
    expect(notice.textContent).toMatch(/carol’s key changed/);
    expect(notice.textContent).not.toMatch(/bob/);
  });
});

describe('a key that changes while the room is open', () => {
  it('is told to a screen reader as it appears', async () => {
    const { rerender, container } = render(KeyChangedNotice, { members: [], onverify: () => {} });
    const live = container.querySelector('[aria-live="polite"]');
    expect(live).not.toBeNull();
    await rerender({ members: [member({ keyChanged: true })], onverify: () => {} });
    const notice = screen.getByTestId('key-changed-notice');
    expect(live?.contains(notice)).toBe(true);
  });
});

describe('a room whose encryption is being set up', () => {
  it('says who adds this device, and when nobody online can', async () => {
    stubMatchMedia(false);
    const fake = fakePlatform();
    fake.answer('getSnapshot', () => ({
      ok: true,
      value: snapshot([
        { connection: hostState(), rooms: [roomView('lobby', { e2ee: 'joining' })] },
      ]),
    }));
    fake.answer('getMembers', () => ({
      ok: true,
      value: [
        member({ nick: 'carol', key: 'C'.repeat(43), self: true }),
        member({ online: false }),
      ],
    }));
    fake.answer('loadHistory', () => ({ ok: true, value: { messages: [], more: false } }));
    const app = new AppState(fake.api);
    app.start();
    await vi.waitFor(() => expect(app.ready).toBe(true));
    render(ChatScreen, { app, onsettings: () => {} });
    const hint = await screen.findByTestId('composer-waiting');
    await vi.waitFor(() => expect(hint.textContent).toMatch(/No other member is online/));
    expect(hint.textContent).toMatch(/a member of the room adds this device/);
  });
});

describe('a direct message', () => {
  it('starts by saying who can read it: the two of you, not "the room’s members"', () => {
    const { container } = render(Timeline, {
      room: 'dm.0123',
      name: 'bob',
      direct: true,
      entries: [],
      now: NOON,
      complete: true,
      encryption: 'encrypted',
    });
    const start = container.querySelector('[data-testid="timeline-e2ee"]')?.textContent ?? '';
    expect(start).toMatch(/only your devices and\s+bob’s/);
    expect(start).not.toMatch(/room’s members/);
  });
});

describe('the header of a direct message', () => {
  it('says who can read it: the two of you', () => {
    render(EncryptionBadge, { state: 'encrypted', peer: 'bob' });
    const badge = screen.getByTestId('e2ee-badge');
    expect(badge.getAttribute('aria-label')).toMatch(/only by your devices and bob’s/);
    expect(badge.getAttribute('aria-label')).not.toMatch(/room’s members/);
  });
});

describe('a new room', () => {
  it('says an open room is not end-to-end encrypted', () => {
    render(NewRoomDialog, { oncreate: () => Promise.resolve(), onclose: () => {} });
    const option = screen.getByRole('switch', { name: /Open to everyone/ }).closest('label');
    expect(option?.textContent).toMatch(/not end-to-end encrypted/);
  });
});

describe('a message signed with a changed key', () => {
  it('does not send the reader to a members panel that may be closed', () => {
    const { container } = render(Timeline, {
      room: 'lobby',
      now: NOON,
      entries: [
        message('bob', 'wire the money today', NOON, { e2ee: { status: 'ok', keyChanged: true } }),
      ],
    });
    const note = container.querySelector('.key-changed')?.textContent ?? '';
    expect(note).toMatch(/Sent with a changed key/);
    expect(note).not.toMatch(/in Members/);
  });
});

describe('a message that could not be read', () => {
  it('is explained without MLS words', () => {
    expect(failureText('not-in-group')).not.toMatch(/group/);
    expect(failureText('not-in-group')).toMatch(/before this device was added/);
  });
});
