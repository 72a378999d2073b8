import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ED25519_TORSION_SUBGROUP, ed25519 } from '@noble/curves/ed25519.js';
import { bytesToNumberLE, concatBytes, numberToBytesLE } from '@noble/curves/utils.js';
import { sha512 } from '@noble/hashes/sha2.js';
import {
  getCiphersuiteFromName,
  getCiphersuiteImpl,
  nobleCryptoProvider,
  type CiphersuiteImpl,
} from 'ts-mls';
import { loadSuiteWith, SUITE_NAME, type MlsSuite } from '../../../src-main/e2ee/mls-suite.ts';
import { pureNobleProvider } from '../../../src-main/e2ee/noble-provider.ts';
import { commitAndDeliver, createRoom, member, read, say, type Member } from './e2ee-fixtures.ts';

/**
 * The pure noble provider is the fallback for a runtime whose WebCrypto lacks X25519/Ed25519
 * (the probe in mls-suite.ts). These tests take those algorithms away from `crypto.subtle` and
 * check that a room still works on it — and that ts-mls's own "noble" provider would not.
 */

const subtle = globalThis.crypto.subtle;
const CURVES = new Set(['x25519', 'ed25519']);

/** The algorithm name of a WebCrypto argument: a string, `{ name }`, or a CryptoKey. */
function algorithmName(arg: unknown): string {
  if (typeof arg === 'string') return arg.toLowerCase();
  if (typeof arg === 'object' && arg !== null) {
    const named = 'algorithm' in arg ? arg.algorithm : arg;
    if (typeof named === 'object' && named !== null && 'name' in named) {
      return String(named.name).toLowerCase();
    }
  }
  return '';
}

/** Which argument of each SubtleCrypto method names the algorithm. */
const ALGORITHM_ARG = {
  sign: 0,
  verify: 0,
  generateKey: 0,
  deriveBits: 0,
  deriveKey: 0,
  importKey: 2,
  exportKey: 1,
} as const;

/**
 * Makes `crypto.subtle` refuse X25519 and Ed25519 (everything else still works), as a runtime
 * without them would. Returns a counter of refused calls; `vi.restoreAllMocks` undoes it.
 */
function refuseCurves25519(): { refused: number } {
  const seen = { refused: 0 };
  for (const [method, index] of Object.entries(ALGORITHM_ARG)) {
    const name = method as keyof typeof ALGORITHM_ARG;
    const original = subtle[name].bind(subtle) as (...args: unknown[]) => Promise<unknown>;
    vi.spyOn(subtle, name).mockImplementation(((...args: unknown[]) => {
      if (CURVES.has(algorithmName(args[index]))) {
        seen.refused++;
        return Promise.reject(new DOMException('no X25519/Ed25519 here', 'NotSupportedError'));
      }
      return original(...args);
    }) as never);
  }
  return seen;
}

/** Makes every SubtleCrypto method throw: the pure provider must not need any of them. */
function refuseAllOfSubtle(): { calls: number } {
  const seen = { calls: 0 };
  const methods = [
    'encrypt',
    'decrypt',
    'sign',
    'verify',
    'digest',
    'generateKey',
    'deriveKey',
    'deriveBits',
    'importKey',
    'exportKey',
    'wrapKey',
    'unwrapKey',
  ] as const;
  for (const method of methods) {
    vi.spyOn(subtle, method).mockImplementation((() => {
      seen.calls++;
      return Promise.reject(new DOMException('no WebCrypto here', 'NotSupportedError'));
    }) as never);
  }
  return seen;
}

afterEach(() => {
  vi.restoreAllMocks();
});

async function membersOn(suite: MlsSuite, ...names: string[]): Promise<Member[]> {
  return Promise.all(names.map(async (name) => ({ ...(await member(name)), suite })));
}

