import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { unlinkSync } from 'node:fs';
import { chmod, mkdir, open, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeBase64Url, encodeBase64Url } from '../../src-shared/base64url.ts';
import { writeSecretFileAtomic } from '../store/key-file.ts';

/**
 * Where a device keeps its MLS secrets: its signing key, its KeyPackages' private halves and each
 * room's group state. Names are short ASCII paths (`device`, `kp/<ref hex>`, `group/<room>`).
 */
export interface E2eeStore {
  get(name: string): Promise<Uint8Array | undefined>;
  set(name: string, bytes: Uint8Array): Promise<void>;
  delete(name: string): Promise<void>;
  /** Names that start with `prefix`, sorted. */
  list(prefix: string): Promise<string[]>;
}

/** A file store also holds the directory's lock until closed (or until the process exits). */
export interface FileE2eeStore extends E2eeStore {
  close(): Promise<void>;
}

export class E2eeStoreError extends Error {
  override readonly name = 'E2eeStoreError';
}

const LOCK = 'lock';
const CHECK = '.store-check';
const SUFFIX = '.v1';
const VERSION = 1;
const NONCE = 12;
const TAG = 16;
const encoder = new TextEncoder();

/**
 * Values are sealed one by one with AES-256-GCM under the at-rest key, the value's name as
 * associated data (so two files swapped on disk do not decrypt as each other), each in its own
 * 0600 file written atomically (temp + fsync + rename): a crash leaves the old value or the new.
 * A lock file taken with O_EXCL keeps a second process (desktop and line client on one data dir)
 * from forking the group state; a lock left by a dead process is taken over.
 */
export async function fileE2eeStore(dir: string, atRestKey: Uint8Array): Promise<FileE2eeStore> {
  if (atRestKey.length !== 32) throw new E2eeStoreError('the at-rest key must be 32 bytes');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const lockPath = join(dir, LOCK);
  await takeLock(lockPath, dir);
  const release = (): void => {
    try {
      unlinkSync(lockPath);
    } catch {
      // already gone
    }
  };
  process.once('exit', release);
  let closed = false;
  const key = Uint8Array.from(atRestKey);
  const fileOf = (name: string): string =>
    join(dir, encodeBase64Url(encoder.encode(name)) + SUFFIX);
  const usable = (): void => {
    if (closed) throw new E2eeStoreError(`the E2EE store ${dir} is closed`);
  };

  const store: FileE2eeStore = {
    async get(name) {
      usable();
      let sealed: Uint8Array;
      try {
        sealed = new Uint8Array(await readFile(fileOf(name)));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw new E2eeStoreError(`cannot read ${name} in the E2EE store ${dir}`);
      }
      const opened = openValue(key, name, sealed);
      if (opened === undefined) {
        throw new E2eeStoreError(
          `cannot decrypt ${name} in the E2EE store ${dir}: wrong at-rest key or damaged file`,
        );
      }
      return opened;
    },
    async set(name, bytes) {
      usable();
      await writeSecretFileAtomic(fileOf(name), sealValue(key, name, bytes));
    },
    async delete(name) {
      usable();
      await rm(fileOf(name), { force: true });
    },
    async list(prefix) {
      usable();
      const names: string[] = [];
      for (const entry of await readdir(dir)) {
        if (!entry.endsWith(SUFFIX)) continue;
        const raw = decodeBase64Url(entry.slice(0, -SUFFIX.length));
        if (raw === undefined) continue;
        const name = new TextDecoder().decode(raw);
        if (name !== CHECK && name.startsWith(prefix)) names.push(name);
      }
      return names.sort();
    },
    async close() {
      if (closed) return;
      closed = true;
      key.fill(0);
      process.removeListener('exit', release);
      await rm(lockPath, { force: true });
    },
  };

  // A known value, so a wrong key is reported when the store is opened, not at the first read.
  try {
    const check = await store.get(CHECK);
    if (check === undefined) await store.set(CHECK, encoder.encode('parley e2ee store v1'));
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

export function memoryE2eeStore(): E2eeStore {
  const values = new Map<string, Uint8Array>();
  return {
    get: (name) => Promise.resolve(copyOf(values.get(name))),
    set(name, bytes) {
      values.set(name, Uint8Array.from(bytes));
      return Promise.resolve();
    },
    delete(name) {
      values.delete(name);
      return Promise.resolve();
    },
    list: (prefix) =>
      Promise.resolve([...values.keys()].filter((n) => n.startsWith(prefix)).sort()),
  };
}

/**
 * The line client's at-rest key: 32 random bytes in a plain 0600 file (the desktop seals its key
 * with the OS keyring instead). Errors name the file, never its contents.
 */
export async function loadOrCreateAtRestKey(file: string): Promise<Uint8Array> {
  let text: string | undefined;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new E2eeStoreError(`cannot read the at-rest key file ${file}`);
    }
  }
  if (text !== undefined) {
    const key = decodeBase64Url(text.trim());
    if (key?.length !== 32) throw new E2eeStoreError(`${file} is not a Parley at-rest key file`);
    await chmod(file, 0o600);
    return key;
  }
  const key = new Uint8Array(randomBytes(32));
  await writeSecretFileAtomic(file, encodeBase64Url(key) + '\n');
  return key;
}

function copyOf(bytes: Uint8Array | undefined): Uint8Array | undefined {
  return bytes === undefined ? undefined : Uint8Array.from(bytes);
}

function sealValue(key: Uint8Array, name: string, plain: Uint8Array): Uint8Array {
  const nonce = randomBytes(NONCE);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(encoder.encode(name));
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([Buffer.from([VERSION]), nonce, body, cipher.getAuthTag()]);
}

function openValue(key: Uint8Array, name: string, sealed: Uint8Array): Uint8Array | undefined {
  if (sealed.length < 1 + NONCE + TAG || sealed[0] !== VERSION) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(1, 1 + NONCE));
    decipher.setAAD(encoder.encode(name));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG));
    const body = decipher.update(sealed.subarray(1 + NONCE, sealed.length - TAG));
    return new Uint8Array(Buffer.concat([body, decipher.final()]));
  } catch {
    return undefined;
  }
}

async function takeLock(lockPath: string, dir: string): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(lockPath, 'wx', 0o600);
      try {
        await handle.writeFile(`${process.pid}\n`);
      } finally {
        await handle.close();
      }
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new E2eeStoreError(`cannot lock the E2EE store ${dir}`);
      }
    }
    const holder = Number.parseInt(await readFile(lockPath, 'utf8').catch(() => ''), 10);
    if (Number.isInteger(holder) && holder > 0 && processAlive(holder)) {
      throw new E2eeStoreError(
        `the E2EE store ${dir} is in use by process ${holder}; close the other Parley first`,
      );
    }
    if (!(holder > 0)) {
      // No pid yet: another process may be between creating the file and writing to it.
      const age = await stat(lockPath).then(
        (s) => Date.now() - s.mtimeMs,
        () => Infinity,
      );
      if (age < 2000) throw new E2eeStoreError(`the E2EE store ${dir} is being opened elsewhere`);
    }
    // Stale: its process died (or crashed between creating the file and writing its pid).
    await rm(lockPath, { force: true });
  }
  throw new E2eeStoreError(`cannot lock the E2EE store ${dir}`);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive but someone else's.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
