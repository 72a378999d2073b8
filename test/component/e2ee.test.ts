// End-to-end encrypted rooms in the UI: what the header says in each state, the timeline's
// start and undecryptable or forged messages, the members' devices, verified badge and key
// warnings, the Verify dialog with its safety number, and the composer while encryption waits.
import { fireEvent, render, screen, within } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { MemberView, RoomEncryption } from '../../src-shared/ipc/domain.ts';
import Composer from '../../src-renderer/components/Composer.svelte';
import MembersPanel from '../../src-renderer/components/MembersPanel.svelte';
import Timeline from '../../src-renderer/components/Timeline.svelte';
import VerifyDialog from '../../src-renderer/components/VerifyDialog.svelte';
import { waitingText } from '../../src-renderer/lib/e2ee.ts';
import { RequestFailed } from '../../src-renderer/lib/platform.ts';
import RoomHeader from '../../src-renderer/screens/chat/RoomHeader.svelte';
import { NOON, message } from './fixtures.ts';

afterEach(() => {
  document.body.innerHTML = '';
});

const SAFETY = '12345 67890 13579 24680 11111 22222 33333 44444 55555 66666 77777 88888';

function header(encryption: RoomEncryption | undefined) {
  return render(RoomHeader, {
    active: 'lobby',
    title: 'lobby',
    isDm: false,
    isOpen: false,
    encryption,
    role: 'member',
    topic: '',
    canEditTopic: false,
    mute: 'all',
    online: 2,
    hostTitle: 'Home',
    narrow: false,
    drawerOpen: false,
    unread: false,
    membersShown: false,
    onopendrawer: () => {},
    onedittopic: () => {},
    onmute: () => {},
    oninvite: () => {},
    onaccess: () => {},
    onmembers: () => {},
    onleave: () => {},
  });
}

function member(extra: Partial<MemberView> = {}): MemberView {
  return {
    nick: 'bob',
    fp: 'BOB FP',
    key: 'B'.repeat(43),
    online: true,
    verified: false,
    self: false,
    ...extra,
  };
}

describe('the room header', () => {
  it('says plainly whether the host can read the room', () => {
    header('encrypted');
    const badge = screen.getByRole('img', { name: /^End-to-end encrypted/ });
    expect(badge.textContent).toContain('End-to-end encrypted');
    expect(badge.getAttribute('title')).toMatch(/encrypted on your devices/);
    expect(badge.getAttribute('title')).toMatch(/host relays what it cannot read/);
    document.body.innerHTML = '';

    header('not-encrypted');
    expect(
      screen.getByRole('img', {
        name: 'Not end-to-end encrypted — the host can read messages in this room.',
      }).textContent,
    ).toContain('Not end-to-end encrypted');
    document.body.innerHTML = '';

    header('joining');
    expect(screen.getByRole('img', { name: /^Setting up encryption/ }).textContent).toContain(
      'Setting up encryption…',
    );
    document.body.innerHTML = '';

    // Not known yet (a room list from before): no claim either way.
    header(undefined);
    expect(screen.queryByTestId('e2ee-badge')).toBeNull();
  });
});

describe('the timeline of an encrypted room', () => {
  it('starts by saying who can read it', () => {
    const { container } = render(Timeline, {
      room: 'lobby',
      entries: [],
      now: NOON,
      complete: true,
      encryption: 'encrypted',
    });
    const start = container.querySelector('[data-testid="timeline-e2ee"]')?.textContent ?? '';
    expect(start).toMatch(/end-to-end encrypted/);
    expect(start).not.toMatch(/host can read/);
    document.body.innerHTML = '';
    const plain = render(Timeline, { room: 'lobby', entries: [], now: NOON, complete: true });
    expect(plain.container.textContent).toMatch(/the host can read them/);
  });

  it('shows a message that could not be read as such, and a forgery as a warning', () => {
    const { container } = render(Timeline, {
      room: 'lobby',
      now: NOON,
      entries: [
        message('bob', 'hello', NOON - 3000),
        message('bob', '', NOON - 2000, { e2ee: { status: 'failed', reason: 'tampered' } }),
        message('carol', '', NOON - 1000, { e2ee: { status: 'failed', reason: 'forged' } }),
      ],
    });
    const rows = container.querySelectorAll('article.message');
    expect(rows).toHaveLength(3);
    expect(rows[1]?.textContent).toContain(
      'This message could not be decrypted (it was changed on the way)',
    );
    expect(rows[1]?.getAttribute('data-e2ee')).toBe('tampered');
    expect(rows[1]?.querySelector('.undecryptable.forged')).toBeNull();
    // The forgery names the sender the host claimed, and says it is not theirs.
    expect(rows[2]?.textContent).toContain('carol');
    expect(rows[2]?.textContent).toContain('Forged: not signed by its sender');
    expect(rows[2]?.querySelector('.undecryptable.forged')).not.toBeNull();
    // Screen readers hear the sender and the note, not an empty message.
    expect(within(rows[1] as HTMLElement).getByText(/could not be decrypted/)).toBeTruthy();
  });
});

