import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  PLAIN_AT_REST_FILE,
  SEALED_AT_REST_FILE,
  loadOrCreateAtRestKey,
} from '../../../src-main/service/at-rest-key.ts';
import { IdentityError, type SecretStorage } from '../../../src-main/service/identity-store.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'parley-at-rest-'));
  dirs.push(dir);
  return dir;
}
/** A stand-in keychain; `machine` marks what it sealed, and another machine's cannot open it. */
function keychain(available = true, machine = 0xee): SecretStorage {
  const pad = 0x5a;
  return {
    isAvailable: () => available,
    encrypt: (plaintext) => Uint8Array.from([machine, ...plaintext.map((b) => b ^ pad)]),
    decrypt(ciphertext) {
      if (ciphertext[0] !== machine) throw new Error('not ours');
      return ciphertext.subarray(1).map((b) => b ^ pad);
    },
  };
}

describe('the desktop at-rest key', () => {
  it('is sealed with the keychain and the same on the next start', async () => {
    const dataDir = tempDir();
    const first = await loadOrCreateAtRestKey({ dataDir, secretStorage: keychain() });
    expect(first).toMatchObject({ encryptedAtRest: true });
    expect(first.key).toHaveLength(32);
    expect(existsSync(join(dataDir, PLAIN_AT_REST_FILE))).toBe(false);
    const sealed = readFileSync(join(dataDir, SEALED_AT_REST_FILE), 'utf8');
    expect(sealed).not.toContain(Buffer.from(first.key).toString('base64url'));
    const again = await loadOrCreateAtRestKey({ dataDir, secretStorage: keychain() });
    expect(Buffer.from(again.key).equals(Buffer.from(first.key))).toBe(true);
  });

  it('is a 0600 file without a keychain, sealed once a keychain appears', async () => {
    const dataDir = tempDir();
    const plain = await loadOrCreateAtRestKey({ dataDir });
    expect(plain.encryptedAtRest).toBe(false);
    expect(statSync(join(dataDir, PLAIN_AT_REST_FILE)).mode & 0o777).toBe(0o600);
    const sealed = await loadOrCreateAtRestKey({ dataDir, secretStorage: keychain() });
    expect(sealed.encryptedAtRest).toBe(true);
    expect(Buffer.from(sealed.key).equals(Buffer.from(plain.key))).toBe(true);
    expect(existsSync(join(dataDir, PLAIN_AT_REST_FILE))).toBe(false);
  });

  it('refuses to start over when the keychain that sealed it is gone', async () => {
    const dataDir = tempDir();
    await loadOrCreateAtRestKey({ dataDir, secretStorage: keychain() });
    await expect(
      loadOrCreateAtRestKey({ dataDir, secretStorage: keychain(false) }),
    ).rejects.toBeInstanceOf(IdentityError);
    await expect(
      loadOrCreateAtRestKey({ dataDir, secretStorage: keychain(true, 0x11) }),
    ).rejects.toThrow(/cannot decrypt/);
  });
});
