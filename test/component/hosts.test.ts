// Several hosts at once: the host rail, switching hosts, adding one (and cancelling), what
// the title counts, and invites from the OS for a host already there or a new one.
import { fireEvent, render, screen, within } from '@testing-library/svelte';
import { tick } from 'svelte';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import App from '../../src-renderer/App.svelte';
import HostRail from '../../src-renderer/components/HostRail.svelte';
import { AppState } from '../../src-renderer/state/app.svelte.ts';
import { decodeBase64Url } from '../../src-shared/base64url.ts';
import { fingerprint } from '../../src-shared/fingerprint.ts';
import type { HostState, RoomView } from '../../src-shared/ipc/domain.ts';
import { hostState, roomView, snapshot, stubMatchMedia } from './fixtures.ts';
import { type FakePlatform, fakePlatform } from './platform.ts';

const ALPHA = '127.0.0.1:7001';
const BETA = '127.0.0.1:7002';

beforeAll(() => stubMatchMedia());
afterEach(() => {
  document.body.innerHTML = '';
  document.title = '';
});

type Host = { connection: HostState; rooms: RoomView[] };

function twoHosts(): Host[] {
  return [
    {
      connection: hostState({ hostId: ALPHA, hostName: 'Alpha Team' }),
      rooms: [roomView('lobby'), roomView('dev', { unread: 2 })],
    },
    {
      connection: hostState({ hostId: BETA, nick: 'al' }),
      rooms: [
        roomView('lobby', { unread: 3 }),
        // Muted: the list still counts it, the host's badge does not.
        roomView('noise', { unread: 40, mute: 'nothing' }),
      ],
    },
  ];
}

function platform(hosts: Host[] = twoHosts()): FakePlatform {
  const fake = fakePlatform();
  fake.answer('getSnapshot', () => ({ ok: true, value: snapshot(hosts) }));
  fake.answer('getMembers', () => ({ ok: true, value: [] }));
  fake.answer('loadHistory', () => ({ ok: true, value: { messages: [], more: false } }));
  return fake;
}

async function started(fake: FakePlatform): Promise<{ app: AppState; stop: () => void }> {
  const app = new AppState(fake.api);
  const stop = app.start();
  await vi.waitFor(() => expect(app.ready).toBe(true));
  return { app, stop };
}

const rail = (): HTMLElement => screen.getByRole('navigation', { name: 'Hosts' });

describe('HostRail', () => {
  it('lists every host with its name, address, status and badge, and marks the one on screen', async () => {
    const { app, stop } = await started(platform());
    render(HostRail, { app });
    const buttons = within(rail()).getAllByRole('button');
    expect(buttons.map((b) => b.getAttribute('aria-label'))).toEqual([
      'Alpha Team (127.0.0.1:7001), connected, 2 unread',
      '127.0.0.1:7002, connected, 3 unread',
      'Add a host',
    ]);
    expect(buttons[0]!.textContent).toContain('AT');
    expect(buttons[0]!.getAttribute('title')).toContain('Alpha Team (127.0.0.1:7001)');
    expect(buttons[0]!.getAttribute('aria-current')).toBe('page');
    expect(buttons[1]!.hasAttribute('aria-current')).toBe(false);
    // The muted room's 40 are not on the badge.
    expect(buttons[1]!.textContent).toContain('3');
    expect(buttons[1]!.textContent).not.toContain('43');
    stop();
  });

  it('switches hosts on click, and tells main which host and room are being looked at', async () => {
    const fake = platform();
    const { app, stop } = await started(fake);
    render(HostRail, { app });
    await app.rooms.select('lobby');
    await fireEvent.click(within(rail()).getByRole('button', { name: /^127\.0\.0\.1:7002/ }));
    expect(app.hosts.current).toBe(BETA);
    expect(within(rail()).getByRole('button', { name: /^127\.0\.0\.1:7002/ })).toHaveProperty(
      'ariaCurrent',
      'page',
    );
    // The facade now acts on the second host: its rooms, its requests.
    expect(app.rooms.list.map((r) => r.name)).toEqual(['lobby', 'noise']);
    await app.rooms.select('lobby');
    expect(fake.calls.filter((c) => c.name === 'setActiveRoom').at(-1)?.input).toEqual({
      hostId: BETA,
      room: 'lobby',
    });
    // Back on the first host, its room on screen is still its own.
    await fireEvent.click(within(rail()).getByRole('button', { name: /^Alpha Team/ }));
    expect(app.rooms.active).toBe('lobby');
    expect(fake.calls.filter((c) => c.name === 'setActiveRoom').at(-1)?.input).toEqual({
      hostId: ALPHA,
      room: 'lobby',
    });
    stop();
  });

  it('counts every host’s badge in the window title', async () => {
    const fake = platform();
    render(App, { api: fake.api });
    await vi.waitFor(() => expect(document.title).toBe('(5) Parley'));
    fake.emit('unread', { hostId: BETA, counts: { lobby: 1, noise: 41 }, total: 1, allHosts: 3 });
    await vi.waitFor(() => expect(document.title).toBe('(3) Parley'));
  });

  it('moves the badge when a host’s unread count changes', async () => {
    const fake = platform();
    const { app, stop } = await started(fake);
    render(HostRail, { app });
    fake.emit('unread', { hostId: BETA, counts: { lobby: 7, noise: 41 }, total: 7, allHosts: 9 });
    await tick();
    expect(
      within(rail())
        .getByRole('button', { name: /^127\.0\.0\.1:7002/ })
        .getAttribute('aria-label'),
    ).toBe('127.0.0.1:7002, connected, 7 unread');
    stop();
  });

  it('shows a host reconnecting or offline by its status', async () => {
    const fake = platform();
    const { app, stop } = await started(fake);
    render(HostRail, { app });
    fake.emit('connectionState', hostState({ hostId: BETA, status: 'reconnecting' }));
    await tick();
    expect(within(rail()).getByRole('button', { name: /7002, reconnecting/ })).toBeTruthy();
    fake.emit('connectionState', hostState({ hostId: BETA, status: 'offline' }));
    await tick();
    expect(within(rail()).getByRole('button', { name: /7002, offline/ })).toBeTruthy();
    stop();
  });
});

