import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeBase64Url } from '../../../src-shared/base64url.ts';
import { nodeBackend } from '../../../src-main/protocol/crypto/node-backend.ts';
import {
  CREDENTIAL_LENGTH,
  loadOrCreateDevice,
  parseCredential,
  personKeyOf,
  rotateDevice,
  verifyCredential,
} from '../../../src-main/e2ee/device-identity.ts';
import { memoryE2eeStore } from '../../../src-main/e2ee/e2ee-store.ts';
import { makeKeyPackages, pruneKeyPackages } from '../../../src-main/e2ee/key-packages.ts';
import { decodePayload, encodePayload, textPayload } from '../../../src-main/e2ee/payload.ts';
import { filePersonPins, memoryPersonPins } from '../../../src-main/e2ee/person-pins.ts';
import { RoomGroup } from '../../../src-main/e2ee/room-group.ts';
import { commitAndDeliver, createRoom, member, members } from './e2ee-fixtures.ts';

let dir: string | undefined;
afterEach(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('device identity', () => {
  it('one person per Parley key, one device per install, a 144-byte person-signed credential', async () => {
    const identity = nodeBackend.generateKeyPair();
    const desktop = await loadOrCreateDevice(memoryE2eeStore(), identity);
    const line = await loadOrCreateDevice(memoryE2eeStore(), identity);
    expect(desktop.personKey).toEqual(line.personKey);
    expect(desktop.personKey).toEqual(personKeyOf(identity).publicKey);
    expect(desktop.deviceText).not.toBe(line.deviceText);
    expect(desktop.deviceText).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(desktop.credential).toHaveLength(CREDENTIAL_LENGTH);
    expect(CREDENTIAL_LENGTH).toBe(144);
    expect(new TextDecoder().decode(desktop.credential.subarray(0, 16))).toBe('PARLEY-DEVICE-V1');
    const parsed = parseCredential(desktop.credential)!;
    expect(parsed.parleyKey).toEqual(identity.publicKey);
    expect(parsed.personKey).toEqual(desktop.personKey);
    expect(verifyCredential(parsed, desktop.deviceKey)).toBe(true);
    expect(verifyCredential(parsed, line.deviceKey)).toBe(false);
    expect(parseCredential(desktop.credential.subarray(1))).toBeUndefined();
    const wrongMagic = Uint8Array.from(desktop.credential);
    wrongMagic[0] = 0x51;
    expect(parseCredential(wrongMagic)).toBeUndefined();
    // The device's private key is not among its enumerable (loggable) properties.
    expect(Object.keys(desktop).sort()).toEqual([
      'credential',
      'deviceKey',
      'deviceText',
      'parleyKey',
      'personKey',
    ]);
    expect(JSON.stringify(desktop)).not.toMatch(/seed|private/i);
  });

  it('keeps its device across restarts and gets a new one on rotation, keeping the old KeyPackages for sessions still on the old device', async () => {
    const identity = nodeBackend.generateKeyPair();
    const store = memoryE2eeStore();
    const first = await loadOrCreateDevice(store, identity);
    expect((await loadOrCreateDevice(store, identity)).deviceText).toBe(first.deviceText);
    const m = await member('x');
    await makeKeyPackages(m.suite, first, store, 3);
    expect(await store.list('kp/')).toHaveLength(3);
    const rotated = await rotateDevice(store, identity);
    expect(rotated.deviceText).not.toBe(first.deviceText);
    expect(rotated.personKey).toEqual(first.personKey);
    expect(await store.list('kp/')).toHaveLength(3);
    expect((await loadOrCreateDevice(store, identity)).deviceText).toBe(rotated.deviceText);
    // A new identity key on the same store: the old device is not reused under the new name.
    const other = nodeBackend.generateKeyPair();
    const renamed = await loadOrCreateDevice(store, other);
    expect(renamed.deviceText).not.toBe(rotated.deviceText);
    expect(renamed.parleyKey).toEqual(other.publicKey);
  });
});

describe('KeyPackages of a device', () => {
  it('a Welcome uses one and deletes it, except the last one left (the host’s last resort)', async () => {
    const [alice, bob] = await members('alice', 'bob');
    await createRoom(alice);
    const kps = await makeKeyPackages(bob.suite, bob.device, bob.store, 2);
    expect(await bob.store.list('kp/')).toHaveLength(2);
    const first = await alice.group!.prepareCommit({ add: [kps[0]!], remove: [] });
    alice.group = first.next;
    first.erase();
    await RoomGroup.join(bob.suite, bob.device, bob.pins, bob.store, first.welcome!);
    expect(await bob.store.list('kp/')).toHaveLength(1);

    // The last one: used by two rooms' Welcomes, kept for both.
    const [carol] = await members('carol');
    await createRoom(carol);
    const second = await carol.group!.prepareCommit({ add: [kps[1]!], remove: [] });
    await RoomGroup.join(bob.suite, bob.device, bob.pins, bob.store, second.welcome!);
    expect(await bob.store.list('kp/')).toHaveLength(1);
    const [dave] = await members('dave');
    await createRoom(dave);
    const third = await dave.group!.prepareCommit({ add: [kps[1]!], remove: [] });
    const joined = await RoomGroup.join(bob.suite, bob.device, bob.pins, bob.store, third.welcome!);
    expect(joined.roster()).toHaveLength(2);
  });

  it('drops expired private halves', async () => {
    const m = await member('m');
    const day = 24 * 3600 * 1000;
    await makeKeyPackages(m.suite, m.device, m.store, 2, Date.now() - 61 * day);
    await makeKeyPackages(m.suite, m.device, m.store, 1);
    expect(await pruneKeyPackages(m.store)).toBe(2);
    expect(await m.store.list('kp/')).toHaveLength(1);
  });

  it('a KeyPackage already in the group, or expired, is left out of a commit', async () => {
    const [alice, bob, carol] = await members('alice', 'bob', 'carol');
    await createRoom(alice);
    await commitAndDeliver(alice, { add: [bob] }, []);
    const [again] = await makeKeyPackages(bob.suite, bob.device, bob.store, 1);
    const [old] = await makeKeyPackages(
      carol.suite,
      carol.device,
      carol.store,
      1,
      Date.now() - 61 * 24 * 3600 * 1000,
    );
    const prepared = await alice.group!.prepareCommit({ add: [again!, old!], remove: [] });
    expect(prepared.skipped).toEqual([again, old]);
  });
});

describe('person pins', () => {
  const a = encodeBase64Url(new Uint8Array(32).fill(1));
  const p1 = encodeBase64Url(new Uint8Array(32).fill(2));
  const p2 = encodeBase64Url(new Uint8Array(32).fill(3));

  it('trust the first person key, flag another, until accepted', async () => {
    const pins = memoryPersonPins();
    expect(pins.check(a, p1)).toBe('new');
    await pins.accept(a, p1);
    expect(pins.check(a, p1)).toBe('same');
    expect(pins.check(a, p2)).toBe('changed');
    await pins.accept(a, p2);
    expect(pins.personOf(a)).toBe(p2);
  });

  it('persist in a 0600 file, merged with what another program pinned meanwhile', async () => {
    dir = mkdtempSync(join(tmpdir(), 'parley-pins-'));
    const file = join(dir, 'member-pins.json');
    const desktop = await filePersonPins(file);
    const line = await filePersonPins(file);
    await desktop.accept(a, p1);
    const b = encodeBase64Url(new Uint8Array(32).fill(9));
    await line.accept(b, p2);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const reopened = await filePersonPins(file);
    expect(reopened.personOf(a)).toBe(p1);
    expect(reopened.personOf(b)).toBe(p2);
    writeFileSync(file, '{"version":1,"pins":{"x":1}}');
    await expect(filePersonPins(file)).rejects.toThrow(/damaged/);
  });
});

describe('the payload envelope', () => {
  it('round-trips a text and refuses anything else', () => {
    const payload = textPayload('msg-00000001', 'hello ✓');
    expect(decodePayload(encodePayload(payload))).toEqual(payload);
    const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
    expect(decodePayload(enc({ ...payload, v: 2 }))).toBeUndefined();
    expect(decodePayload(enc({ ...payload, type: 'edit' }))).toBeUndefined();
    expect(decodePayload(enc({ ...payload, id: 'no spaces allowed' }))).toBeUndefined();
    expect(decodePayload(enc({ ...payload, text: '' }))).toBeUndefined();
    expect(decodePayload(new Uint8Array([0xff, 0xfe]))).toBeUndefined();
    expect(decodePayload(new TextEncoder().encode('{'))).toBeUndefined();
    expect(() => encodePayload(textPayload('msg-00000002', 'x'.repeat(16 * 1024 + 1)))).toThrow();
    expect(decodePayload(enc({ ...payload, text: 'é'.repeat(9000) }))).toBeUndefined();
  });
});
