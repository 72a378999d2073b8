import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  fileE2eeStore,
  loadOrCreateAtRestKey,
  memoryE2eeStore,
  type E2eeStore,
  type FileE2eeStore,
} from '../../../src-main/e2ee/e2ee-store.ts';

let dir: string | undefined;
const open: FileE2eeStore[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function freshDir(): string {
  dir = mkdtempSync(join(tmpdir(), 'parley-e2ee-'));
  return join(dir, 'e2ee-line');
}
const base = (): string => dir!;

const key = (byte: number) => new Uint8Array(32).fill(byte);
const bytes = (text: string) => new TextEncoder().encode(text);

async function roundTrip(store: E2eeStore): Promise<void> {
  expect(await store.get('device')).toBeUndefined();
  await store.set('device', bytes('seed'));
  await store.set('kp/00ff', bytes('a'));
  await store.set('kp/0aff', bytes('b'));
  await store.set('group/#lobby', bytes('state'));
  expect(await store.get('device')).toEqual(bytes('seed'));
  expect(await store.list('kp/')).toEqual(['kp/00ff', 'kp/0aff']);
  await store.delete('kp/00ff');
  expect(await store.list('kp/')).toEqual(['kp/0aff']);
  expect(await store.get('kp/00ff')).toBeUndefined();
}

describe('the E2EE device store', () => {
  it('in memory: get, set, list by prefix, delete', async () => {
    await roundTrip(memoryE2eeStore());
  });

  it('on disk: sealed values in 0600 files, none holding the plaintext, read back after reopening', async () => {
    const path = freshDir();
    const store = await fileE2eeStore(path, key(1));
    await roundTrip(store);
    await store.set('secret', bytes('the device signing seed'));
    await store.close();
    expect(statSync(path).mode & 0o777).toBe(0o700);
    for (const name of readdirSync(path)) {
      expect(statSync(join(path, name)).mode & 0o777, name).toBe(0o600);
      expect(readFileSync(join(path, name)).includes(Buffer.from('signing seed'))).toBe(false);
    }
    const again = await fileE2eeStore(path, key(1));
    open.push(again);
    expect(new TextDecoder().decode(await again.get('secret'))).toBe('the device signing seed');
    expect(await again.list('')).toEqual(['device', 'group/#lobby', 'kp/0aff', 'secret']);
  });

  it('with the wrong at-rest key: an error that names the store, not the key', async () => {
    const path = freshDir();
    const right = key(0xab);
    await (await fileE2eeStore(path, right)).close();
    const error = (await fileE2eeStore(path, key(0xcd)).then(
      () => new Error('opened'),
      (e: unknown) => e,
    )) as Error;
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toMatch(/wrong at-rest key/);
    for (const k of [right, key(0xcd)]) {
      expect(error.message).not.toContain(Buffer.from(k).toString('hex'));
      expect(error.message).not.toContain(Buffer.from(k).toString('base64').slice(0, 20));
    }
    // The store is not left locked by the failed open.
    open.push(await fileE2eeStore(path, right));
  });

  it('a value moved to another name on disk does not decrypt as that name', async () => {
    const path = freshDir();
    const store = await fileE2eeStore(path, key(2));
    open.push(store);
    await store.set('a', bytes('for a'));
    await store.set('b', bytes('for b'));
    const files = readdirSync(path).filter((n) => n.endsWith('.v1'));
    const fileOf = (name: string) =>
      files.find((f) => f.startsWith(Buffer.from(name).toString('base64url')))!;
    writeFileSync(join(path, fileOf('b')), readFileSync(join(path, fileOf('a'))));
    await expect(store.get('b')).rejects.toThrow(/cannot decrypt b/);
  });

  it('is locked while open: a second store on the same folder is refused until the first closes', async () => {
    const path = freshDir();
    const first = await fileE2eeStore(path, key(3));
    await expect(fileE2eeStore(path, key(3))).rejects.toThrow(/in use by process \d+/);
    await first.close();
    open.push(await fileE2eeStore(path, key(3)));
  });

  it('takes over a lock left by a process that died', async () => {
    const path = freshDir();
    await (await fileE2eeStore(path, key(4))).close();
    // A pid that is certainly dead: a child that already exited.
    const child = spawnSync(process.execPath, ['-e', 'process.exit(0)']);
    writeFileSync(join(path, 'lock'), `${child.pid}\n`);
    open.push(await fileE2eeStore(path, key(4)));
    // …but not one held by a live process.
    await open.pop()!.close();
    writeFileSync(join(path, 'lock'), `${process.ppid}\n`);
    await expect(fileE2eeStore(path, key(4))).rejects.toThrow(/in use/);
  });

  it('keeps the line client’s at-rest key in a 0600 file, the same on every load', async () => {
    freshDir();
    const file = join(base(), 'e2ee-line.key');
    const k = await loadOrCreateAtRestKey(file);
    expect(k).toHaveLength(32);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(await loadOrCreateAtRestKey(file)).toEqual(k);
    writeFileSync(file, 'short\n');
    await expect(loadOrCreateAtRestKey(file)).rejects.toThrow(/not a Parley at-rest key file/);
  });
});
