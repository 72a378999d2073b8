import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeBackend } from '../../../src-main/protocol/crypto/node-backend.ts';
import { loadOrCreateKeyPair } from '../../../src-main/store/key-file.ts';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('key files', () => {
  it('creates a 0600 key once and loads the same key after', async () => {
    dir = mkdtempSync(join(tmpdir(), 'parley-key-'));
    const path = join(dir, 'nested', 'host.key');
    const created = await loadOrCreateKeyPair(path, nodeBackend);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'nested')).mode & 0o777).toBe(0o700);
    const loaded = await loadOrCreateKeyPair(path, nodeBackend);
    expect(loaded.publicKey).toEqual(created.publicKey);
    expect(nodeBackend.publicKeyOf(loaded.privateKey)).toEqual(created.publicKey);
  });

  it('repairs loosened permissions on load', async () => {
    dir = mkdtempSync(join(tmpdir(), 'parley-key-'));
    const path = join(dir, 'host.key');
    await loadOrCreateKeyPair(path, nodeBackend);
    chmodSync(path, 0o644);
    await loadOrCreateKeyPair(path, nodeBackend);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('refuses a damaged file without echoing its contents', async () => {
    dir = mkdtempSync(join(tmpdir(), 'parley-key-'));
    const path = join(dir, 'host.key');
    writeFileSync(path, '{"version":1,"type":"x25519","privateKey":"c2VjcmV0LXNob3J0"}');
    const error = await loadOrCreateKeyPair(path, nodeBackend).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain('not a Parley X25519 key file');
    expect((error as Error).message).not.toContain('c2VjcmV0');
    expect(readFileSync(path, 'utf8')).toContain('c2VjcmV0'); // and it did not overwrite the file
  });
});