describe('The host on screen', () => {
  it('names it once: its name over its address, or its address alone', async () => {
    const fake = platform();
    render(App, { api: fake.api });
    const sidebar = await screen.findByRole('complementary', { name: 'Hosts and rooms' });
    expect(sidebar.querySelector('.host-name')?.textContent).toBe('Alpha Team');
    expect(sidebar.querySelector('.host-addr')?.textContent).toBe('127.0.0.1:7001');
    await fireEvent.click(within(rail()).getByRole('button', { name: /^127\.0\.0\.1:7002/ }));
    expect(sidebar.querySelector('.host-name')?.textContent).toBe('127.0.0.1:7002');
    expect(sidebar.querySelector('.host-addr')).toBeNull();
  });
});

describe('Per-host state', () => {
  it('keeps two hosts’ #lobby apart: messages, members, drafts and requests', async () => {
    const fake = platform();
    const { app, stop } = await started(fake);
    const said = (hostId: string, id: string, text: string) =>
      fake.emit('message', {
        hostId,
        room: 'lobby',
        id,
        seq: 1,
        from: 'bob',
        fp: 'BOB FP',
        key: 'B'.repeat(43),
        text,
        ts: 1,
        own: false,
        status: 'sent',
      });
    said(ALPHA, 'a1', 'on alpha');
    said(BETA, 'b1', 'on beta');
    fake.emit('members', {
      hostId: BETA,
      room: 'lobby',
      members: [
        {
          nick: 'bob',
          fp: 'BOB FP',
          key: 'B'.repeat(43),
          online: true,
          self: false,
          verified: false,
          role: 'member',
        },
      ],
    });
    const texts = () =>
      app.timelines
        .get('lobby')
        .entries.map((e) => (e.kind === 'message' ? e.message.text : e.kind));
    app.drafts.get('lobby').text = 'half-typed on alpha';
    expect(texts()).toEqual(['on alpha']);
    expect(app.members.of('lobby')).toEqual([]);

    app.hosts.select(BETA);
    expect(texts()).toEqual(['on beta']);
    expect(app.members.of('lobby').map((m) => m.nick)).toEqual(['bob']);
    expect(app.drafts.get('lobby').text).toBe('');
    await app.timelines.send('lobby', 'hello beta', app.self);
    expect(fake.calls.find((c) => c.name === 'send')?.input).toEqual({
      hostId: BETA,
      room: 'lobby',
      text: 'hello beta',
    });

    app.hosts.select(ALPHA);
    expect(app.drafts.get('lobby').text).toBe('half-typed on alpha');
    stop();
  });
});

