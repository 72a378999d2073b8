import { join } from 'node:path';
import type { KeyPair } from '../protocol/crypto/crypto-backend.ts';
import { type DeviceIdentity, loadOrCreateDevice } from '../e2ee/device-identity.ts';
import { type E2eeStore, fileE2eeStore, memoryE2eeStore } from '../e2ee/e2ee-store.ts';
import { type MlsSuite, loadSuite } from '../e2ee/mls-suite.ts';
import { type PersonPins, filePersonPins, memoryPersonPins } from '../e2ee/person-pins.ts';

/**
 * The desktop's end-to-end encryption parts, shared by every host's session: this install's
 * device (its own MLS leaf key, separate from the line client's even in one data folder), its
 * store of MLS secrets (group states, KeyPackages' private halves; sealed with the at-rest key
 * and locked against a second process), the person-key pins (shared with the line client: one
 * person, one pin) and the MLS suite. `memory` keeps the store and pins in memory (the browser
 * test bridge, tests): nothing of it survives the process.
 */
export const E2EE_STORE_DIR = 'e2ee-desktop';
export const PINS_FILE = 'member-pins.json';

export type E2eeStorage = 'file' | 'memory';

export interface DesktopE2ee {
  readonly device: DeviceIdentity;
  readonly store: E2eeStore;
  readonly pins: PersonPins;
  readonly suite: MlsSuite;
  /** Releases the store's lock. */
  close(): Promise<void>;
}

export async function openDesktopE2ee(options: {
  readonly dataDir: string;
  readonly atRestKey: Uint8Array;
  readonly identity: KeyPair;
  readonly storage: E2eeStorage;
}): Promise<DesktopE2ee> {
  const { dataDir, atRestKey, identity, storage } = options;
  const suite = await loadSuite();
  if (storage === 'memory') {
    const store = memoryE2eeStore();
    const device = await loadOrCreateDevice(store, identity);
    return { device, store, pins: memoryPersonPins(), suite, close: () => Promise.resolve() };
  }
  const store = await fileE2eeStore(join(dataDir, E2EE_STORE_DIR), atRestKey);
  try {
    const [device, pins] = await Promise.all([
      loadOrCreateDevice(store, identity),
      filePersonPins(join(dataDir, PINS_FILE)),
    ]);
    return { device, store, pins, suite, close: () => store.close() };
  } catch (error) {
    await store.close();
    throw error;
  }
}
