import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_SETTINGS } from '../../../src-shared/ipc/domain.ts';
import { safeExternalUrl } from '../../../src-main/service/external-url.ts';
import { findInviteArg } from '../../../src-main/service/invite-args.ts';
import {
  MAX_RECENT_HOSTS,
  RECENT_HOSTS_FILE,
  RecentHosts,
} from '../../../src-main/service/recent-hosts.ts';
import { ROOM_MUTES_FILE, RoomMutes } from '../../../src-main/service/room-mutes.ts';
import { SETTINGS_FILE, SettingsStore } from '../../../src-main/service/settings-store.ts';
import { ShellStateStore } from '../../../src-main/service/shell-state.ts';
import { UnreadCounts } from '../../../src-main/service/unread-counts.ts';
import { VERIFIED_FILE, VerifiedMembers } from '../../../src-main/service/verified-members.ts';
import { DEFAULT_SIZE, restoreBounds } from '../../../src-main/service/window-bounds.ts';
import { closeAction } from '../../../src-main/service/window-close.ts';
import { MAX_OFFLINE_MEMBERS, RoomMembers } from '../../../src-main/service/room-members.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'parley-stores-'));
  dirs.push(dir);
  return dir;
}

const KEY_A = 'A'.repeat(43);
const KEY_B = 'B'.repeat(43);

describe('SettingsStore', () => {
  it('starts from the defaults and keeps changes across a reopen, in a 0600 file', async () => {
    const dir = tempDir();
    const store = await SettingsStore.open(dir);
    expect(store.current).toEqual(DEFAULT_SETTINGS);
    expect(await store.update({ muted: true, theme: 'dark' })).toEqual({
      ...DEFAULT_SETTINGS,
      muted: true,
      theme: 'dark',
    });
    expect((await SettingsStore.open(dir)).current).toMatchObject({ muted: true, theme: 'dark' });
    expect(statSync(join(dir, SETTINGS_FILE)).mode & 0o777).toBe(0o600);
  });

  it('reads field by field: a bad value falls back alone, unknown fields are dropped', async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, SETTINGS_FILE),
      JSON.stringify({ muted: true, theme: 'neon', closeToTray: 'yes', future: 1 }),
    );
    expect((await SettingsStore.open(dir)).current).toEqual({ ...DEFAULT_SETTINGS, muted: true });
  });

  it('survives a damaged file with the defaults', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, SETTINGS_FILE), '{ not json');
    expect((await SettingsStore.open(dir)).current).toEqual(DEFAULT_SETTINGS);
  });

  it('ignores undefined in a partial update', async () => {
    const store = await SettingsStore.open(tempDir());
    await store.update({ muted: true });
    expect(await store.update({ muted: undefined, theme: 'light' })).toMatchObject({
      muted: true,
      theme: 'light',
    });
  });
});

describe('VerifiedMembers', () => {
  it('marks and unmarks keys, persistently', async () => {
    const dir = tempDir();
    const verified = await VerifiedMembers.open(dir);
    expect(await verified.set(KEY_A, true)).toBe(true);
    expect(await verified.set(KEY_A, true)).toBe(false);
    await verified.set(KEY_B, true);
    await verified.set(KEY_B, false);
    const reopened = await VerifiedMembers.open(dir);
    expect([reopened.has(KEY_A), reopened.has(KEY_B)]).toEqual([true, false]);
  });

  it('holds a mark for the person key it was made with: a changed key drops it', async () => {
    const dir = tempDir();
    const verified = await VerifiedMembers.open(dir);
    const personOld = 'P'.repeat(43);
    const personNew = 'Q'.repeat(43);
    await verified.set(KEY_A, true, personOld);
    const reopened = await VerifiedMembers.open(dir);
    expect(reopened.has(KEY_A, personOld)).toBe(true);
    expect(reopened.has(KEY_A, personNew)).toBe(false);
    expect(reopened.has(KEY_A)).toBe(false);
  });

  it('keeps the marks of a file written before person keys', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, VERIFIED_FILE), JSON.stringify({ version: 1, keys: [KEY_A] }));
    expect((await VerifiedMembers.open(dir)).has(KEY_A)).toBe(true);
  });

  it('loses nothing but the marks when the file is damaged (shown as not verified)', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, VERIFIED_FILE), JSON.stringify({ version: 1, keys: ['short'] }));
    expect((await VerifiedMembers.open(dir)).has('short')).toBe(false);
  });
});