/** Create, add two, talk, remove one, talk again: what a room does in its first minute. */
async function roomLifecycle([alice, bob, carol]: Member[]): Promise<void> {
  await createRoom(alice!);
  await commitAndDeliver(alice!, { add: [bob!] }, []);
  await commitAndDeliver(bob!, { add: [carol!] }, [alice!]);
  const hello = await say(alice!, 'hello both');
  expect((await read(bob!, hello)).text).toBe('hello both');
  expect((await read(carol!, hello)).text).toBe('hello both');
  expect((await read(alice!, await say(carol!, 'hi alice'))).text).toBe('hi alice');
  await commitAndDeliver(carol!, { remove: [alice!] }, [bob!]);
  expect((await read(bob!, await say(carol!, 'two left'))).text).toBe('two left');
  expect((await read(carol!, await say(bob!, 'indeed'))).text).toBe('indeed');
}

describe('the pure noble provider', () => {
  it('runs a whole room while crypto.subtle refuses X25519 and Ed25519', async () => {
    const suite = await loadSuiteWith('noble');
    const seen = refuseCurves25519();
    await roomLifecycle(await membersOn(suite, 'alice', 'bob', 'carol'));
    expect(seen.refused).toBe(0);
  });

  it('runs a whole room with no WebCrypto at all (AEAD, hash and KDF included)', async () => {
    const suite = await loadSuiteWith('noble');
    const seen = refuseAllOfSubtle();
    await roomLifecycle(await membersOn(suite, 'alice', 'bob', 'carol'));
    expect(seen.calls).toBe(0);
  });

  it("is needed: ts-mls's own noble provider fails the same room without WebCrypto X25519/Ed25519", async () => {
    const impl = await getCiphersuiteImpl(getCiphersuiteFromName(SUITE_NAME), nobleCryptoProvider);
    const seen = refuseCurves25519();
    const crowd = await membersOn({ provider: 'noble', impl }, 'alice', 'bob', 'carol');
    await expect(roomLifecycle(crowd)).rejects.toThrow();
    expect(seen.refused).toBeGreaterThan(0);
  });

  it('is what the probe falls back to when X25519/Ed25519 are missing', async () => {
    refuseCurves25519();
    vi.resetModules(); // a fresh mls-suite.ts: its probe result is cached per process
    const fresh = await import('../../../src-main/e2ee/mls-suite.ts');
    const suite = await fresh.loadSuite();
    expect(suite.provider).toBe('noble');
    await roomLifecycle(await membersOn(suite, 'alice', 'bob', 'carol'));
  });

  it('refuses any suite but suite 1, by name', async () => {
    const p256 = getCiphersuiteFromName('MLS_128_DHKEMP256_AES128GCM_SHA256_P256');
    await expect(pureNobleProvider.getCiphersuiteImpl(p256)).rejects.toThrow(
      /only MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519, not MLS_128_DHKEMP256/,
    );
  });
});

