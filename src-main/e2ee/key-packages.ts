import { z } from 'zod';
import {
  decodeMlsMessage,
  defaultCapabilities,
  encodeMlsMessage,
  generateKeyPackageWithKey,
  type KeyPackage,
  type Lifetime,
  type PrivateKeyPackage,
} from 'ts-mls';
import { decodeKeyPackage, encodeKeyPackage, makeKeyPackageRef } from 'ts-mls/keyPackage.js';
import { decodeBase64Url, encodeBase64Url } from '../../src-shared/base64url.ts';
import { deviceSigningKey, type DeviceIdentity } from './device-identity.ts';
import type { E2eeStore } from './e2ee-store.ts';
import type { MlsSuite } from './mls-suite.ts';

/** How long a KeyPackage we publish is valid; the host refuses any beyond 90 days. */
export const KEY_PACKAGE_LIFETIME_S = 60 * 24 * 3600;
/**
 * How far back a new KeyPackage's lifetime starts: the device that adds it checks that the
 * lifetime has begun by its own clock, which may run behind ours.
 */
const CLOCK_SKEW_S = 24 * 3600;
const PREFIX = 'kp/';
/**
 * The most KeyPackage private halves a device keeps. The host holds at most 20 per device (the
 * oldest dropped) and a claimed one is used within seconds, so older halves can no longer be
 * named by any Welcome; without a bound, a host saying "0 held" at every connection made the
 * device store 10 more each time, forever.
 */
export const MAX_HELD_KEY_PACKAGES = 100;

const StoredKeyPackage = z.object({
  v: z.literal(1),
  kp: z.string(),
  init: z.string(),
  hpke: z.string(),
  notAfter: z.number().int(),
});

/** The lifetime of a leaf made now (seconds since the epoch, as MLS counts). */
export function freshLifetime(nowMs = Date.now()): Lifetime {
  const now = BigInt(Math.floor(nowMs / 1000));
  return { notBefore: now - BigInt(CLOCK_SKEW_S), notAfter: now + BigInt(KEY_PACKAGE_LIFETIME_S) };
}

export function credentialOf(device: DeviceIdentity): {
  credentialType: 'basic';
  identity: Uint8Array;
} {
  return { credentialType: 'basic', identity: device.credential };
}

/** A KeyPackage of this device (private half not stored): for the device's own leaf. */
export async function newKeyPackage(
  suite: MlsSuite,
  device: DeviceIdentity,
  nowMs = Date.now(),
): Promise<{ publicPackage: KeyPackage; privatePackage: PrivateKeyPackage }> {
  return generateKeyPackageWithKey(
    credentialOf(device),
    defaultCapabilities(),
    freshLifetime(nowMs),
    [],
    { signKey: deviceSigningKey(device), publicKey: device.deviceKey },
    suite.impl,
  );
}

/**
 * `count` KeyPackages for the host to hand out, as base64url MLSMessages. Each private half is
 * stored (`kp/<ref hex>`) before the packages are returned: publish only after this resolves, or a
 * Welcome could arrive for a package whose keys were never kept.
 */
export async function makeKeyPackages(
  suite: MlsSuite,
  device: DeviceIdentity,
  store: E2eeStore,
  count: number,
  nowMs = Date.now(),
): Promise<string[]> {
  const out: string[] = [];
  const made = new Set<string>();
  for (let i = 0; i < count; i++) {
    const { publicPackage, privatePackage } = await newKeyPackage(suite, device, nowMs);
    const ref = await makeKeyPackageRef(publicPackage, suite.impl.hash);
    const stored: z.infer<typeof StoredKeyPackage> = {
      v: 1,
      kp: encodeBase64Url(encodeKeyPackage(publicPackage)),
      init: encodeBase64Url(privatePackage.initPrivateKey),
      hpke: encodeBase64Url(privatePackage.hpkePrivateKey),
      notAfter: Number(publicPackage.leafNode.lifetime.notAfter),
    };
    await store.set(PREFIX + hex(ref), new TextEncoder().encode(JSON.stringify(stored)));
    made.add(PREFIX + hex(ref));
    out.push(
      encodeBase64Url(
        encodeMlsMessage({
          version: 'mls10',
          wireformat: 'mls_key_package',
          keyPackage: publicPackage,
        }),
      ),
    );
  }
  await boundKeyPackages(store, made);
  return out;
}