describe('Hosts main brings back', () => {
  it('shows a host restored at start in the rail at once, even before it is reached', async () => {
    const fake = platform([]);
    const { app, stop } = await started(fake);
    render(HostRail, { app });
    fake.emit(
      'connectionState',
      hostState({ hostId: ALPHA, status: 'connecting', neverReached: true }),
    );
    await tick();
    expect(within(rail()).getByRole('button', { name: /7001, connecting$/ })).toBeTruthy();
    // Its key changed since the last run: it stays in the sidebar, offline, not dropped.
    fake.emit(
      'connectionState',
      hostState({ hostId: ALPHA, status: 'offline', neverReached: true }),
    );
    await tick();
    expect(within(rail()).getByRole('button', { name: /7001, offline$/ })).toBeTruthy();
    expect(fake.calls.some((c) => c.name === 'disconnect')).toBe(false);
    stop();
  });

  it('says which host a background error is about', async () => {
    const fake = platform();
    render(App, { api: fake.api });
    await screen.findByRole('navigation', { name: 'Hosts' });
    fake.emit('error', { code: 'internal', message: 'could not keep a message', hostId: BETA });
    expect((await screen.findByRole('alert')).textContent).toContain(
      '127.0.0.1:7002: could not keep a message',
    );
  });
});