describe('the pure noble and WebCrypto providers together', () => {
  it('share one room: each side creates, adds, removes, and reads the other', async () => {
    const noble = await loadSuiteWith('noble');
    const web = await loadSuiteWith('webcrypto');
    const [alice] = await membersOn(noble, 'alice');
    const [bob, dave] = await membersOn(web, 'bob', 'dave');
    const [carol] = await membersOn(noble, 'carol');
    await roomLifecycle([alice!, bob!, carol!]);
    await commitAndDeliver(bob!, { add: [dave!] }, [carol!]);
    expect((await read(dave!, await say(carol!, 'welcome dave'))).text).toBe('welcome dave');
    expect((await read(carol!, await say(dave!, 'thanks'))).text).toBe('thanks');
  });

  it('agree on HPKE, KEM keys and signatures byte for byte, both ways', async () => {
    const noble = (await loadSuiteWith('noble')).impl;
    const web = (await loadSuiteWith('webcrypto')).impl;
    const ikm = new Uint8Array(32).fill(7);
    const keysOf = (impl: CiphersuiteImpl) => impl.hpke.deriveKeyPair(ikm);
    const [kn, kw] = await Promise.all([keysOf(noble), keysOf(web)]);
    expect(await noble.hpke.exportPublicKey(kn.publicKey)).toEqual(
      await web.hpke.exportPublicKey(kw.publicKey),
    );
    const info = new TextEncoder().encode('info');
    const plaintext = new TextEncoder().encode('a path secret');
    for (const [from, fromKey, to, toKey] of [
      [noble, kn, web, kw],
      [web, kw, noble, kn],
    ] as const) {
      const sealed = await from.hpke.seal(fromKey.publicKey, plaintext, info);
      expect(await to.hpke.open(toKey.privateKey, sealed.enc, sealed.ct, info)).toEqual(plaintext);
      const flipped = sealed.ct.slice();
      flipped[0]! ^= 1;
      await expect(to.hpke.open(toKey.privateKey, sealed.enc, flipped, info)).rejects.toThrow();
    }
    // A key WebCrypto made (PKCS#8) signs on noble; a raw seed signs on WebCrypto; each verifies
    // the other's signatures and rejects a tampered one.
    const message = new TextEncoder().encode('leaf node');
    for (const [maker, signer, verifier] of [
      [web, noble, web],
      [noble, web, noble],
    ] as const) {
      const { signKey, publicKey } = await maker.signature.keygen();
      const signature = await signer.signature.sign(signKey, message);
      expect(await verifier.signature.verify(publicKey, message, signature)).toBe(true);
      const forged = signature.slice();
      forged[40]! ^= 1;
      expect(await verifier.signature.verify(publicKey, message, forged)).toBe(false);
      expect(await signer.signature.verify(publicKey, message, forged)).toBe(false);
    }
  });

  it('refuse the same crafted Ed25519 signature (R with a small-order part)', async () => {
    const noble = (await loadSuiteWith('noble')).impl;
    const web = (await loadSuiteWith('webcrypto')).impl;
    // A signature by the real key holder, but with an order-8 point added to R: the cofactored
    // equation (noble's) accepts it, the cofactorless one (OpenSSL's, BoringSSL's) does not.
    const { scalar, pointBytes: publicKey } = ed25519.utils.getExtendedPublicKey(randomBytes(32));
    const message = new TextEncoder().encode('a commit');
    const order = ed25519.Point.Fn.ORDER;
    const r = bytesToNumberLE(randomBytes(64)) % order;
    const torsion = ed25519.Point.fromHex(ED25519_TORSION_SUBGROUP[1]!);
    const R = ed25519.Point.BASE.multiply(r).add(torsion).toBytes();
    const k = bytesToNumberLE(sha512(concatBytes(R, publicKey, message))) % order;
    const crafted = concatBytes(R, numberToBytesLE((r + k * scalar) % order, 32));
    expect(ed25519.verify(crafted, message, publicKey, { zip215: false })).toBe(true);
    expect(await web.signature.verify(publicKey, message, crafted)).toBe(false);
    expect(await noble.signature.verify(publicKey, message, crafted)).toBe(false);
  });
});

/** Encrypt+decrypt of a 200-byte message, one member to another: a measurement, not a limit. */
describe('throughput (printed, not asserted)', () => {
  it.each(['webcrypto', 'noble'] as const)('%s: 200-byte messages per second', async (which) => {
    const suite = await loadSuiteWith(which);
    const [alice, bob] = await membersOn(suite, 'alice', 'bob');
    await createRoom(alice!);
    await commitAndDeliver(alice!, { add: [bob!] }, []);
    const text = 'x'.repeat(200);
    const rounds = 300;
    const started = performance.now();
    for (let i = 0; i < rounds; i++) await read(bob!, await say(alice!, text));
    const perSecond = Math.round(rounds / ((performance.now() - started) / 1000));
    console.log(`[noble-provider bench] ${which}: ${perSecond} encrypt+decrypt of 200 B per s`);
    expect(perSecond).toBeGreaterThan(0);
  });
});