describe('RecentHosts', () => {
  const entry = (host: string, lastUsed: number) => ({
    host,
    port: 7878,
    nick: 'alice',
    room: 'lobby',
    fingerprint: 'AAAA BBBB',
    lastUsed,
  });

  it('keeps one entry per address, newest first, at most MAX_RECENT_HOSTS', async () => {
    const dir = tempDir();
    const hosts = await RecentHosts.open(dir);
    for (let i = 0; i < MAX_RECENT_HOSTS + 3; i++) await hosts.record(entry(`h${i}.example`, i));
    await hosts.record({ ...entry('h5.example', 100), nick: 'bob' });
    const list = (await RecentHosts.open(dir)).list();
    expect(list).toHaveLength(MAX_RECENT_HOSTS);
    expect(list[0]).toMatchObject({ host: 'h5.example', nick: 'bob' });
    expect(list.filter((h) => h.host === 'h5.example')).toHaveLength(1);
  });

  it('updates nick and room without reordering', async () => {
    const hosts = await RecentHosts.open(tempDir());
    await hosts.record(entry('a.example', 1));
    await hosts.record(entry('b.example', 2));
    await hosts.update({ host: 'A.example', port: 7878 }, { room: 'dev' });
    expect(hosts.list().map((h) => [h.host, h.room])).toEqual([
      ['b.example', 'lobby'],
      ['a.example', 'dev'],
    ]);
  });

  it('remembers which hosts were in the sidebar, in the order they were added', async () => {
    const dir = tempDir();
    const hosts = await RecentHosts.open(dir);
    await hosts.record(entry('a.example', 1), 20);
    await hosts.record(entry('b.example', 2), 10);
    await hosts.record(entry('c.example', 3));
    // Used again later: still in the sidebar since it was added.
    await hosts.record(entry('a.example', 4));
    expect((await RecentHosts.open(dir)).openHosts().map((h) => h.host)).toEqual([
      'b.example',
      'a.example',
    ]);
    await hosts.setOpen({ host: 'B.example', port: 7878 }, undefined);
    await hosts.setOpen({ host: 'c.example', port: 7878 }, 30);
    const again = await RecentHosts.open(dir);
    expect(again.openHosts().map((h) => h.host)).toEqual(['a.example', 'c.example']);
    // The snapshot's recent hosts stay as the contract has them.
    expect(Object.keys(again.list()[0] ?? {}).sort()).toEqual(
      ['fingerprint', 'host', 'lastUsed', 'nick', 'port', 'room'].sort(),
    );
  });

  it('reads a file written before hosts were restored (no open flags): none come back', async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, RECENT_HOSTS_FILE),
      JSON.stringify({ version: 1, hosts: [entry('a.example', 1)] }),
    );
    const hosts = await RecentHosts.open(dir);
    expect(hosts.list().map((h) => h.host)).toEqual(['a.example']);
    expect(hosts.openHosts()).toEqual([]);
  });
});

describe('RoomMutes', () => {
  it("keeps each host's rooms apart, across a reopen, writing only what is not 'all'", async () => {
    const dir = tempDir();
    const mutes = await RoomMutes.open(dir);
    expect(mutes.get('a.example:7878', 'lobby')).toBe('all');
    expect(mutes.set('a.example:7878', 'lobby', 'nothing').changed).toBe(true);
    await mutes.set('b.example:7878', 'lobby', 'mentions').written;
    expect(mutes.set('b.example:7878', 'lobby', 'mentions').changed).toBe(false);
    await mutes.set('a.example:7878', 'dev', 'mentions').written;
    await mutes.set('a.example:7878', 'dev', 'all').written;
    const again = await RoomMutes.open(dir);
    expect(again.get('a.example:7878', 'lobby')).toBe('nothing');
    expect(again.get('b.example:7878', 'lobby')).toBe('mentions');
    expect(again.get('a.example:7878', 'dev')).toBe('all');
    expect(JSON.parse(readFileSync(join(dir, ROOM_MUTES_FILE), 'utf8'))).toEqual({
      version: 1,
      hosts: { 'a.example:7878': { lobby: 'nothing' }, 'b.example:7878': { lobby: 'mentions' } },
    });
  });

  it('starts with every room at all when the file is damaged', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, ROOM_MUTES_FILE), '{"version":1,"hosts":{"a":{"lobby":"loud"}}}');
    expect((await RoomMutes.open(dir)).get('a', 'lobby')).toBe('all');
  });
});

