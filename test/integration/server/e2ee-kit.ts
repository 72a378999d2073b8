// MLS actors for host tests: a wire client whose hello names a real device, and the device's
// KeyPackages and group made with the e2ee adapter (src-main/e2ee), so the host is tested
// against what real clients send.
import { randomBytes } from 'node:crypto';
import { type DeviceIdentity, deviceFrom } from '../../../src-main/e2ee/device-identity.ts';
import { type E2eeStore, memoryE2eeStore } from '../../../src-main/e2ee/e2ee-store.ts';
import { makeKeyPackages } from '../../../src-main/e2ee/key-packages.ts';
import { type MlsSuite, loadSuite } from '../../../src-main/e2ee/mls-suite.ts';
import { type PersonPins, memoryPersonPins } from '../../../src-main/e2ee/person-pins.ts';
import { RoomGroup } from '../../../src-main/e2ee/room-group.ts';
import type { KeyPair } from '../../../src-main/protocol/crypto/crypto-backend.ts';
import { encodeMessage } from '../../../src-main/protocol/wire/codec.ts';
import { WIRE_VERSION } from '../../../src-main/protocol/wire/messages.ts';
import { newKeyPair } from '../../support/loopback.ts';
import { type WireClient, connectWireClient } from '../../support/wire-client.ts';

/** One install: its Parley key, its MLS device, the device's store and pins. */
export interface Install {
  readonly keyPair: KeyPair;
  readonly device: DeviceIdentity;
  readonly store: E2eeStore;
  readonly pins: PersonPins;
  readonly suite: MlsSuite;
}

export async function newInstall(keyPair: KeyPair = newKeyPair()): Promise<Install> {
  return {
    keyPair,
    device: deviceFrom(keyPair, new Uint8Array(randomBytes(32))),
    store: memoryE2eeStore(),
    pins: memoryPersonPins(),
    suite: await loadSuite(),
  };
}

/** A wire client whose hello names the install's device (or `device` instead; null: none). */
export async function connectInstall(
  port: number,
  hostKey: Uint8Array,
  nick: string,
  install: Install,
  device: string | null = install.device.deviceText,
): Promise<WireClient> {
  const c = await connectWireClient(port, hostKey, nick, {
    keyPair: install.keyPair,
    hello: encodeMessage({
      v: WIRE_VERSION,
      nick,
      software: 'test',
      ...(device === null ? {} : { device }),
    }),
  });
  await c.waitFor('welcome');
  await c.waitFor('rooms');
  return c;
}

export function keyPackages(install: Install, count: number): Promise<string[]> {
  return makeKeyPackages(install.suite, install.device, install.store, count);
}

export function newGroup(install: Install): Promise<RoomGroup> {
  return RoomGroup.create(install.suite, install.device, install.pins);
}

export function joinGroup(install: Install, welcome: string): Promise<RoomGroup> {
  return RoomGroup.join(install.suite, install.device, install.pins, install.store, welcome);
}

/** A base64url string of random bytes: what a hostile client sends as MLS. */
export function garbage(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}
