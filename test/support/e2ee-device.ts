import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { ChatSessionOptions } from '../../src-main/client/chat-session.ts';
import type { KeyPair } from '../../src-main/protocol/crypto/crypto-backend.ts';
import { type DeviceIdentity, loadOrCreateDevice } from '../../src-main/e2ee/device-identity.ts';
import { type FileE2eeStore, fileE2eeStore } from '../../src-main/e2ee/e2ee-store.ts';
import { loadSuite } from '../../src-main/e2ee/mls-suite.ts';
import { type PersonPins, filePersonPins } from '../../src-main/e2ee/person-pins.ts';
import type { Cleanups } from './lifecycle.ts';

/**
 * One install's E2EE device as the line client keeps it: an encrypted file store (its own
 * folder and at-rest key) and a pins file, for one identity. `reopen()` gives the same device
 * back after its session stopped (the store's lock released first) — a member that was offline.
 */
export interface TestDevice {
  readonly dir: string;
  readonly atRestKey: Uint8Array;
  readonly store: FileE2eeStore;
  readonly device: DeviceIdentity;
  readonly pins: PersonPins;
  /** The ChatSession options that give a session this device. */
  readonly options: Pick<ChatSessionOptions, 'e2ee'>;
  /** Closes the store (releases its lock) and opens it again from its folder. */
  reopen(): Promise<TestDevice>;
}

export async function openDevice(
  cleanups: Cleanups,
  identity: KeyPair,
  place: { dir?: string; atRestKey?: Uint8Array } = {},
): Promise<TestDevice> {
  const dir = place.dir ?? cleanups.tempDir('parley-e2ee-');
  const atRestKey = place.atRestKey ?? new Uint8Array(randomBytes(32));
  const store = await fileE2eeStore(join(dir, 'e2ee-line'), atRestKey);
  let closed = false;
  const close = async () => {
    if (!closed) await store.close();
    closed = true;
  };
  cleanups.push(close);
  const device = await loadOrCreateDevice(store, identity);
  const pins = await filePersonPins(join(dir, 'member-pins.json'));
  const suite = await loadSuite();
  return {
    dir,
    atRestKey,
    store,
    device,
    pins,
    options: { e2ee: { device, store, pins, suite } },
    async reopen() {
      await close();
      return openDevice(cleanups, identity, { dir, atRestKey });
    },
  };
}