/**
 * Drops the oldest private halves (earliest end of lifetime, unreadable first) beyond
 * MAX_HELD_KEY_PACKAGES; those just made (`made`, about to be published) are always kept.
 */
async function boundKeyPackages(store: E2eeStore, made: ReadonlySet<string>): Promise<void> {
  const names = await store.list(PREFIX);
  const excess = names.length - Math.max(MAX_HELD_KEY_PACKAGES, made.size);
  if (excess <= 0) return;
  const older: { name: string; notAfter: number }[] = [];
  for (const name of names) {
    if (!made.has(name)) older.push({ name, notAfter: notAfterOf(await store.get(name)) });
  }
  older.sort((a, b) => a.notAfter - b.notAfter);
  for (const { name } of older.slice(0, excess)) await store.delete(name);
}

function notAfterOf(bytes: Uint8Array | undefined): number {
  try {
    return StoredKeyPackage.parse(JSON.parse(new TextDecoder().decode(bytes))).notAfter;
  } catch {
    return -1; // unreadable: the first to go
  }
}

export interface HeldKeyPackage {
  readonly name: string;
  readonly publicPackage: KeyPackage;
  readonly privatePackage: PrivateKeyPackage;
}

/** The stored KeyPackage with this reference, if this device made it and still holds it. */
export async function findKeyPackage(
  store: E2eeStore,
  device: DeviceIdentity,
  ref: Uint8Array,
): Promise<HeldKeyPackage | undefined> {
  const name = PREFIX + hex(ref);
  const bytes = await store.get(name);
  if (bytes === undefined) return undefined;
  let parsed: z.infer<typeof StoredKeyPackage>;
  try {
    parsed = StoredKeyPackage.parse(JSON.parse(new TextDecoder().decode(bytes)));
  } catch {
    return undefined;
  }
  const kpBytes = decodeBase64Url(parsed.kp);
  const init = decodeBase64Url(parsed.init);
  const hpke = decodeBase64Url(parsed.hpke);
  if (kpBytes === undefined || init === undefined || hpke === undefined) return undefined;
  const decoded = decodeKeyPackage(kpBytes, 0);
  if (decoded === undefined) return undefined;
  return {
    name,
    publicPackage: decoded[0],
    privatePackage: {
      initPrivateKey: init,
      hpkePrivateKey: hpke,
      signaturePrivateKey: deviceSigningKey(device),
    },
  };
}

/**
 * Forgets a KeyPackage's private half once a Welcome used it (forward secrecy for that Welcome),
 * except when it is the last one held: the host keeps a device's last KeyPackage as a last
 * resort and may hand it out again, and a Welcome for it must still open.
 */
export async function consumeKeyPackage(store: E2eeStore, name: string): Promise<void> {
  const held = await store.list(PREFIX);
  if (held.length > 1) await store.delete(name);
}

/** Drops expired private halves (the host refuses expired packages, no Welcome can use them). */
export async function pruneKeyPackages(store: E2eeStore, nowMs = Date.now()): Promise<number> {
  const now = Math.floor(nowMs / 1000);
  let dropped = 0;
  for (const name of await store.list(PREFIX)) {
    const notAfter = notAfterOf(await store.get(name)); // unreadable (-1): dropped
    if (notAfter < now) {
      await store.delete(name);
      dropped++;
    }
  }
  return dropped;
}

/** A KeyPackage from its wire text (an MLSMessage of wireformat key_package). */
export function decodeKeyPackageText(data: string): KeyPackage | undefined {
  const bytes = decodeBase64Url(data);
  if (bytes === undefined) return undefined;
  try {
    const decoded = decodeMlsMessage(bytes, 0);
    if (decoded === undefined || decoded[1] !== bytes.length) return undefined;
    const message = decoded[0];
    return message.wireformat === 'mls_key_package' ? message.keyPackage : undefined;
  } catch {
    return undefined;
  }
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}
