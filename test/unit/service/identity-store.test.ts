import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeBackend } from '../../../src-main/protocol/crypto/node-backend.ts';
import { loadOrCreateKeyPair } from '../../../src-main/store/key-file.ts';
import {
  IdentityError,
  KEY_STORAGE_WARNING,
  PLAIN_KEY_FILE,
  SEALED_KEY_FILE,
  type SecretStorage,
  loadIdentity,
} from '../../../src-main/service/identity-store.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'parley-identity-'));
  dirs.push(dir);
  return dir;
}

/** A stand-in keychain: XOR with a per-"machine" pad, plus a marker so tampering is caught. */
function fakeKeychain(pad = 0x5a, available = true): SecretStorage & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    isAvailable: () => available,
    encrypt(plaintext) {
      calls.push('encrypt');
      return Uint8Array.from([0xee, ...plaintext.map((b) => b ^ pad)]);
    },
    async decrypt(ciphertext) {
      calls.push('decrypt');
      if (ciphertext[0] !== 0xee) throw new Error('not ours');
      return ciphertext.subarray(1).map((b) => b ^ pad);
    },
  };
}

const load = (dataDir: string, secretStorage?: SecretStorage) =>
  loadIdentity({ dataDir, backend: nodeBackend, ...(secretStorage ? { secretStorage } : {}) });

describe('the identity key', () => {
  it('is sealed with the keychain where there is one: no private key on disk in the clear', async () => {
    const dir = tempDir();
    const first = await load(dir, fakeKeychain());
    expect(first).toMatchObject({ encryptedAtRest: true });
    expect(first.warning).toBeUndefined();
    expect(existsSync(join(dir, PLAIN_KEY_FILE))).toBe(false);
    const sealedPath = join(dir, SEALED_KEY_FILE);
    expect(statSync(sealedPath).mode & 0o777).toBe(0o600);
    const raw = readFileSync(sealedPath, 'utf8');
    expect(raw).not.toContain(Buffer.from(first.keyPair.privateKey).toString('base64'));

    const again = await load(dir, fakeKeychain());
    expect(again.keyPair.publicKey).toEqual(first.keyPair.publicKey);
    expect(again.keyPair.privateKey).toEqual(first.keyPair.privateKey);
  });

  it('falls back to a 0600 file with a warning where there is no keychain', async () => {
    for (const storage of [undefined, fakeKeychain(0x5a, false)]) {
      const dir = tempDir();
      const loaded = await load(dir, storage);
      expect(loaded).toMatchObject({ encryptedAtRest: false, warning: KEY_STORAGE_WARNING });
      expect(statSync(join(dir, PLAIN_KEY_FILE)).mode & 0o777).toBe(0o600);
      expect((await load(dir, storage)).keyPair.publicKey).toEqual(loaded.keyPair.publicKey);
    }
  });

  it('treats a keychain that throws on isAvailable as absent', async () => {
    const storage = {
      ...fakeKeychain(),
      isAvailable: () => {
        throw new Error('dbus');
      },
    };
    expect(await load(tempDir(), storage)).toMatchObject({ encryptedAtRest: false });
  });

  it('moves an existing plain key into the keychain, keeping the same identity', async () => {
    const dir = tempDir();
    const plain = await loadOrCreateKeyPair(join(dir, PLAIN_KEY_FILE), nodeBackend);
    const loaded = await load(dir, fakeKeychain());
    expect(loaded.encryptedAtRest).toBe(true);
    expect(loaded.keyPair.publicKey).toEqual(plain.publicKey);
    expect(existsSync(join(dir, PLAIN_KEY_FILE))).toBe(false);
  });

  it('refuses to start (rather than make a new identity) when the sealed key cannot be opened', async () => {
    const dir = tempDir();
    await load(dir, fakeKeychain());
    await expect(load(dir)).rejects.toThrow(IdentityError);
    await expect(load(dir, fakeKeychain(0x5a, false))).rejects.toThrow(/not available/);
    const otherMachine = {
      ...fakeKeychain(),
      decrypt: () => {
        throw new Error('wrong key');
      },
    };
    await expect(load(dir, otherMachine)).rejects.toThrow(/cannot decrypt/);
    // Nothing was replaced.
    expect((await load(dir, fakeKeychain())).encryptedAtRest).toBe(true);
  });

  it('refuses a damaged sealed file', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, SEALED_KEY_FILE), '{"version":1}');
    await expect(load(dir, fakeKeychain())).rejects.toThrow(/damaged/);
  });

  it('refuses a keychain that does not round-trip', async () => {
    const broken = { ...fakeKeychain(), decrypt: () => new Uint8Array(32) };
    await expect(load(tempDir(), broken)).rejects.toThrow(/did not give back/);
  });
});
