import { hkdfSync, randomBytes } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { encodeBase64Url } from '../../src-shared/base64url.ts';
import { concatBytes } from '../../src-shared/bytes.ts';
import { equalBytes } from '../../src-shared/equal-bytes.ts';
import type { KeyPair } from '../protocol/crypto/crypto-backend.ts';
import type { E2eeStore } from './e2ee-store.ts';

/**
 * Who a device is in MLS. A person (one Parley X25519 identity key, possibly on several installs)
 * signs each of its devices (one MLS leaf each) with a person key derived from that identity, so
 * a member sees that two devices belong to one person and that a host cannot slip in a device of
 * its own under someone's name (docs/security.md).
 */
export interface DeviceIdentity {
  /** The Parley identity (X25519) public key the host knows as the member. */
  readonly parleyKey: Uint8Array;
  /** The person signing key (Ed25519) derived from the Parley identity. */
  readonly personKey: Uint8Array;
  /** The device's leaf signature key (Ed25519). */
  readonly deviceKey: Uint8Array;
  /** base64url(deviceKey): the `device` of the wire. */
  readonly deviceText: string;
  /** The MLS basic credential's identity bytes (CREDENTIAL_LENGTH), public. */
  readonly credential: Uint8Array;
}

export const CREDENTIAL_MAGIC = 'PARLEY-DEVICE-V1';
export const CREDENTIAL_LENGTH = 16 + 32 + 32 + 64;
const PERSON_INFO = 'parley person signing key v1';
const DEVICE_SIG_CONTEXT = 'parley device v1';
const DEVICE_NAME = 'device';
const encoder = new TextEncoder();
const MAGIC = encoder.encode(CREDENTIAL_MAGIC);

/** The device's signing seed lives here, not on the object, so it never lands in a log or a dump. */
const secrets = new WeakMap<DeviceIdentity, Uint8Array>();

/** The device's Ed25519 private seed (32 bytes): for the e2ee layer only. */
export function deviceSigningKey(device: DeviceIdentity): Uint8Array {
  const seed = secrets.get(device);
  if (seed === undefined) throw new Error('not a device made by device-identity.ts');
  return seed;
}

/** The person signing key pair of an install, from its Parley X25519 private key. */
export function personKeyOf(identity: KeyPair): { seed: Uint8Array; publicKey: Uint8Array } {
  const seed = new Uint8Array(
    hkdfSync('sha256', identity.privateKey, new Uint8Array(0), PERSON_INFO, 32),
  );
  return { seed, publicKey: ed25519.getPublicKey(seed) };
}

export async function loadOrCreateDevice(
  store: E2eeStore,
  identity: KeyPair,
): Promise<DeviceIdentity> {
  const stored = await store.get(DEVICE_NAME);
  // The device record names the Parley key it was made for: after the identity key was
  // replaced, the old device (its credential, its KeyPackages) speaks for someone else.
  if (stored?.length === 64 && equalBytes(stored.subarray(32), identity.publicKey)) {
    return deviceFrom(identity, stored.subarray(0, 32));
  }
  return rotateDevice(store, identity);
}

/**
 * A new device key for this install (after a room broke or the device was retired): the old
 * KeyPackages are dropped, since they name the old key. Group states are the caller's to drop.
 */
export async function rotateDevice(store: E2eeStore, identity: KeyPair): Promise<DeviceIdentity> {
  const seed = new Uint8Array(randomBytes(32));
  await store.set(DEVICE_NAME, concatBytes(seed, identity.publicKey));
  // The old device's KeyPackages stay: the desktop's sessions with other hosts still run on the
  // old device until they reconnect, and a Welcome sealed to one of them must still open. A
  // Welcome is matched to this device's own signature key, and the store keeps at most 100.
  return deviceFrom(identity, seed);
}

/** A device from its seed (tests and the store). */
export function deviceFrom(identity: KeyPair, seed: Uint8Array): DeviceIdentity {
  const person = personKeyOf(identity);
  const deviceKey = ed25519.getPublicKey(seed);
  const parleyKey = Uint8Array.from(identity.publicKey);
  const signature = ed25519.sign(deviceStatement(parleyKey, deviceKey), person.seed);
  person.seed.fill(0);
  const device: DeviceIdentity = Object.freeze({
    parleyKey,
    personKey: person.publicKey,
    deviceKey,
    deviceText: encodeBase64Url(deviceKey),
    credential: concatBytes(MAGIC, parleyKey, person.publicKey, signature),
  });
  secrets.set(device, Uint8Array.from(seed));
  return device;
}

export interface ParsedCredential {
  readonly parleyKey: Uint8Array;
  readonly personKey: Uint8Array;
  readonly signature: Uint8Array;
}

/** The parts of a credential's identity bytes, or undefined if they are not a Parley device's. */
export function parseCredential(identity: Uint8Array): ParsedCredential | undefined {
  if (identity.length !== CREDENTIAL_LENGTH) return undefined;
  if (!equalBytes(identity.subarray(0, 16), MAGIC)) return undefined;
  return {
    parleyKey: identity.slice(16, 48),
    personKey: identity.slice(48, 80),
    signature: identity.slice(80, 144),
  };
}

/** Whether the person signed this device key for this Parley key. */
export function verifyCredential(parsed: ParsedCredential, deviceKey: Uint8Array): boolean {
  if (deviceKey.length !== 32) return false;
  try {
    return ed25519.verify(
      parsed.signature,
      deviceStatement(parsed.parleyKey, deviceKey),
      parsed.personKey,
    );
  } catch {
    return false; // a person key that is not a curve point
  }
}

function deviceStatement(parleyKey: Uint8Array, deviceKey: Uint8Array): Uint8Array {
  return concatBytes(encoder.encode(DEVICE_SIG_CONTEXT), new Uint8Array([0]), parleyKey, deviceKey);
}