describe('ShellStateStore', () => {
  it('remembers rounded bounds, maximized and the close-to-tray hint', async () => {
    const dir = tempDir();
    const store = await ShellStateStore.open(dir);
    expect(store.current).toEqual({ maximized: false, closeToTrayExplained: false });
    await store.update({ bounds: { x: 10.4, y: 20.6, width: 800, height: 600 }, maximized: true });
    await store.update({ closeToTrayExplained: true });
    expect((await ShellStateStore.open(dir)).current).toEqual({
      bounds: { x: 10, y: 21, width: 800, height: 600 },
      maximized: true,
      closeToTrayExplained: true,
    });
    expect(JSON.parse(readFileSync(join(dir, 'shell-state.json'), 'utf8'))).toHaveProperty(
      'version',
      1,
    );
  });
});

describe('restoreBounds', () => {
  const screen = { x: 0, y: 0, width: 1920, height: 1040 };
  const right = { x: 1920, y: 0, width: 1280, height: 1000 };

  it('reopens where the window was, if that is still on a screen', () => {
    expect(restoreBounds({ x: 2000, y: 100, width: 800, height: 600 }, [screen, right])).toEqual({
      x: 2000,
      y: 100,
      width: 800,
      height: 600,
    });
  });

  it('falls back to the default size (centred) when the screen is gone', () => {
    expect(restoreBounds({ x: 2000, y: 100, width: 800, height: 600 }, [screen])).toEqual(
      DEFAULT_SIZE,
    );
  });

  it('does not trust a title bar above the screen, or absurd sizes', () => {
    expect(restoreBounds({ x: 100, y: -500, width: 800, height: 600 }, [screen])).toEqual(
      DEFAULT_SIZE,
    );
    expect(restoreBounds({ x: 100, y: 100, width: 10, height: 10 }, [screen])).toEqual(
      DEFAULT_SIZE,
    );
    expect(restoreBounds({ x: NaN, y: 100, width: 800, height: 600 }, [screen])).toEqual(
      DEFAULT_SIZE,
    );
  });

  it('shrinks to the screen it is on, and to a small primary screen by default', () => {
    expect(restoreBounds({ x: 0, y: 0, width: 4000, height: 3000 }, [screen])).toMatchObject({
      width: 1920,
      height: 1040,
    });
    expect(restoreBounds(undefined, [{ x: 0, y: 0, width: 800, height: 500 }])).toEqual({
      width: 800,
      height: 500,
    });
  });
});

describe('closeAction', () => {
  const base = {
    quitting: false,
    closeToTray: true,
    trayAvailable: true,
    explained: false,
    platform: 'linux',
  };
  it('hides to the tray when set and possible, explaining it once', () => {
    expect(closeAction(base)).toBe('hide-and-explain');
    expect(closeAction({ ...base, explained: true })).toBe('hide');
  });
  it('closes when quitting, when the setting is off, or when there is no tray', () => {
    expect(closeAction({ ...base, quitting: true })).toBe('close');
    expect(closeAction({ ...base, closeToTray: false })).toBe('close');
    expect(closeAction({ ...base, trayAvailable: false })).toBe('close');
  });
  it('hides on macOS, where the Dock brings the window back, unless quitting', () => {
    const mac = { ...base, platform: 'darwin', closeToTray: false, trayAvailable: false };
    expect(closeAction(mac)).toBe('hide');
    expect(closeAction({ ...mac, quitting: true })).toBe('close');
  });
});

describe('safeExternalUrl', () => {
  it.each([
    ['https://example.org/path?q=1#x', 'https://example.org/path?q=1#x'],
    ['http://example.org', 'http://example.org/'],
    ['HTTPS://EXAMPLE.org', 'https://example.org/'],
  ])('accepts %s', (input, output) => expect(safeExternalUrl(input)).toBe(output));

  it.each([
    'file:///etc/passwd',
    'javascript:alert(1)',
    'data:text/html,<script>',
    'parley://host:1/room#key',
    'mailto:a@example.org',
    'https://user:pw@example.org/',
    'https://user@example.org/',
    '//example.org',
    'example.org',
    '',
    `https://example.org/${'a'.repeat(5000)}`,
  ])('refuses %s', (input) => expect(safeExternalUrl(input)).toBeUndefined());
});