describe('a message signed with a changed key', () => {
  it('is shown with a warning under it', () => {
    const { container } = render(Timeline, {
      room: 'lobby',
      now: NOON,
      entries: [
        message('bob', 'wire the money today', NOON - 1000, {
          e2ee: { status: 'ok', keyChanged: true },
        }),
        message('bob', 'as usual', NOON),
      ],
    });
    const rows = container.querySelectorAll('article.message');
    expect(rows[0]?.textContent).toContain('wire the money today');
    expect(rows[0]?.textContent).toMatch(/Sent with a changed key: someone may be posing as\s*bob/);
    expect(rows[1]?.textContent).not.toMatch(/changed key/);
  });
});

describe('members of an encrypted room', () => {
  it('shows devices, a verified badge and a changed key', async () => {
    const onsafety = vi.fn();
    render(MembersPanel, {
      room: 'lobby',
      encrypted: true,
      members: [
        member({ nick: 'alice', key: 'A'.repeat(43), self: true, devices: 1 }),
        member({ devices: 2, verified: true }),
        member({ nick: 'carol', key: 'C'.repeat(43), devices: 1, keyChanged: true }),
      ],
      onverify: () => {},
      onsafety,
      onclose: () => {},
    });
    const list = screen.getByRole('list', { name: 'Members of #lobby' });
    const items = within(list).getAllByRole('listitem');
    expect(items[0]?.textContent).toContain('1 device');
    expect(items[1]?.textContent).toContain('2 devices');
    expect(items[1]?.textContent).toContain('verified');
    expect(within(items[1] as HTMLElement).getByTitle('Verified')).toBeTruthy();
    expect(items[2]?.textContent).toContain('Key changed');
    expect(items[2]?.textContent).not.toContain('verified');

    await fireEvent.click(within(items[2] as HTMLElement).getByRole('button', { name: /carol/ }));
    expect(items[2]?.textContent).toMatch(/key changed since you first saw it/);
    await fireEvent.click(screen.getByRole('button', { name: 'Verify carol…' }));
    expect(onsafety).toHaveBeenCalledWith(expect.objectContaining({ nick: 'carol' }));
  });
});

describe('the Verify dialog', () => {
  it('shows the safety number in groups and marks the member verified', async () => {
    const onmark = vi.fn(() => Promise.resolve());
    const onclose = vi.fn();
    render(VerifyDialog, {
      member: member(),
      load: () => Promise.resolve(SAFETY),
      onmark,
      onclose,
    });
    const dialog = screen.getByRole('dialog', { name: 'Verify bob' });
    const number = await within(dialog).findByRole('group', { name: 'Safety number' });
    const groups = [...number.querySelectorAll('.group')].map((g) => g.textContent);
    expect(groups).toHaveLength(12);
    expect(groups.join(' ')).toBe(SAFETY);
    expect(number.querySelector('.group')?.classList.contains('mono')).toBe(true);
    expect(dialog.textContent).toMatch(/on a call you trust\s+—\s+not in\s+this chat/);
    await fireEvent.click(within(dialog).getByRole('button', { name: /Mark as verified/ }));
    expect(onmark).toHaveBeenCalledWith(true);
    await vi.waitFor(() => expect(onclose).toHaveBeenCalled());
  });

  it('warns of a changed key first, and accepting it is part of marking verified', async () => {
    const onmark = vi.fn(() => Promise.resolve());
    render(VerifyDialog, {
      member: member({ keyChanged: true }),
      load: () => Promise.resolve(SAFETY),
      onmark,
      onclose: () => {},
    });
    expect(screen.getByRole('alert').textContent).toMatch(/key has changed/);
    const accept = await screen.findByRole('button', { name: /Accept key and mark as verified/ });
    await vi.waitFor(() => expect((accept as HTMLButtonElement).disabled).toBe(false));
    await fireEvent.click(accept);
    expect(onmark).toHaveBeenCalledWith(true);
  });

  it('"Remove verification" takes a mark back; a number that cannot be had says why', async () => {
    const onmark = vi.fn(() => Promise.resolve());
    render(VerifyDialog, {
      member: member({ verified: true }),
      load: () => Promise.reject(new RequestFailed('not-found', 'their devices are not known yet')),
      onmark,
      onclose: () => {},
    });
    expect(await screen.findByText('their devices are not known yet')).toBeTruthy();
    await fireEvent.click(screen.getByRole('button', { name: 'Remove verification' }));
    expect(onmark).toHaveBeenCalledWith(false);
  });

  it('cannot mark a member whose number could not be had', async () => {
    render(VerifyDialog, {
      member: member(),
      load: () => Promise.reject(new RequestFailed('not-found', 'their devices are not known yet')),
      onmark: () => Promise.resolve(),
      onclose: () => {},
    });
    expect(await screen.findByText('their devices are not known yet')).toBeTruthy();
    expect(
      (screen.getByRole('button', { name: /Mark as verified/ }) as HTMLButtonElement).disabled,
    ).toBe(true);
  });
});

describe('the composer while encryption is set up', () => {
  it('says why messages wait', () => {
    render(Composer, {
      room: 'lobby',
      online: true,
      waiting: waitingText('joining'),
      onsend: () => Promise.resolve(null),
    });
    const hint = screen.getByTestId('composer-waiting');
    expect(hint.textContent).toMatch(/wait until this device is added/);
    expect(screen.getByRole('textbox').getAttribute('aria-describedby')).toContain('composer-hint');
  });
});
