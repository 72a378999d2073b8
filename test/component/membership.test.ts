// Private rooms in the UI: the invite dialog asks for what was chosen, people see only the
// actions their role allows, removing and leaving ask first (naming who and where), room
// events read as sentences, and a refused invite or a removal says what happened and what to do.
import { fireEvent, render, screen, within } from '@testing-library/svelte';
import { tick } from 'svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { MemberView, Role, RoomView } from '../../src-shared/ipc/domain.ts';
import InviteDialog from '../../src-renderer/components/InviteDialog.svelte';
import Timeline from '../../src-renderer/components/Timeline.svelte';
import type { Entry } from '../../src-renderer/lib/rows.ts';
import ChatScreen from '../../src-renderer/screens/ChatScreen.svelte';
import { AppState } from '../../src-renderer/state/app.svelte.ts';
import { HOST, NOON, hostState, snapshot } from './fixtures.ts';
import { type FakePlatform, fakePlatform } from './platform.ts';

const HOUR = 3600_000;
const key = (c: string): string => c.repeat(43);
const person = (nick: string) => ({ nick, key: key(nick[0]!.toUpperCase()), fp: `${nick} FP` });

afterEach(() => {
  document.body.innerHTML = '';
});

describe('InviteDialog', () => {
  const open = (role: Role = 'admin', invites: unknown[] | null = []) => {
    const oncreate = vi.fn(async () => ({
      link: 'parley://127.0.0.1:7878/lobby?invite=AAAAAAAAAAAAAAAAAAAAAAAA#KEY',
      expiresAt: NOON + 24 * HOUR,
      usesLeft: null,
    }));
    const onrevoke = vi.fn(async () => {});
    const oncopy = vi.fn(async () => {});
    const onclose = vi.fn();
    render(InviteDialog, {
      room: 'lobby',
      role,
      invites: invites as never,
      now: NOON,
      oncreate,
      onrevoke,
      oncopy,
      onclose,
    });
    return { oncreate, onrevoke, oncopy, onclose, dialog: screen.getByRole('dialog') };
  };

  it('asks the host for the chosen role, expiry and number of uses', async () => {
    const { oncreate } = open('admin');
    await fireEvent.click(screen.getByRole('radio', { name: 'Admin' }));
    await fireEvent.click(screen.getByRole('radio', { name: '1 day' }));
    await fireEvent.click(screen.getByRole('radio', { name: 'Unlimited' }));
    await fireEvent.click(screen.getByRole('button', { name: 'Create link' }));
    expect(oncreate).toHaveBeenCalledWith({ role: 'admin', uses: null, expiresInMs: 24 * HOUR });
  });

  it('defaults to one member for seven days, and offers never and 30 days', async () => {
    const { oncreate } = open('owner');
    expect(screen.getByRole('radio', { name: 'Never' })).toBeTruthy();
    expect(screen.getByRole('radio', { name: '30 days' })).toBeTruthy();
    await fireEvent.click(screen.getByRole('button', { name: 'Create link' }));
    expect(oncreate).toHaveBeenCalledWith({
      role: 'member',
      uses: 1,
      expiresInMs: 7 * 24 * HOUR,
    });
  });

  it('offers roles only up to the inviter’s own', () => {
    open('admin');
    const roles = within(screen.getByRole('group', { name: 'They join as' }));
    expect(roles.getAllByRole('radio').map((r) => r.getAttribute('value'))).toEqual([
      'admin',
      'member',
    ]);
    document.body.innerHTML = '';
    open('owner');
    expect(screen.getByRole('radio', { name: 'Owner' })).toBeTruthy();
  });

  it('shows the new link read-only with Copy and what limits it', async () => {
    const { oncopy } = open();
    await fireEvent.click(screen.getByRole('button', { name: 'Create link' }));
    const link = (await screen.findByRole('textbox', { name: 'Invite link' })) as HTMLInputElement;
    expect(link.readOnly).toBe(true);
    expect(link.value).toContain('?invite=');
    expect(screen.getByText(/^Expires in 24 hours · unlimited uses$/)).toBeTruthy();
    await fireEvent.click(screen.getByRole('button', { name: 'Copy' }));
    expect(oncopy).toHaveBeenCalledWith(link.value);
    expect(await screen.findByRole('button', { name: 'Copied' })).toBeTruthy();
  });

  it('says why the host refused, and keeps the choices', async () => {
    const { oncreate } = open();
    const { RequestFailed } = await import('../../src-renderer/lib/platform.ts');
    oncreate.mockRejectedValueOnce(new RequestFailed('forbidden', 'you are not an admin here'));
    await fireEvent.click(screen.getByRole('button', { name: 'Create link' }));
    expect((await screen.findByRole('alert')).textContent).toBe('you are not an admin here');
    expect(screen.getByRole('button', { name: 'Create link' })).toBeTruthy();
  });

  it('lists live invites, each with Revoke', async () => {
    const { onrevoke } = open('admin', [
      {
        id: 'inv1abcdefgh',
        room: 'lobby',
        role: 'member',
        usesLeft: 4,
        expiresAt: NOON + 2 * HOUR,
        createdBy: person('alice'),
        createdAt: NOON,
      },
      {
        id: 'inv2abcdefgh',
        room: 'lobby',
        role: 'admin',
        usesLeft: null,
        expiresAt: null,
        createdAt: NOON,
      },
    ]);
    const list = within(screen.getByRole('list'));
    expect(list.getByText('Expires in 2 hours · 4 uses left')).toBeTruthy();
    expect(list.getByText('Never expires · unlimited uses')).toBeTruthy();
    expect(list.getByText('by the host')).toBeTruthy();
    const revoke = list.getAllByRole('button', { name: /^Revoke/ });
    expect(revoke).toHaveLength(2);
    await fireEvent.click(revoke[1]!);
    expect(onrevoke).toHaveBeenCalledWith('inv2abcdefgh');
  });

  it('closes on Escape', async () => {
    const { onclose, dialog } = open();
    await fireEvent.keyDown(dialog, { key: 'Escape' });
    expect(onclose).toHaveBeenCalled();
  });
});

