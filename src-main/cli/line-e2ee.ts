import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { E2eeOptions } from '../client/e2ee/e2ee-options.ts';
import { loadOrCreateDevice } from '../e2ee/device-identity.ts';
import { fileE2eeStore, loadOrCreateAtRestKey } from '../e2ee/e2ee-store.ts';
import { loadSuite } from '../e2ee/mls-suite.ts';
import { filePersonPins } from '../e2ee/person-pins.ts';
import type { KeyPair } from '../protocol/crypto/crypto-backend.ts';

/** The line client's own MLS device store, apart from the desktop's (`e2ee-desktop/`). */
export const LINE_E2EE_DIR = 'e2ee-line';
/** Its at-rest key: a plain 0600 file (no OS keyring here; docs/security.md says what that means). */
export const LINE_AT_REST_KEY = 'store.key';
/** Person-key pins, shared with the desktop app on the same data folder. */
export const MEMBER_PINS_FILE = 'member-pins.json';

export interface LineE2ee {
  readonly options: E2eeOptions;
  /** Releases the store's lock: a later run (or the other program) may open it. */
  close(): Promise<void>;
}

/**
 * Opens what end-to-end encrypted rooms need: the store (locked: a second line client on the
 * same data folder fails here with the store's message, e.g. "… is in use by process 123"),
 * the pins, this install's device and the cipher suite.
 */
export async function openLineE2ee(dataDir: string, identity: KeyPair): Promise<LineE2ee> {
  const dir = join(dataDir, LINE_E2EE_DIR);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const atRestKey = await loadOrCreateAtRestKey(join(dir, LINE_AT_REST_KEY));
  const store = await fileE2eeStore(dir, atRestKey);
  atRestKey.fill(0); // the store keeps its own copy
  try {
    const pins = await filePersonPins(join(dataDir, MEMBER_PINS_FILE));
    const device = await loadOrCreateDevice(store, identity);
    const suite = await loadSuite();
    return { options: { device, store, pins, suite }, close: () => store.close() };
  } catch (error) {
    await store.close();
    throw error;
  }
}
