// A store file that cannot be read as a whole is set aside (never overwritten by the next
// write, so a person can still repair it), and one bad entry costs that entry, not the file.
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RECENT_HOSTS_FILE, RecentHosts } from '../../../src-main/service/recent-hosts.ts';
import {
  MAX_ROOMS_PER_HOST,
  ROOM_MUTES_FILE,
  RoomMutes,
} from '../../../src-main/service/room-mutes.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'parley-damaged-'));
  dirs.push(dir);
  return dir;
}

describe('damaged store files', () => {
  it('keeps the other rooms muted when one entry is unknown (a newer version wrote it)', async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, ROOM_MUTES_FILE),
      JSON.stringify({
        version: 1,
        hosts: { 'a.example:7878': { lobby: 'loud', dev: 'nothing' }, 'b.example:7878': 3 },
      }),
    );
    const mutes = await RoomMutes.open(dir);
    expect(mutes.get('a.example:7878', 'dev')).toBe('nothing');
    expect(mutes.get('a.example:7878', 'lobby')).toBe('all');
    expect(mutes.damaged).toBe(false);
  });

  it('sets a room-mutes file that is not JSON aside, 0600, before anything overwrites it', async () => {
    const dir = tempDir();
    const path = join(dir, ROOM_MUTES_FILE);
    writeFileSync(path, '{"version":1,"hosts":{"a.example:7878":{"lobby":"nothing"');
    const mutes = await RoomMutes.open(dir);
    expect(mutes.damaged).toBe(true);
    await mutes.set('a.example:7878', 'dev', 'mentions').written;
    expect(readFileSync(`${path}.damaged`, 'utf8')).toContain('"lobby":"nothing"');
    expect(statSync(`${path}.damaged`).mode & 0o777).toBe(0o600);
  });

  it('sets a damaged recent-hosts file aside too; a readable one is left alone', async () => {
    const dir = tempDir();
    const path = join(dir, RECENT_HOSTS_FILE);
    writeFileSync(path, 'not json at all');
    const hosts = await RecentHosts.open(dir);
    expect(hosts.damaged).toBe(true);
    expect(readFileSync(`${path}.damaged`, 'utf8')).toBe('not json at all');

    const clean = tempDir();
    const fine = await RecentHosts.open(clean);
    expect(fine.damaged).toBe(false);
    expect(existsSync(join(clean, `${RECENT_HOSTS_FILE}.damaged`))).toBe(false);
  });

  it('refuses a room level past its limit, saying so, instead of pretending it was kept', async () => {
    const dir = tempDir();
    const full = Object.fromEntries(
      Array.from({ length: MAX_ROOMS_PER_HOST }, (_, i) => [`room-${i}`, 'nothing']),
    );
    writeFileSync(
      join(dir, ROOM_MUTES_FILE),
      JSON.stringify({ version: 1, hosts: { 'a.example:7878': full } }),
    );
    const mutes = await RoomMutes.open(dir);
    expect(mutes.get('a.example:7878', `room-${MAX_ROOMS_PER_HOST - 1}`)).toBe('nothing');
    expect(() => mutes.set('a.example:7878', 'one-more', 'mentions')).toThrow(
      new RegExp(`at most ${MAX_ROOMS_PER_HOST} rooms`),
    );
    expect(mutes.get('a.example:7878', 'one-more')).toBe('all');
    // Changing or clearing one already there still works.
    await mutes.set('a.example:7878', 'room-0', 'mentions').written;
    await mutes.set('a.example:7878', 'room-1', 'all').written;
    expect(mutes.get('a.example:7878', 'room-0')).toBe('mentions');
  });
});