describe('room event rows', () => {
  const alice = person('alice');
  const bob = person('bob');
  const carol = person('carol');
  let seq = 0;
  const event = (action: string, extra: Record<string, unknown> = {}): Entry => {
    seq++;
    return {
      kind: 'event',
      id: `event:${seq}`,
      event: { room: 'lobby', seq, ts: NOON + seq, action, ...extra } as never,
    };
  };

  it('reads as sentences, apart from messages, with names isolated', () => {
    const { container } = render(Timeline, {
      room: 'lobby',
      now: NOON,
      entries: [
        event('created', { actor: alice }),
        event('joined', { actor: bob }),
        event('role', { actor: alice, target: carol, role: 'admin' }),
        event('topic', { actor: alice, topic: 'Release planning' }),
        event('topic', { actor: alice, topic: '' }),
        event('removed', { actor: alice, target: bob }),
        event('banned', { target: bob }),
        event('left', { actor: carol }),
      ],
    });
    const rows = Array.from(container.querySelectorAll('.event .event-text'));
    expect(rows.map((row) => row.textContent?.trim())).toEqual([
      'alice created the room',
      'bob joined',
      'alice made carol an admin',
      'alice set the topic to “Release planning”',
      'alice cleared the topic',
      'alice removed bob',
      'The host banned bob',
      'carol left the room',
    ]);
    expect(container.querySelectorAll('article.message')).toHaveLength(0);
    const removed = container.querySelector('.event[data-action="removed"]')!;
    expect(Array.from(removed.querySelectorAll('bdi')).map((b) => b.textContent)).toEqual([
      'alice',
      'bob',
    ]);
  });
});

describe('Unban on a ban’s row', () => {
  it('is offered only on the newest ban not lifted since, and only with onunban', () => {
    const dave = person('dave');
    const row = (seq: number, action: 'banned' | 'unbanned'): Entry => ({
      kind: 'event',
      id: `event:${seq}`,
      event: { room: 'lobby', seq, ts: NOON + seq, action, actor: person('alice'), target: dave },
    });
    const entries = [row(1, 'banned'), row(2, 'unbanned'), row(3, 'banned')];
    const onunban = vi.fn();
    const { container } = render(Timeline, { room: 'lobby', now: NOON, entries, onunban });
    const offered = container.querySelectorAll('.event button');
    expect(offered).toHaveLength(1);
    expect(offered[0]!.closest('.event')!.textContent).toContain('alice banned dave');
    expect(offered[0]!.closest('li')).toBe(container.querySelectorAll('.event')[2]!.closest('li'));
    void fireEvent.click(offered[0]!);
    expect(onunban).toHaveBeenCalledWith(dave);
    document.body.innerHTML = '';
    render(Timeline, { room: 'lobby', now: NOON, entries });
    expect(screen.queryByRole('button', { name: 'Unban dave' })).toBeNull();
  });
});

