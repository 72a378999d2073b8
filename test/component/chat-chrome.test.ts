// The chat screen's chrome: the room switcher, the nickname dialog, the notification menu, the
// room list's long and muted rooms, and the screen's keyboard (Ctrl+K, Alt+arrows, Ctrl+/,
// slash commands) against the fake platform.
import { fireEvent, render, screen, within } from '@testing-library/svelte';
import { tick } from 'svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RoomView } from '../../src-shared/ipc/domain.ts';
import MuteMenu from '../../src-renderer/components/MuteMenu.svelte';
import NickDialog from '../../src-renderer/components/NickDialog.svelte';
import RoomList from '../../src-renderer/components/RoomList.svelte';
import RoomSwitcher, {
  type SwitcherItem,
  filterRooms,
} from '../../src-renderer/components/RoomSwitcher.svelte';
import { RequestFailed } from '../../src-renderer/lib/platform.ts';
import ChatScreen from '../../src-renderer/screens/ChatScreen.svelte';
import { AppState } from '../../src-renderer/state/app.svelte.ts';
import { HOST, hostState, roomView, snapshot } from './fixtures.ts';
import { fakePlatform } from './platform.ts';

afterEach(() => {
  document.body.innerHTML = '';
});

const OTHER = '[::1]:9000';
const items: SwitcherItem[] = [
  { hostId: HOST, hostTitle: 'Home', room: roomView('lobby') },
  { hostId: HOST, hostTitle: 'Home', room: roomView('random', { unread: 2 }) },
  {
    hostId: HOST,
    hostTitle: 'Home',
    room: roomView('dm.0123', { kind: 'dm', peer: { nick: 'bob', key: 'B'.repeat(43), fp: 'B' } }),
  },
  { hostId: OTHER, hostTitle: 'Work', room: roomView('lobby') },
  { hostId: OTHER, hostTitle: 'Work', room: roomView('releases', { joined: false }) },
];

describe('RoomSwitcher', () => {
  it('filters by room name, person or host, names starting with the query first', () => {
    expect(filterRooms(items, 'lob').map((i) => i.hostId)).toEqual([HOST, OTHER]);
    expect(filterRooms(items, '#ran').map((i) => i.room.name)).toEqual(['random']);
    expect(filterRooms(items, 'bo').map((i) => i.room.name)).toEqual(['dm.0123']);
    expect(filterRooms(items, 'work').map((i) => i.room.name)).toEqual(['lobby', 'releases']);
    expect(filterRooms(items, '  ')).toHaveLength(5);
  });

  it('is a combobox dialog: type to filter, arrows to choose, Enter opens', async () => {
    const onopen = vi.fn();
    const onclose = vi.fn();
    render(RoomSwitcher, { items, onopen, onclose });
    const dialog = screen.getByRole('dialog', { name: 'Go to a room' });
    const input = within(dialog).getByRole('combobox', { name: 'Room name' });
    expect(document.activeElement).toBe(input);
    expect(within(dialog).getAllByRole('option')).toHaveLength(5);
    // Two hosts: each room says which one it is on.
    expect(within(dialog).getAllByRole('option')[3]!.textContent).toContain('Work');
    await fireEvent.input(input, { target: { value: 'lobby' } });
    const options = within(dialog).getAllByRole('option');
    expect(options).toHaveLength(2);
    expect(input.getAttribute('aria-activedescendant')).toBe(options[0]!.id);
    await fireEvent.keyDown(input, { key: 'ArrowDown' });
    expect(input.getAttribute('aria-activedescendant')).toBe(options[1]!.id);
    expect(options[1]!.getAttribute('aria-selected')).toBe('true');
    await fireEvent.keyDown(input, { key: 'Enter' });
    expect(onopen).toHaveBeenCalledWith(items[3]);
    await fireEvent.keyDown(dialog, { key: 'Escape' });
    expect(onclose).toHaveBeenCalled();
  });

  it('says when nothing matches, and Enter then opens nothing', async () => {
    const onopen = vi.fn();
    render(RoomSwitcher, { items, onopen, onclose: () => {} });
    const input = screen.getByRole('combobox', { name: 'Room name' });
    await fireEvent.input(input, { target: { value: 'zzz' } });
    expect(screen.getByText(/No room matches/)).toBeTruthy();
    await fireEvent.keyDown(input, { key: 'Enter' });
    expect(onopen).not.toHaveBeenCalled();
  });
});

