import { describe, expect, it } from 'vitest';
import { defaultCapabilities, encodeMlsMessage, generateKeyPackageWithKey } from 'ts-mls';
import { decodeBase64Url, encodeBase64Url } from '../../../src-shared/base64url.ts';
import { parleyAuthService } from '../../../src-main/e2ee/client-config.ts';
import { deviceSigningKey } from '../../../src-main/e2ee/device-identity.ts';
import { freshLifetime } from '../../../src-main/e2ee/key-packages.ts';
import { memoryPersonPins } from '../../../src-main/e2ee/person-pins.ts';
import { E2eeError, RoomGroup } from '../../../src-main/e2ee/room-group.ts';
import { commitAndDeliver, createRoom, member, read, say, type Member } from './e2ee-fixtures.ts';

async function room(): Promise<[Member, Member, Member]> {
  const [alice, bob, carol] = await Promise.all([member('alice'), member('bob'), member('carol')]);
  await createRoom(alice);
  await commitAndDeliver(alice, { add: [bob, carol] }, []);
  return [alice, bob, carol];
}

function flip(data: string, at: number): string {
  const bytes = decodeBase64Url(data)!;
  const i = at < 0 ? bytes.length + at : at;
  bytes[i]! ^= 0x01;
  return encodeBase64Url(bytes);
}

