import { describe, expect, it } from 'vitest';
import { decodeBase64Url, encodeBase64Url } from '../../../src-shared/base64url.ts';
import { checkKeyPackage, inspectMessage } from '../../../src-main/e2ee/host-checks.ts';
import { makeKeyPackages } from '../../../src-main/e2ee/key-packages.ts';
import { commitAndDeliver, createRoom, keyPackageOf, member, say } from './e2ee-fixtures.ts';

const DAY = 24 * 3600 * 1000;

describe('what the host reads of MLS data', () => {
  it('reads group, epoch and content type of messages and commits, the kind of the rest', async () => {
    const [alice, bob] = await Promise.all([member('alice'), member('bob')]);
    await createRoom(alice);
    const groupId = encodeBase64Url(alice.group!.groupId);
    const { commit, welcome } = await commitAndDeliver(alice, { add: [bob] }, []);
    expect(inspectMessage(commit)).toEqual({
      wire: 'public',
      groupId,
      epoch: 0,
      content: 'commit',
    });
    expect(inspectMessage(welcome!)).toEqual({ wire: 'welcome' });
    expect(inspectMessage(await keyPackageOf(bob))).toEqual({ wire: 'key-package' });
    expect(inspectMessage(await say(bob, 'hi'))).toEqual({
      wire: 'private',
      groupId,
      epoch: 1,
      content: 'application',
    });
  });

  it('says undefined, never throws, for garbage and truncated data', async () => {
    const [alice, bob] = await Promise.all([member('alice'), member('bob')]);
    await createRoom(alice);
    const { commit } = await commitAndDeliver(alice, { add: [bob] }, []);
    const message = await say(alice, 'hello');
    const samples = [
      '',
      'AA',
      '!!!not base64',
      'A'.repeat(70_000),
      encodeBase64Url(new Uint8Array(40)),
    ];
    for (const data of [commit, message]) {
      const bytes = decodeBase64Url(data)!;
      for (const cut of [1, 2, 3, 4, 5, 8, 20])
        samples.push(encodeBase64Url(bytes.subarray(0, cut)));
      samples.push(encodeBase64Url(bytes.subarray(0, bytes.length - 1)));
    }
    // A commit with one byte cut off, or one appended, is not a commit.
    samples.push(commit + 'AA');
    for (const data of samples) expect(inspectMessage(data), data.slice(0, 40)).toBeUndefined();
    for (let i = 0; i < 300; i++) {
      const random = crypto.getRandomValues(new Uint8Array(1 + (i % 90)));
      random[0] = 0;
      random[1] = 1; // mls10, then a random wireformat and body
      expect(() => inspectMessage(encodeBase64Url(random))).not.toThrow();
    }
  });
});

describe('KeyPackages the host accepts (kp-publish)', () => {
  it('accepts the connection’s own device’s, refuses another key’s, another device’s, expired and over-long ones', async () => {
    const [alice, mallory] = await Promise.all([member('alice'), member('mallory')]);
    const now = Date.now();
    const own = { parleyKey: alice.identity.publicKey, device: alice.device.deviceText, now };
    const [kp] = await makeKeyPackages(alice.suite, alice.device, alice.store, 1, now);
    expect(await checkKeyPackage(alice.suite, kp!, own)).toEqual({ ok: true });

    const [other] = await makeKeyPackages(mallory.suite, mallory.device, mallory.store, 1, now);
    expect(await checkKeyPackage(alice.suite, other!, own)).toEqual({
      ok: false,
      reason: 'another Parley key',
    });
    // Same person and Parley key, another device (a second install of alice).
    const aliceLaptop = await member('alice-laptop', { identity: alice.identity });
    const [laptop] = await makeKeyPackages(
      aliceLaptop.suite,
      aliceLaptop.device,
      aliceLaptop.store,
      1,
      now,
    );
    expect(await checkKeyPackage(alice.suite, laptop!, own)).toEqual({
      ok: false,
      reason: 'another device',
    });

    const [old] = await makeKeyPackages(alice.suite, alice.device, alice.store, 1, now - 61 * DAY);
    expect(await checkKeyPackage(alice.suite, old!, own)).toEqual({ ok: false, reason: 'expired' });
    // Made "in the future": valid for 60 days from a start 40 days ahead = 100 days from now.
    const [long] = await makeKeyPackages(alice.suite, alice.device, alice.store, 1, now + 40 * DAY);
    expect((await checkKeyPackage(alice.suite, long!, own)).ok).toBe(false);

    expect(await checkKeyPackage(alice.suite, 'garbage', own)).toEqual({
      ok: false,
      reason: 'not a KeyPackage',
    });
    const bytes = decodeBase64Url(kp!)!;
    bytes[bytes.length - 5]! ^= 1; // inside the KeyPackage's signature
    expect((await checkKeyPackage(alice.suite, encodeBase64Url(bytes), own)).ok).toBe(false);
  });
});