describe('NickDialog', () => {
  it('checks the nickname like the contract before asking the host', async () => {
    const onsave = vi.fn(async () => {});
    const onclose = vi.fn();
    render(NickDialog, { nick: 'alice', host: 'Home', onsave, onclose });
    const field = screen.getByRole('textbox', { name: 'Nickname' }) as HTMLInputElement;
    expect(field.value).toBe('alice');
    await fireEvent.input(field, { target: { value: 'two words' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Change nickname' }));
    expect(screen.getByRole('alert').textContent).toContain('1–32 letters');
    expect(field.getAttribute('aria-invalid')).toBe('true');
    expect(onsave).not.toHaveBeenCalled();
    await fireEvent.input(field, { target: { value: ' zoë ' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Change nickname' }));
    expect(onsave).toHaveBeenCalledWith('zoë');
    await vi.waitFor(() => expect(onclose).toHaveBeenCalled());
  });

  it('shows the host’s refusal and stays open', async () => {
    const onsave = vi.fn(async () => {
      throw new RequestFailed('nick-taken', 'That nickname is taken on this host.');
    });
    const onclose = vi.fn();
    render(NickDialog, { nick: 'alice', host: 'Home', onsave, onclose });
    await fireEvent.input(screen.getByRole('textbox', { name: 'Nickname' }), {
      target: { value: 'bob' },
    });
    await fireEvent.click(screen.getByRole('button', { name: 'Change nickname' }));
    await vi.waitFor(() => expect(screen.getByRole('alert').textContent).toContain('taken'));
    expect(onclose).not.toHaveBeenCalled();
  });
});

describe('MuteMenu', () => {
  it('offers all / mentions / nothing as radio items, the current one checked', async () => {
    const onchange = vi.fn();
    render(MuteMenu, { room: '#lobby', mute: 'all', onchange });
    await fireEvent.click(
      screen.getByRole('button', { name: 'Notifications for #lobby: All messages' }),
    );
    const menu = screen.getByRole('menu', { name: 'Notifications for #lobby' });
    const items = within(menu).getAllByRole('menuitemradio');
    expect(items.map((i) => i.getAttribute('aria-checked'))).toEqual(['true', 'false', 'false']);
    expect(document.activeElement).toBe(items[0]);
    await fireEvent.keyDown(menu, { key: 'ArrowDown' });
    expect(document.activeElement).toBe(items[1]);
    await fireEvent.click(items[1]!);
    expect(onchange).toHaveBeenCalledWith('mentions');
    expect(screen.queryByRole('menu')).toBeNull();
  });
});

describe('RoomList', () => {
  const LONG = 'a'.repeat(64);
  it('names each room in full (tooltip and accessible name), with its count and mute', async () => {
    const onmenu = vi.fn();
    render(RoomList, {
      joined: [
        roomView(LONG, { unread: 3 }),
        roomView('quiet', { unread: 2, mute: 'nothing' }),
        roomView('pings', { mute: 'mentions' }),
      ],
      others: [],
      active: LONG,
      onselect: () => {},
      onmenu,
    });
    const long = screen.getByRole('button', { name: `${LONG}, 3 unread` });
    expect(long.getAttribute('title')).toBe(`#${LONG}`);
    const quiet = screen.getByRole('button', { name: 'quiet, 2 unread, muted' });
    expect(quiet.classList.contains('muted')).toBe(true);
    expect(quiet.classList.contains('unread')).toBe(false);
    expect(
      screen.getByRole('button', { name: 'pings, notifications for mentions only' }),
    ).toBeTruthy();
    await fireEvent.contextMenu(quiet);
    expect(onmenu).toHaveBeenCalledWith('quiet', expect.anything(), quiet);
  });
});

describe('ChatScreen keyboard', () => {
  async function setup(hosts: { hostId: string; rooms: RoomView[] }[]) {
    const fake = fakePlatform();
    fake.answer('getSnapshot', () => ({
      ok: true,
      value: snapshot(
        hosts.map(({ hostId, rooms }) => ({ connection: hostState({ hostId }), rooms })),
      ),
    }));
    fake.answer('getMembers', () => ({ ok: true, value: [] }));
    fake.answer('loadHistory', () => ({ ok: true, value: { messages: [], more: false } }));
    const app = new AppState(fake.api);
    app.start();
    await vi.waitFor(() => expect(app.ready).toBe(true));
    render(ChatScreen, { app, onsettings: () => {} });
    await screen.findByRole('textbox', { name: /^Message #/ });
    return { fake, app };
  }
  const active = (fake: ReturnType<typeof fakePlatform>) =>
    fake.calls.filter((c) => c.name === 'setActiveRoom').at(-1)?.input;

  it('Alt+↓/↑ step through this host’s joined rooms, wrapping', async () => {
    const { fake } = await setup([
      {
        hostId: HOST,
        rooms: [roomView('lobby'), roomView('random'), roomView('open', { joined: false })],
      },
    ]);
    await screen.findByRole('textbox', { name: 'Message #lobby' });
    await fireEvent.keyDown(window, { key: 'ArrowDown', altKey: true });
    await screen.findByRole('textbox', { name: 'Message #random' });
    expect(active(fake)).toEqual({ hostId: HOST, room: 'random' });
    await fireEvent.keyDown(window, { key: 'ArrowDown', altKey: true });
    await screen.findByRole('textbox', { name: 'Message #lobby' });
    await fireEvent.keyDown(window, { key: 'ArrowUp', altKey: true });
    await screen.findByRole('textbox', { name: 'Message #random' });
    await vi.waitFor(() =>
      expect(document.activeElement).toBe(screen.getByRole('textbox', { name: 'Message #random' })),
    );
  });

  it('Alt+Shift+↓ goes to the next unread room on any host', async () => {
    const { fake } = await setup([
      {
        hostId: HOST,
        rooms: [roomView('lobby'), roomView('quiet', { unread: 4, mute: 'nothing' })],
      },
      { hostId: OTHER, rooms: [roomView('lobby'), roomView('news', { unread: 1 })] },
    ]);
    await fireEvent.keyDown(window, { key: 'ArrowDown', altKey: true, shiftKey: true });
    await vi.waitFor(() => expect(active(fake)).toEqual({ hostId: OTHER, room: 'news' }));
  });

  it('puts focus in the message box when another host comes on screen', async () => {
    const { app } = await setup([
      { hostId: HOST, rooms: [roomView('lobby')] },
      { hostId: OTHER, rooms: [roomView('news')] },
    ]);
    (document.activeElement as HTMLElement | null)?.blur();
    app.hosts.select(OTHER);
    const box = await screen.findByRole('textbox', { name: 'Message #news' });
    await vi.waitFor(() => expect(document.activeElement).toBe(box));
  });

  it('Ctrl+K opens the switcher, Ctrl+/ the shortcuts; nothing while composing', async () => {
    await setup([{ hostId: HOST, rooms: [roomView('lobby')] }]);
    await fireEvent.keyDown(window, { key: 'k', ctrlKey: true, isComposing: true });
    expect(screen.queryByRole('dialog')).toBeNull();
    await fireEvent.keyDown(window, { key: 'k', ctrlKey: true });
    const switcher = screen.getByRole('dialog', { name: 'Go to a room' });
    await fireEvent.keyDown(switcher, { key: 'Escape' });
    await tick();
    expect(screen.queryByRole('dialog')).toBeNull();
    await fireEvent.keyDown(window, { key: '/', ctrlKey: true });
    expect(screen.getByRole('dialog', { name: 'Keyboard shortcuts and commands' })).toBeTruthy();
  });

  it('carries out /nick and /join from the message box', async () => {
    const { fake } = await setup([
      { hostId: HOST, rooms: [roomView('lobby'), roomView('random', { joined: false })] },
    ]);
    const box = await screen.findByRole('textbox', { name: 'Message #lobby' });
    await fireEvent.input(box, { target: { value: '/nick zoë' } });
    await fireEvent.keyDown(box, { key: 'Enter' });
    await vi.waitFor(() =>
      expect(fake.calls.find((c) => c.name === 'setNick')?.input).toEqual({
        hostId: HOST,
        nick: 'zoë',
      }),
    );
    await fireEvent.input(box, { target: { value: '/join #random' } });
    await fireEvent.keyDown(box, { key: 'Enter' });
    await vi.waitFor(() =>
      expect(fake.calls.find((c) => c.name === 'joinRoom')?.input).toEqual({
        hostId: HOST,
        room: 'random',
      }),
    );
    await screen.findByRole('textbox', { name: 'Message #random' });
    expect(fake.calls.some((c) => c.name === 'send')).toBe(false);
  });
});
