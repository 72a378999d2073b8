import type { DeviceIdentity } from '../../e2ee/device-identity.ts';
import type { E2eeStore } from '../../e2ee/e2ee-store.ts';
import type { MlsSuite } from '../../e2ee/mls-suite.ts';
import type { PersonPins } from '../../e2ee/person-pins.ts';

/**
 * What a ChatSession needs to take part in end-to-end encrypted rooms: this install's MLS
 * device (named in the hello), the device's store (its KeyPackages and each room's group
 * state), the person-key pins (shared by the desktop and line client) and the cipher suite.
 * Without it, an E2EE room cannot be joined (`e2ee-unavailable`).
 */
export interface E2eeOptions {
  readonly device: DeviceIdentity;
  readonly store: E2eeStore;
  readonly pins: PersonPins;
  readonly suite: MlsSuite;
}

/** KeyPackages the host should hold for this device: topped up to this after a welcome… */
export const KEY_PACKAGE_TARGET = 10;
/** …when it says it holds fewer than this. */
export const KEY_PACKAGE_LOW = 5;