describe('what a member refuses', () => {
  it('a tampered ciphertext: an E2eeError, never a crash, and the group still reads on', async () => {
    const [alice, bob] = await room();
    const data = await say(alice, 'original');
    const length = decodeBase64Url(data)!.length;
    for (const at of [-1, -20, Math.floor(length / 2), 60, 50]) {
      const error = await bob.group!.process(flip(data, at)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(E2eeError);
      expect(['tampered', 'malformed']).toContain((error as E2eeError).reason);
    }
    expect((await read(bob, data)).text).toBe('original');
  });

  it('a replay of the same ciphertext', async () => {
    const [alice, bob] = await room();
    const data = await say(alice, 'once');
    expect((await read(bob, data)).text).toBe('once');
    await expect(bob.group!.process(data)).rejects.toMatchObject({ reason: 'replay' });
  });

  it('a message from another group that took the same group id', async () => {
    const [alice, bob] = await room();
    const mallory = await member('mallory');
    mallory.group = await RoomGroup.create(
      mallory.suite,
      mallory.device,
      mallory.pins,
      alice.group!.groupId,
    );
    const other = await member('other');
    await commitAndDeliver(mallory, { add: [other] }, []);
    const data = await say(mallory, 'from the other group');
    const error = await bob.group!.process(data).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(E2eeError);
    expect(['tampered', 'wrong-epoch'], (error as E2eeError).message).toContain(
      (error as E2eeError).reason,
    );
    const different = await member('different');
    await createRoom(different);
    const data2 = await say(different, 'other id');
    await expect(bob.group!.process(data2)).rejects.toMatchObject({ reason: 'wrong-group' });
  });

  it('names the sender by its credential, so the client catches a member posing as another', async () => {
    const [alice, bob, carol] = await room();
    // Carol sends; a host could relay it as alice's `msg` (key = alice). The sender the group
    // reports is the one carol's credential names, which the client compares with msg.key.
    const processed = await bob.group!.process(await say(carol, 'I am alice'));
    if (processed.kind !== 'application') throw new Error('expected a message');
    expect(processed.sender.parleyKey).toBe(encodeBase64Url(carol.identity.publicKey));
    expect(processed.sender.parleyKey).not.toBe(encodeBase64Url(alice.identity.publicKey));
    expect(processed.sender.device).toBe(carol.device.deviceText);
    expect(processed.sender.personKey).toBe(encodeBase64Url(carol.device.personKey));
  });

  it('a commit or message at an epoch the group is not at', async () => {
    const [alice, bob, carol] = await room();
    const { commit } = await commitAndDeliver(alice, { remove: [carol] }, []);
    // Bob has not seen that commit: a message of the new epoch is from the future for him.
    await expect(bob.group!.process(await say(alice, 'epoch 2'))).rejects.toMatchObject({
      reason: 'wrong-epoch',
    });
    const processed = await bob.group!.process(commit);
    bob.group = processed.next;
    await expect(bob.group.process(commit)).rejects.toMatchObject({ reason: 'wrong-epoch' });
  });

  it('garbage and non-messages as malformed', async () => {
    const [alice, bob] = await room();
    for (const data of ['', 'nope!', 'AAAA', encodeBase64Url(new Uint8Array(300))]) {
      await expect(bob.group!.process(data)).rejects.toMatchObject({ reason: 'malformed' });
    }
    const [kp] = await Promise.all([
      import('./e2ee-fixtures.ts').then((f) => f.keyPackageOf(alice)),
    ]);
    await expect(bob.group!.process(kp)).rejects.toMatchObject({ reason: 'malformed' });
  });
});

describe('credentials', () => {
  async function forgedKeyPackage(m: Member): Promise<string> {
    const identity = Uint8Array.from(m.device.credential);
    identity[identity.length - 1]! ^= 1; // the person signature no longer covers this device
    const { publicPackage } = await generateKeyPackageWithKey(
      { credentialType: 'basic', identity },
      defaultCapabilities(),
      freshLifetime(),
      [],
      { signKey: deviceSigningKey(m.device), publicKey: m.device.deviceKey },
      m.suite.impl,
    );
    return encodeBase64Url(
      encodeMlsMessage({
        version: 'mls10',
        wireformat: 'mls_key_package',
        keyPackage: publicPackage,
      }),
    );
  }

  it('the authentication service refuses a bad person signature or a borrowed credential', async () => {
    const [alice, eve] = await Promise.all([member('alice'), member('eve')]);
    const pins = memoryPersonPins();
    const auth = parleyAuthService(pins);
    const credential = { credentialType: 'basic' as const, identity: alice.device.credential };
    expect(await auth.validateCredential(credential, alice.device.deviceKey)).toBe(true);
    expect(pins.personOf(encodeBase64Url(alice.identity.publicKey))).toBe(
      encodeBase64Url(alice.device.personKey),
    );
    // Alice's credential on eve's device key: the person never signed that device.
    expect(await auth.validateCredential(credential, eve.device.deviceKey)).toBe(false);
    const bad = Uint8Array.from(alice.device.credential);
    bad[100]! ^= 1;
    expect(
      await auth.validateCredential(
        { credentialType: 'basic', identity: bad },
        alice.device.deviceKey,
      ),
    ).toBe(false);
    expect(
      await auth.validateCredential(
        { credentialType: 'basic', identity: bad.subarray(0, 143) },
        alice.device.deviceKey,
      ),
    ).toBe(false);
    expect(
      await auth.validateCredential(
        { credentialType: 'x509', certificates: [] },
        alice.device.deviceKey,
      ),
    ).toBe(false);
  });

  it('a KeyPackage with a forged credential is left out of a commit', async () => {
    const [alice, eve] = await Promise.all([member('alice'), member('eve')]);
    await createRoom(alice);
    const forged = await forgedKeyPackage(eve);
    const prepared = await alice.group!.prepareCommit({ add: [forged], remove: [] });
    expect(prepared.skipped).toEqual([forged]);
    expect(prepared.to).toEqual([]);
    expect(prepared.welcome).toBeUndefined();
  });

  it('a changed person key for a pinned Parley key is let in but shows as changed', async () => {
    const [alice, bob] = await Promise.all([member('alice'), member('bob')]);
    await createRoom(alice);
    await commitAndDeliver(alice, { add: [bob] }, []);
    const bobKey = encodeBase64Url(bob.identity.publicKey);
    expect(alice.pins.check(bobKey, encodeBase64Url(bob.device.personKey))).toBe('same');
    const other = encodeBase64Url(new Uint8Array(32).fill(7));
    expect(alice.pins.check(bobKey, other)).toBe('changed');
  });
});

describe('any corruption of a message or a commit', () => {
  it('is an E2eeError (never another exception), and the group reads on afterwards', async () => {
    const [alice, bob, carol] = await room();
    const carolBefore = carol.group!;
    const message = await say(alice, 'intact');
    const { commit } = await commitAndDeliver(alice, { remove: [carol] }, []);
    // bob has seen neither: each corrupted copy is tried against his state at that point.
    const atMessageEpoch = bob.group!;
    const cases: [string, string][] = [];
    for (const data of [message, commit]) {
      const bytes = decodeBase64Url(data)!;
      for (let i = 0; i < 60; i++) {
        const at = Math.floor((i / 60) * bytes.length);
        cases.push([data === message ? 'message' : 'commit', flip(data, at)]);
      }
      for (const cut of [1, 10, bytes.length >> 1, bytes.length - 1]) {
        cases.push(['truncated', encodeBase64Url(bytes.subarray(0, cut))]);
      }
    }
    for (const [kind, data] of cases) {
      const result = await atMessageEpoch.process(data).then(
        (p) => p,
        (e: unknown) => e,
      );
      if (result instanceof E2eeError) continue;
      // A flip in bytes no check covers (e.g. padding) may still open: then it says the same.
      expect(kind, 'only an intact-equivalent input may be accepted').not.toBe('truncated');
      if (result instanceof Error) throw result;
    }
    expect((await read(bob, message)).text).toBe('intact');
    bob.group = (await bob.group!.process(commit)).next;
    expect((await read(bob, await say(alice, 'still fine'))).text).toBe('still fine');
    expect(carolBefore.epoch).toBe(1);
  });
});