describe('Adding a host', () => {
  it('opens the connect form as “Add a host”; Cancel and Escape go back to the chat', async () => {
    const fake = platform();
    render(App, { api: fake.api });
    const add = await screen.findByRole('button', { name: 'Add a host' });
    await fireEvent.click(add);
    expect(screen.getByRole('heading', { level: 1, name: 'Add a host' })).toBeTruthy();
    expect(screen.queryByRole('navigation', { name: 'Hosts' })).toBeNull();
    await fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(await screen.findByRole('navigation', { name: 'Hosts' })).toBeTruthy();

    await fireEvent.click(screen.getByRole('button', { name: 'Add a host' }));
    await fireEvent.keyDown(window, { key: 'Escape' });
    expect(await screen.findByRole('navigation', { name: 'Hosts' })).toBeTruthy();
  });

  it('puts focus in the form when “Add a host” opens, and in the message box when it is cancelled', async () => {
    const fake = platform();
    render(App, { api: fake.api });
    const add = await screen.findByRole('button', { name: 'Add a host' });
    add.focus();
    await fireEvent.click(add);
    const invite = screen.getByRole('textbox', { name: 'Invite link' });
    await vi.waitFor(() => expect(document.activeElement).toBe(invite));
    await fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    const box = await screen.findByRole('textbox', { name: /^Message / });
    await vi.waitFor(() => expect(document.activeElement).toBe(box));
  });

  it('starts with focus in the invite field when there is no host yet', async () => {
    render(App, { api: platform([]).api });
    const invite = await screen.findByRole('textbox', { name: 'Invite link' });
    await vi.waitFor(() => expect(document.activeElement).toBe(invite));
  });

  it('puts focus on Retry now when the host added cannot be reached (no room to type in)', async () => {
    const fake = platform([]);
    const gamma = hostState({ hostId: '127.0.0.1:1', status: 'connecting' });
    fake.answer('connect', () => ({ ok: true, value: gamma }));
    render(App, { api: fake.api });
    await fireEvent.click(await screen.findByRole('radio', { name: /Host address/ }));
    await fireEvent.input(screen.getByLabelText('Host'), { target: { value: '127.0.0.1' } });
    await fireEvent.input(screen.getByLabelText('Port'), { target: { value: '1' } });
    await fireEvent.input(screen.getByLabelText('Your nickname'), { target: { value: 'alice' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Connect' }));
    fake.emit('connectionState', {
      ...gamma,
      status: 'reconnecting',
      neverReached: true,
      failure: 'refused',
      retryAt: Date.now() + 20_000,
      attempt: 2,
    });
    const retry = await screen.findByRole('button', { name: 'Retry now' });
    await vi.waitFor(() => expect(document.activeElement).toBe(retry));
  });

  it('adds the host beside the others once it is reached, and shows it', async () => {
    const fake = platform();
    const gamma = hostState({ hostId: 'chat.example.org:7878', status: 'connecting' });
    fake.answer('connect', () => ({ ok: true, value: gamma }));
    render(App, { api: fake.api });
    await fireEvent.click(await screen.findByRole('button', { name: 'Add a host' }));
    await fireEvent.click(screen.getByRole('radio', { name: /Host address/ }));
    await fireEvent.input(screen.getByLabelText('Host'), { target: { value: 'chat.example.org' } });
    await fireEvent.input(screen.getByLabelText('Port'), { target: { value: '7878' } });
    await fireEvent.input(screen.getByLabelText('Your nickname'), { target: { value: 'alice' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Connect' }));
    // The first attempt is on the form, with a way to call it off.
    expect(await screen.findByText(/Connecting to chat\.example\.org:7878/)).toBeTruthy();
    fake.emit('connectionState', { ...gamma, status: 'connected' });
    fake.emit('rooms', { hostId: gamma.hostId, rooms: [roomView('general')] });
    const hosts = await screen.findByRole('navigation', { name: 'Hosts' });
    const names = within(hosts)
      .getAllByRole('button')
      .map((b) => b.getAttribute('aria-label'));
    expect(names).toEqual([
      expect.stringMatching(/^Alpha Team/),
      expect.stringMatching(/^127\.0\.0\.1:7002/),
      'chat.example.org:7878, connected',
      'Add a host',
    ]);
    expect(within(hosts).getByRole('button', { name: /^chat\.example/ })).toHaveProperty(
      'ariaCurrent',
      'page',
    );
  });

  it('keeps the form, with the reason, when the first attempt fails for good; the host is let go', async () => {
    const fake = platform([]);
    const gamma = hostState({ hostId: 'chat.example.org:7878', status: 'connecting' });
    fake.answer('connect', () => ({ ok: true, value: gamma }));
    render(App, { api: fake.api });
    await fireEvent.click(await screen.findByRole('radio', { name: /Host address/ }));
    await fireEvent.input(screen.getByLabelText('Host'), { target: { value: 'chat.example.org' } });
    await fireEvent.input(screen.getByLabelText('Your nickname'), { target: { value: 'alice' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Connect' }));
    fake.emit('connectionState', { ...gamma, status: 'offline', reason: 'nickname taken' });
    expect((await screen.findByRole('alert')).textContent).toContain(
      'Could not connect: nickname taken',
    );
    expect(fake.calls.filter((c) => c.name === 'disconnect').map((c) => c.input)).toEqual([
      { hostId: gamma.hostId },
    ]);
    expect(screen.queryByRole('navigation', { name: 'Hosts' })).toBeNull();
  });

  it('does not bring back a host that failed before main’s answer to Connect arrived', async () => {
    const fake = platform([]);
    const gamma = hostState({ hostId: 'chat.example.org:7878', status: 'connecting' });
    fake.answer('connect', () => {
      fake.emit('connectionState', gamma);
      fake.emit('connectionState', { ...gamma, status: 'offline', reason: 'connection refused' });
      return { ok: true, value: gamma };
    });
    const { app, stop } = await started(fake);
    await app.connection.connect({ host: 'chat.example.org', port: 7878, nick: 'alice' });
    expect(app.connection.hosts).toEqual([]);
    expect(app.connection.pending).toBeUndefined();
    expect(app.connection.error).toBe('Could not connect: connection refused');
    stop();
  });

  it('puts focus on the form’s first field when the last host is disconnected', async () => {
    const fake = platform([twoHosts()[0]!]);
    render(App, { api: fake.api });
    await screen.findByRole('navigation', { name: 'Hosts' });
    await fireEvent.click(screen.getByRole('button', { name: /Disconnect/ }));
    fake.emit('connectionState', { status: 'idle', hostId: ALPHA });
    const invite = await screen.findByRole('textbox', { name: 'Invite link' });
    await vi.waitFor(() => expect(document.activeElement).toBe(invite));
    expect(fake.calls.find((c) => c.name === 'disconnect')?.input).toEqual({ hostId: ALPHA });
  });
});

describe('An invite for a host already in the sidebar', () => {
  const key = 'A'.repeat(43);
  const railNames = (app: AppState): string[] => app.hosts.list.map((host) => host.hostId);

  it('keeps the host in its place while main connects it again with the invite', async () => {
    const fake = platform();
    const again = hostState({ hostId: ALPHA, status: 'connecting', neverReached: true });
    fake.answer('connect', () => {
      // Main ends the old session (idle), then starts the new one.
      fake.emit('connectionState', { status: 'idle', hostId: ALPHA });
      fake.emit('connectionState', again);
      return { ok: true, value: again };
    });
    const { app, stop } = await started(fake);
    app.hosts.select(BETA);
    app.hosts.startAdding();
    const invite = `parley://127.0.0.1:7001/dev?invite=${'B'.repeat(24)}#${key}`;
    expect(await app.connection.connect({ invite, nick: 'alice' })).toBe(true);
    expect(railNames(app)).toEqual([ALPHA, BETA]);
    expect(app.hosts.current).toBe(ALPHA);
    expect(app.hosts.adding).toBe(false);
    // Its rooms were not forgotten meanwhile.
    expect(app.rooms.sidebarOf(ALPHA).map((room) => room.name)).toEqual(['lobby', 'dev']);
    fake.emit('connectionState', { ...again, status: 'connected', neverReached: undefined });
    expect(railNames(app)).toEqual([ALPHA, BETA]);
    stop();
  });

  it('refuses an invite whose key is not the connected host’s, and leaves its session alone', async () => {
    const hosts = twoHosts();
    hosts[1]!.connection = {
      ...hosts[1]!.connection,
      hostFingerprint: fingerprint(decodeBase64Url(`${'B'.repeat(42)}A`)!),
    };
    const fake = platform(hosts);
    const { app, stop } = await started(fake);
    app.hosts.startAdding();
    const invite = `parley://127.0.0.1:7002/lobby#${key}`;
    expect(await app.connection.connect({ invite, nick: 'al' })).toBe(false);
    expect(fake.calls.some((c) => c.name === 'connect')).toBe(false);
    expect(app.connection.keyChange).toMatchObject({
      hostId: BETA,
      expectedFrom: 'invite',
      expectedFingerprint: fingerprint(decodeBase64Url(key)!),
    });
    expect(app.connection.error).toContain('does not match 127.0.0.1:7002');
    expect(railNames(app)).toEqual([ALPHA, BETA]);
    // Dismissed: the host is still there, connected.
    app.connection.dismissKeyChange();
    expect(app.hosts.list.find((host) => host.hostId === BETA)?.state.status).toBe('connected');
    stop();
  });
});

describe('A host with no room yet', () => {
  it('opens “Add a host” for an invite link, leaving the host connected', async () => {
    const hosts = twoHosts();
    hosts[0]!.rooms = [];
    const fake = platform(hosts);
    render(App, { api: fake.api });
    await fireEvent.click(await screen.findByRole('button', { name: 'Use an invite link' }));
    expect(screen.getByRole('heading', { level: 1, name: 'Add a host' })).toBeTruthy();
    expect(fake.calls.some((c) => c.name === 'disconnect')).toBe(false);
    await fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    const hostsNav = await screen.findByRole('navigation', { name: 'Hosts' });
    expect(within(hostsNav).getByRole('button', { name: /^Alpha Team/ })).toHaveProperty(
      'ariaCurrent',
      'page',
    );
  });

  it('does not ask for an invite while the host has not been reached', async () => {
    const fake = platform([
      {
        connection: hostState({
          hostId: ALPHA,
          status: 'reconnecting',
          neverReached: true,
          failure: 'refused',
        }),
        rooms: [],
      },
    ]);
    render(App, { api: fake.api });
    expect(
      await screen.findByText('The rooms on 127.0.0.1:7001 show here once Parley reaches it.'),
    ).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Use an invite link' })).toBeNull();
  });
});

describe('Invites from the OS', () => {
  const key = 'A'.repeat(43);

  it('redeems an invite for a host in the sidebar there, with that host’s nickname', async () => {
    const fake = platform();
    fake.answer('connect', () => ({
      ok: true,
      value: hostState({ hostId: BETA, status: 'connecting', nick: 'al' }),
    }));
    const { app, stop } = await started(fake);
    const invite = `parley://127.0.0.1:7002/lobby?invite=${'B'.repeat(24)}#${key}`;
    fake.emit('openInvite', { invite });
    await vi.waitFor(() =>
      expect(fake.calls.find((c) => c.name === 'connect')?.input).toEqual({ invite, nick: 'al' }),
    );
    expect(app.hosts.current).toBe(BETA);
    expect(app.hosts.adding).toBe(false);
    stop();
  });

  it('offers to add a host the invite is for when it is not in the sidebar', async () => {
    const fake = platform();
    render(App, { api: fake.api });
    await screen.findByRole('navigation', { name: 'Hosts' });
    const invite = `parley://chat.example.org:7878/lobby#${key}`;
    fake.emit('openInvite', { invite });
    expect(await screen.findByRole('heading', { level: 1, name: 'Add a host' })).toBeTruthy();
    expect(
      (screen.getByRole('textbox', { name: 'Invite link' }) as HTMLTextAreaElement).value,
    ).toBe(invite);
    expect(fake.calls.some((c) => c.name === 'connect')).toBe(false);
  });
});