describe('findInviteArg', () => {
  it('picks the parley:// argument among Chromium switches', () => {
    const argv = [
      '/opt/Parley/parley',
      '--no-sandbox',
      '--allow-file-access',
      'PARLEY://h:1/lobby#k',
    ];
    expect(findInviteArg(argv)).toBe('PARLEY://h:1/lobby#k');
    expect(findInviteArg(['/opt/Parley/parley', 'https://x'])).toBeUndefined();
    expect(findInviteArg([`parley://${'a'.repeat(3000)}`])).toBeUndefined();
  });
});

describe('UnreadCounts', () => {
  it('counts per room, totals, and resets', () => {
    const unread = new UnreadCounts();
    unread.increment('lobby');
    unread.increment('lobby');
    unread.increment('dev');
    expect(unread.counts()).toEqual({ lobby: 2, dev: 1 });
    expect(unread.total).toBe(3);
    expect(unread.reset('lobby')).toBe(true);
    expect(unread.reset('lobby')).toBe(false);
    expect(unread.counts()).toEqual({ dev: 1 });
    expect(unread.total).toBe(1);
    expect(unread.clear()).toBe(true);
    expect(unread.clear()).toBe(false);
  });
});

describe('RoomMembers', () => {
  const alice = { nick: 'alice', fp: 'A', key: KEY_A };
  const bob = { nick: 'bob', fp: 'B', key: KEY_B };
  it('keeps members who left as offline, online ones first, with self and verified flags', () => {
    const members = new RoomMembers();
    members.setPresent('lobby', [bob, alice]);
    members.setPresent('lobby', [alice]);
    expect(members.views('lobby', KEY_A, (k) => k === KEY_B)).toEqual([
      { ...alice, online: true, verified: false, self: true },
      { ...bob, online: false, verified: true, self: false },
    ]);
    members.renamed('lobby', KEY_B, 'robert');
    members.joined('lobby', { ...bob, nick: 'robert' });
    expect(members.views('lobby', KEY_A, () => false).map((m) => [m.nick, m.online])).toEqual([
      ['alice', true],
      ['robert', true],
    ]);
    expect(members.allOffline()).toEqual(['lobby']);
    expect(members.allOffline()).toEqual([]);
    expect(members.roomsOf(KEY_B)).toEqual(['lobby']);
  });

  it('stays sorted like a full sort after any sequence of changes, with offline ones bounded', () => {
    const members = new RoomMembers();
    const key = (i: number) => String(i).padStart(43, 'k');
    const nicks = ['ann', 'Bob', 'bob', 'Émile', 'emile', 'zoë', 'Zed', '李', 'a1', 'a10', 'a2'];
    let random = 42;
    const next = (n: number) => {
      random = (random * 1103515245 + 12345) % 2 ** 31;
      return random % n;
    };
    const model = new Map<string, { nick: string; online: boolean }>();
    for (let step = 0; step < 3000; step++) {
      const i = next(700);
      const nick = nicks[next(nicks.length)] as string;
      const action = next(3);
      if (action === 0) {
        members.joined('lobby', { nick, fp: 'F', key: key(i) });
        model.set(key(i), { nick, online: true });
      } else if (action === 1) {
        members.left('lobby', key(i));
        const entry = model.get(key(i));
        if (entry) entry.online = false;
      } else {
        members.renamed('lobby', key(i), nick);
        const entry = model.get(key(i));
        if (entry) entry.nick = nick;
      }
    }
    const views = members.views('lobby', key(0), () => false);
    const online = views.filter((v) => v.online);
    expect(online.length).toBe([...model.values()].filter((m) => m.online).length);
    expect(views.length - online.length).toBeLessThanOrEqual(MAX_OFFLINE_MEMBERS);
    const resorted = [...views].sort(
      (a, b) =>
        Number(b.online) - Number(a.online) ||
        a.nick.localeCompare(b.nick) ||
        (a.key < b.key ? -1 : 1),
    );
    expect(views).toEqual(resorted);
    for (const view of online)
      expect(model.get(view.key)).toEqual({ nick: view.nick, online: true });
  });
});
