import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeBase64Url } from '../../../src-shared/base64url.ts';
import { HostKeyMismatch } from '../../../src-main/protocol/host-key.ts';
import { KnownHosts, KnownHostsError, hostId } from '../../../src-main/store/known-hosts.ts';
import { newKeyPair } from '../../support/loopback.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'parley-known-'));
  dirs.push(dir);
  return join(dir, 'sub', 'known-hosts.json');
}

const NOW = Date.UTC(2026, 4, 1);
const here = { host: 'chat.example.org', port: 7878 };

describe('known hosts', () => {
  it('keeps both pins when two lists of the same file pin two hosts at once', async () => {
    // The desktop app loads a list per connect: two hosts met at once must not lose one's pin.
    const path = tempFile();
    const there = { host: 'other.example.org', port: 7878 };
    const [a, b] = await Promise.all([KnownHosts.load(path), KnownHosts.load(path)]);
    const keyA = newKeyPair().publicKey;
    const keyB = newKeyPair().publicKey;
    await Promise.all([a.pin(here, keyA, 'first-use'), b.pin(there, keyB, 'invite')]);
    const again = await KnownHosts.load(path);
    expect(again.get(here)?.key).toEqual(keyA);
    expect(again.get(there)?.key).toEqual(keyB);
  });

  it('writes host:port → key, first-seen time and method, mode 0600, and reads it back', async () => {
    const path = tempFile();
    const key = newKeyPair().publicKey;
    const hosts = await KnownHosts.load(path, { now: () => NOW });
    expect(hosts.get(here)).toBeUndefined();
    await hosts.pin(here, key, 'first-use');
    const file = JSON.parse(readFileSync(path, 'utf8')) as { hosts: Record<string, unknown> };
    expect(file).toEqual({
      version: 1,
      hosts: {
        'chat.example.org:7878': {
          key: encodeBase64Url(key),
          firstSeen: '2026-05-01T00:00:00.000Z',
          method: 'first-use',
        },
      },
    });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const again = await KnownHosts.load(path);
    expect(again.get(here)).toEqual({
      key,
      firstSeen: '2026-05-01T00:00:00.000Z',
      method: 'first-use',
    });
  });

  it('writes IPv6 hosts in brackets and ignores the case of names', () => {
    expect(hostId({ host: '::1', port: 7878 })).toBe('[::1]:7878');
    expect(hostId({ host: 'Chat.Example.ORG', port: 1 })).toBe('chat.example.org:1');
  });

  it('never lets pin overwrite a different key; only replace does', async () => {
    const path = tempFile();
    const [first, second] = [newKeyPair().publicKey, newKeyPair().publicKey];
    const hosts = await KnownHosts.load(path);
    await hosts.pin(here, first, 'first-use');
    await expect(hosts.pin(here, second, 'first-use')).rejects.toBeInstanceOf(HostKeyMismatch);
    expect(hosts.get(here)?.key).toEqual(first);
    const { previous, entry } = await hosts.replace(here, second, 'invite');
    expect(previous?.key).toEqual(first);
    expect(entry).toMatchObject({ key: second, method: 'invite' });
    expect((await KnownHosts.load(path)).get(here)?.key).toEqual(second);
  });

  it('an invite upgrades a first-use entry for the same key and keeps its first-seen time', async () => {
    const path = tempFile();
    const key = newKeyPair().publicKey;
    let now = NOW;
    const hosts = await KnownHosts.load(path, { now: () => now });
    await hosts.pin(here, key, 'first-use');
    now += 1000;
    expect(await hosts.pin(here, key, 'invite')).toMatchObject({
      method: 'invite',
      firstSeen: '2026-05-01T00:00:00.000Z',
    });
  });

  it('keeps entries another process added since it was loaded', async () => {
    const path = tempFile();
    const mine = await KnownHosts.load(path);
    const theirs = await KnownHosts.load(path);
    await theirs.pin({ host: 'a.example', port: 1 }, newKeyPair().publicKey, 'invite');
    await mine.pin({ host: 'b.example', port: 2 }, newKeyPair().publicKey, 'invite');
    const ids = (await KnownHosts.load(path)).entries().map(([id]) => id);
    expect(ids).toEqual(['a.example:1', 'b.example:2']);
  });

  it('refuses a damaged file instead of starting over (which would forget every pin)', async () => {
    const path = tempFile();
    await (await KnownHosts.load(path)).pin(here, newKeyPair().publicKey, 'invite');
    writeFileSync(path, '{"version":1,"hosts":{"x:1":{"key":"short"');
    await expect(KnownHosts.load(path)).rejects.toBeInstanceOf(KnownHostsError);
  });
});
