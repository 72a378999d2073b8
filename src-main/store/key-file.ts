import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { CryptoBackend, KeyPair } from '../protocol/crypto/crypto-backend.ts';

/**
 * A static X25519 key pair on disk: a small JSON file, mode 0600, written atomically
 * (temp file, fsync, rename) so a crash never leaves half a key. Errors name the file but
 * never its contents.
 */
interface KeyFileV1 {
  readonly version: 1;
  readonly type: 'x25519';
  readonly privateKey: string; // base64
}

export class KeyFileError extends Error {
  override readonly name = 'KeyFileError';
}

export async function loadOrCreateKeyPair(path: string, backend: CryptoBackend): Promise<KeyPair> {
  const existing = await loadKeyPair(path, backend);
  if (existing) return existing;
  const pair = backend.generateKeyPair();
  await writeSecretFileAtomic(path, JSON.stringify(keyFileOf(pair)) + '\n');
  return pair;
}

export async function loadKeyPair(
  path: string,
  backend: CryptoBackend,
): Promise<KeyPair | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new KeyFileError(`cannot read the key file ${path}: ${(error as Error).message}`);
  }
  let parsed: Partial<KeyFileV1>;
  try {
    parsed = JSON.parse(text) as Partial<KeyFileV1>;
  } catch {
    throw new KeyFileError(`the key file ${path} is not valid JSON; restore it from a backup`);
  }
  const privateKey =
    typeof parsed.privateKey === 'string' ? Buffer.from(parsed.privateKey, 'base64') : undefined;
  if (parsed.version !== 1 || parsed.type !== 'x25519' || privateKey?.length !== 32) {
    throw new KeyFileError(`the key file ${path} is not a Parley X25519 key file`);
  }
  // Repair permissions loosened by a copy or a backup tool; a file already private is left
  // alone (it may be read-only: a systemd credential, or /etc under ProtectSystem=strict).
  if (((await stat(path)).mode & 0o077) !== 0) await chmod(path, 0o600);
  const raw = new Uint8Array(privateKey);
  return { privateKey: raw, publicKey: backend.publicKeyOf(raw) };
}

function keyFileOf(pair: KeyPair): KeyFileV1 {
  return {
    version: 1,
    type: 'x25519',
    privateKey: Buffer.from(pair.privateKey).toString('base64'),
  };
}

/** Writes `contents` to `path` with mode 0600 so that readers see the old file or the new one. */
export async function writeSecretFileAtomic(
  path: string,
  contents: string | Uint8Array,
): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(contents);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}