describe('a direct message’s timeline', () => {
  it('opens with who started it, without the joins that came with it', () => {
    const alice = person('alice');
    const bob = person('bob');
    const row = (seq: number, action: string, actor: typeof alice): Entry => ({
      kind: 'event',
      id: `event:${seq}`,
      event: { room: 'dm.x', seq, ts: NOON + seq, action, actor } as never,
    });
    const { container } = render(Timeline, {
      room: 'dm.x',
      name: 'bob',
      direct: true,
      now: NOON,
      complete: true,
      entries: [row(1, 'created', alice), row(2, 'joined', alice), row(3, 'joined', bob)],
    });
    expect(
      Array.from(container.querySelectorAll('.event-text')).map((r) => r.textContent?.trim()),
    ).toEqual(['alice started the conversation']);
    expect(screen.getByRole('region', { name: 'Messages with bob' })).toBeTruthy();
    expect(screen.getByText(/This is the start of your conversation with/)).toBeTruthy();
  });
});

describe('the chat screen of a private room', () => {
  const self: MemberView = { ...person('alice'), online: true, verified: false, self: true };
  const bob: MemberView = {
    ...person('bob'),
    role: 'member',
    online: true,
    verified: false,
    self: false,
  };
  const carol: MemberView = {
    ...person('carol'),
    role: 'owner',
    online: false,
    verified: false,
    self: false,
  };

  async function setup(
    role: Role,
    rooms: Partial<RoomView>[] = [],
    lobbyAs: Partial<RoomView> = {},
  ) {
    const fake: FakePlatform = fakePlatform();
    const lobby: RoomView = {
      name: 'lobby',
      joined: true,
      unread: 0,
      kind: 'room',
      role,
      open: false,
      mute: 'all',
      e2ee: 'not-encrypted',
      topic: 'Plans for the release',
      ...lobbyAs,
    };
    fake.answer('getSnapshot', () => ({
      ok: true,
      value: snapshot([
        {
          connection: hostState(),
          rooms: [
            lobby,
            ...rooms.map(
              (room) =>
                ({ mute: 'all' as const, e2ee: 'not-encrypted' as const, ...room }) as RoomView,
            ),
          ],
        },
      ]),
    }));
    fake.answer('getMembers', () => ({
      ok: true,
      value: [{ ...self, role }, bob, carol],
    }));
    fake.answer('loadHistory', () => ({ ok: true, value: { messages: [], more: false } }));
    const app = new AppState(fake.api);
    const stop = app.start();
    await vi.waitFor(() => expect(app.ready).toBe(true));
    render(ChatScreen, { app, onsettings: () => {} });
    // jsdom's window is narrow: the members panel starts closed.
    const toggle = await screen.findByRole('button', { name: 'Members' });
    if (toggle.getAttribute('aria-pressed') !== 'true') await fireEvent.click(toggle);
    await within(await screen.findByRole('list', { name: 'Members of #lobby' })).findByRole(
      'button',
      { name: /^bob/ },
    );
    return { fake, app, stop };
  }

  const menuOf = async (nick: string) => {
    await fireEvent.click(screen.getByRole('button', { name: `Actions for ${nick}` }));
    const menu = screen.getByRole('menu', { name: `Actions for ${nick}` });
    return within(menu)
      .getAllByRole('menuitem')
      .map((item) => item.textContent?.trim());
  };

  it('offers a member only Message: no invites, no topic editing, no removing', async () => {
    const { stop } = await setup('member');
    expect(screen.queryByRole('button', { name: 'Invite people' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Edit topic' })).toBeNull();
    expect(screen.getByText('Plans for the release')).toBeTruthy();
    expect(await menuOf('bob')).toEqual(['Message']);
    stop();
  });

  it('offers an admin role changes and removal only for people ranked below', async () => {
    const { stop } = await setup('admin');
    expect(screen.getByRole('button', { name: 'Invite people' })).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Edit topic' })).toBeTruthy();
    expect(
      within(screen.getByRole('list', { name: 'Members of #lobby' })).getByText('Owner'),
    ).toBeTruthy();
    expect(await menuOf('bob')).toEqual([
      'Message',
      'Make admin',
      'Remove from room…',
      'Ban from room…',
    ]);
    await fireEvent.keyDown(screen.getByRole('menu'), { key: 'Escape' });
    expect(screen.queryByRole('menu')).toBeNull();
    expect(await menuOf('carol')).toEqual(['Message']);
    expect(screen.queryByRole('button', { name: 'Actions for alice' })).toBeNull();
    stop();
  });

  it('opens the member menu from the keyboard, and gives focus back on Escape', async () => {
    const { stop } = await setup('admin');
    const trigger = screen.getByRole('button', { name: 'Actions for bob' });
    trigger.focus();
    await fireEvent.keyDown(trigger, { key: 'ArrowDown' });
    await vi.waitFor(() => expect(document.activeElement?.textContent?.trim()).toBe('Message'));
    expect(trigger.getAttribute('aria-expanded')).toBe('true');
    const menu = screen.getByRole('menu');
    await fireEvent.keyDown(menu, { key: 'ArrowUp' });
    expect(document.activeElement?.textContent?.trim()).toBe('Ban from room…');
    await fireEvent.keyDown(menu, { key: 'Escape' });
    expect(screen.queryByRole('menu')).toBeNull();
    expect(document.activeElement).toBe(trigger);
    stop();
  });

  it('removes someone only after a confirmation that names them and the room', async () => {
    const { fake, stop } = await setup('owner');
    await menuOf('bob');
    await fireEvent.click(screen.getByRole('menuitem', { name: 'Ban from room…' }));
    const dialog = screen.getByRole('alertdialog', { name: 'Ban bob from #lobby?' });
    expect(document.activeElement?.textContent?.trim()).toBe('Cancel');
    expect(fake.calls.some((c) => c.name === 'removeMember')).toBe(false);
    await fireEvent.click(within(dialog).getByRole('button', { name: 'Ban bob' }));
    await vi.waitFor(() => expect(screen.queryByRole('alertdialog')).toBeNull());
    expect(fake.calls.find((c) => c.name === 'removeMember')?.input).toEqual({
      hostId: HOST,
      room: 'lobby',
      key: bob.key,
      ban: true,
    });
    stop();
  });

  it('puts focus in the composer after a removal, not on the removed member’s gone ⋯', async () => {
    const { fake, stop } = await setup('owner');
    await menuOf('bob');
    await fireEvent.click(screen.getByRole('menuitem', { name: 'Remove from room…' }));
    const dialog = screen.getByRole('alertdialog', { name: 'Remove bob from #lobby?' });
    await fireEvent.click(within(dialog).getByRole('button', { name: 'Remove bob' }));
    await vi.waitFor(() => expect(screen.queryByRole('alertdialog')).toBeNull());
    fake.emit('members', {
      hostId: HOST,
      room: 'lobby',
      members: [{ ...self, role: 'owner' }, carol],
    });
    await vi.waitFor(() =>
      expect(screen.queryByRole('button', { name: 'Actions for bob' })).toBeNull(),
    );
    await vi.waitFor(() =>
      expect(document.activeElement).toBe(screen.getByRole('textbox', { name: /^Message / })),
    );
    stop();
  });

  it('keeps the confirmation open with the host’s reason when it refuses', async () => {
    const { fake, stop } = await setup('owner');
    fake.answer('removeMember', () => ({
      ok: false,
      error: { code: 'forbidden', message: 'you cannot remove an owner' },
    }));
    await menuOf('bob');
    await fireEvent.click(screen.getByRole('menuitem', { name: 'Remove from room…' }));
    const dialog = screen.getByRole('alertdialog', { name: 'Remove bob from #lobby?' });
    await fireEvent.click(within(dialog).getByRole('button', { name: 'Remove bob' }));
    expect((await within(dialog).findByRole('alert')).textContent).toBe(
      'you cannot remove an owner',
    );
    stop();
  });

  it('asks before leaving the room, and Cancel leaves nothing', async () => {
    const { fake, stop } = await setup('member');
    await fireEvent.click(screen.getByRole('button', { name: 'Leave room' }));
    const dialog = screen.getByRole('alertdialog', { name: 'Leave #lobby?' });
    expect(dialog.textContent).toContain('new invite link');
    await fireEvent.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(fake.calls.some((c) => c.name === 'partRoom')).toBe(false);
    await fireEvent.click(screen.getByRole('button', { name: 'Leave room' }));
    const again = screen.getByRole('alertdialog', { name: 'Leave #lobby?' });
    await fireEvent.click(within(again).getByRole('button', { name: 'Leave room' }));
    expect(fake.calls.find((c) => c.name === 'partRoom')?.input).toEqual({
      hostId: HOST,
      room: 'lobby',
    });
    stop();
  });

  it('changes a role at once, and opens a direct message from Message', async () => {
    const { fake, stop } = await setup('owner');
    fake.answer('openDm', () => ({ ok: true, value: { room: 'dm.0123' } }));
    await menuOf('bob');
    await fireEvent.click(screen.getByRole('menuitem', { name: 'Make admin' }));
    expect(fake.calls.find((c) => c.name === 'setRole')?.input).toEqual({
      hostId: HOST,
      room: 'lobby',
      key: bob.key,
      role: 'admin',
    });
    await menuOf('bob');
    await fireEvent.click(screen.getByRole('menuitem', { name: 'Message' }));
    expect(fake.calls.find((c) => c.name === 'openDm')?.input).toEqual({
      hostId: HOST,
      key: bob.key,
    });
    stop();
  });

  it('lists direct messages by the other person’s nickname, and New room for admins', async () => {
    const { stop } = await setup('admin', [
      {
        name: 'dm.0123456789abcdef0123456789abcdef',
        joined: true,
        unread: 2,
        kind: 'dm',
        role: 'member',
        open: false,
        peer: person('bob'),
      },
    ]);
    const dms = screen.getByRole('list', { name: 'Direct messages' });
    expect(within(dms).getByRole('button', { name: 'bob, 2 unread' })).toBeTruthy();
    await fireEvent.click(screen.getByRole('button', { name: 'New room' }));
    expect(screen.getByRole('dialog', { name: 'New room' })).toBeTruthy();
    stop();
  });

  const roomsWithLobby = (role: Role, open: boolean): RoomView[] => [
    {
      name: 'lobby',
      joined: true,
      unread: 0,
      kind: 'room',
      role,
      open,
      topic: '',
      mute: 'all',
      e2ee: 'not-encrypted',
    },
  ];

  it('offers only an owner to open the room, after saying what it means', async () => {
    const { stop } = await setup('admin');
    expect(screen.queryByRole('button', { name: 'Open to everyone on this host' })).toBeNull();
    expect(screen.queryByRole('img', { name: 'Open to everyone on this host' })).toBeNull();
    stop();
    document.body.innerHTML = '';

    const owner = await setup('owner');
    const open = screen.getByRole('button', { name: 'Open to everyone on this host' });
    await fireEvent.click(open);
    const dialog = screen.getByRole('alertdialog', {
      name: 'Open #lobby to everyone on this host?',
    });
    expect(dialog.textContent).toContain(
      'Anyone who connects to this host will be able to join #lobby and read its history',
    );
    expect(document.activeElement?.textContent?.trim()).toBe('Cancel');
    await fireEvent.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(owner.fake.calls.some((c) => c.name === 'setOpen')).toBe(false);

    open.focus();
    await fireEvent.click(open);
    await fireEvent.click(screen.getByRole('button', { name: 'Open room' }));
    await vi.waitFor(() => expect(screen.queryByRole('alertdialog')).toBeNull());
    expect(owner.fake.calls.find((c) => c.name === 'setOpen')?.input).toEqual({
      hostId: HOST,
      room: 'lobby',
      open: true,
    });
    // The host's `rooms` brings the new state: the header says so, the control turns around.
    owner.fake.emit('rooms', { hostId: HOST, rooms: roomsWithLobby('owner', true) });
    await tick();
    expect(screen.getByRole('img', { name: 'Open to everyone on this host' })).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Make invite-only' })).toBeTruthy();
    // As after any dialog over the chat, typing goes on in the message box (as in e2e).
    const box = screen.getByRole('textbox', { name: 'Message #lobby' });
    await vi.waitFor(() => expect(document.activeElement).toBe(box));
    owner.stop();
  });

  it('makes an open room invite-only again, saying that people already in stay', async () => {
    const { fake, stop } = await setup('owner', [], { open: true });
    await fireEvent.click(screen.getByRole('button', { name: 'Make invite-only' }));
    const dialog = screen.getByRole('alertdialog', { name: 'Make #lobby invite-only?' });
    expect(dialog.textContent).toContain(
      'Only members and people you invite will be able to join #lobby; people already in stay.',
    );
    await fireEvent.click(within(dialog).getByRole('button', { name: 'Make invite-only' }));
    await vi.waitFor(() => expect(screen.queryByRole('alertdialog')).toBeNull());
    expect(fake.calls.find((c) => c.name === 'setOpen')?.input).toEqual({
      hostId: HOST,
      room: 'lobby',
      open: false,
    });
    stop();
  });

  it('shows everyone that a room is open, but offers members no way to change it', async () => {
    const { stop } = await setup('member', [], { open: true });
    expect(screen.getByRole('img', { name: 'Open to everyone on this host' })).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Make invite-only' })).toBeNull();
    stop();
  });

  const dave = person('dave');
  const banned = (seq: number, action: 'banned' | 'unbanned') => ({
    hostId: HOST,
    room: 'lobby',
    seq,
    ts: NOON + seq,
    action,
    actor: person('carol'),
    target: dave,
  });

  it('offers no Unban to a member', async () => {
    const { fake, stop } = await setup('member');
    fake.emit('roomEvent', banned(1, 'banned'));
    await screen.findByText('banned', { exact: false });
    expect(screen.queryByRole('button', { name: 'Unban dave' })).toBeNull();
    stop();
  });

  it('lets an admin lift a ban from its row, only after a confirmation', async () => {
    const { fake, stop } = await setup('admin');
    fake.emit('roomEvent', banned(1, 'banned'));
    const unban = await screen.findByRole('button', { name: 'Unban dave' });
    await fireEvent.click(unban);
    const dialog = screen.getByRole('alertdialog', { name: 'Lift the ban on dave?' });
    expect(dialog.textContent).toContain('with a new invite link');
    await fireEvent.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(fake.calls.some((c) => c.name === 'unban')).toBe(false);

    await fireEvent.click(screen.getByRole('button', { name: 'Unban dave' }));
    const again = screen.getByRole('alertdialog', { name: 'Lift the ban on dave?' });
    await fireEvent.click(within(again).getByRole('button', { name: 'Unban dave' }));
    await vi.waitFor(() => expect(screen.queryByRole('alertdialog')).toBeNull());
    expect(fake.calls.find((c) => c.name === 'unban')?.input).toEqual({
      hostId: HOST,
      room: 'lobby',
      key: dave.key,
    });
    // The host's 'unbanned' row follows: the lifted ban offers nothing more.
    fake.emit('roomEvent', banned(2, 'unbanned'));
    await screen.findByText('lifted the ban on', { exact: false });
    expect(screen.queryByRole('button', { name: 'Unban dave' })).toBeNull();
    stop();
  });

  it('says an invite was used up, and what to do', async () => {
    const { fake, stop } = await setup('member');
    fake.emit('inviteRefused', {
      hostId: HOST,
      code: 'invite-used-up',
      message: 'this invite has been used up',
      room: 'release',
    });
    await tick();
    const notice = screen.getByRole('alert', { name: 'This invite link has been used up' });
    expect(notice.textContent).toContain('Ask the person who invited you for a new link.');
    await fireEvent.click(within(notice).getByRole('button', { name: 'Dismiss' }));
    expect(screen.queryByRole('alert', { name: /invite link/ })).toBeNull();
    stop();
  });

  it('says who removed us from which room', async () => {
    const { fake, stop } = await setup('member');
    fake.emit('roomRemoved', {
      hostId: HOST,
      room: 'lobby',
      reason: 'removed',
      by: person('carol'),
    });
    fake.emit('rooms', { hostId: HOST, rooms: [] });
    await tick();
    expect(
      screen.getByRole('alert', { name: 'You were removed from #lobby by carol.' }),
    ).toBeTruthy();
    stop();
  });
});
