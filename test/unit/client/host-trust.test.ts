import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fingerprint } from '../../../src-shared/fingerprint.ts';
import {
  HostKeyUnknown,
  createHostVerifier,
  expectedKeyFrom,
} from '../../../src-main/client/host-trust.ts';
import { HostKeyMismatch } from '../../../src-main/protocol/host-key.ts';
import { KnownHosts } from '../../../src-main/store/known-hosts.ts';
import { newKeyPair } from '../../support/loopback.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function knownHosts(): Promise<KnownHosts> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-trust-'));
  dirs.push(dir);
  return KnownHosts.load(join(dir, 'known-hosts.json'));
}

const address = { host: '127.0.0.1', port: 7878 };
const hostKey = () => newKeyPair().publicKey;

describe('host trust', () => {
  it('an invite pins its key before anything else and records it', async () => {
    const known = await knownHosts();
    const key = hostKey();
    const verifier = createHostVerifier({
      address,
      inviteKey: key,
      knownHosts: known,
      policy: { trustNewHost: false },
    });
    expect(await verifier.verify(key)).toMatchObject({
      fingerprint: fingerprint(key),
      method: 'invite',
      newlyPinned: true,
    });
    expect(known.get(address)).toMatchObject({ key, method: 'invite' });
    expect((await verifier.verify(key)).newlyPinned).toBe(false);
  });

  it('an invite refuses any other key, even with trustNewHost', async () => {
    const known = await knownHosts();
    const [invited, presented] = [hostKey(), hostKey()];
    const verifier = createHostVerifier({
      address,
      inviteKey: invited,
      knownHosts: known,
      policy: { trustNewHost: true },
    });
    const error = await verifier.verify(presented).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HostKeyMismatch);
    expect(error).toMatchObject({
      expectedFingerprint: fingerprint(invited),
      actualFingerprint: fingerprint(presented),
    });
    // Not "the key changed": the link the user followed does not match this host.
    expect(expectedKeyFrom(error as HostKeyMismatch)).toBe('invite');
    expect((error as Error).message).toMatch(/does not match the invite link/);
    expect(known.get(address)).toBeUndefined();
  });

  it('an invite replaces an older pin for the address, and says so once', async () => {
    const known = await knownHosts();
    const [old, invited] = [hostKey(), hostKey()];
    await known.pin(address, old, 'first-use');
    const verifier = createHostVerifier({
      address,
      inviteKey: invited,
      knownHosts: known,
      policy: { trustNewHost: false },
    });
    expect(await verifier.verify(invited)).toMatchObject({
      method: 'invite',
      newlyPinned: true,
      replacedFingerprint: fingerprint(old),
    });
    expect(known.get(address)?.key).toEqual(invited);
    expect(await verifier.verify(invited)).not.toHaveProperty('replacedFingerprint');
  });

  it('without an invite, a known key must match and is never overwritten', async () => {
    const known = await knownHosts();
    const [pinned, impostor] = [hostKey(), hostKey()];
    await known.pin(address, pinned, 'invite');
    const verifier = createHostVerifier({
      address,
      knownHosts: known,
      policy: { trustNewHost: true },
    });
    expect(await verifier.verify(pinned)).toMatchObject({ method: 'invite', newlyPinned: false });
    const error = await verifier.verify(impostor).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HostKeyMismatch);
    expect(expectedKeyFrom(error as HostKeyMismatch)).toBe('pinned');
    expect((error as Error).message).toMatch(/key has changed/);
    expect(known.get(address)?.key).toEqual(pinned);
  });

  it('an unknown host is refused with its fingerprint unless the policy trusts it', async () => {
    const key = hostKey();
    const refusing = createHostVerifier({
      address,
      knownHosts: await knownHosts(),
      policy: { trustNewHost: false },
    });
    const error = await refusing.verify(key).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HostKeyUnknown);
    expect(error).toMatchObject({ fingerprint: fingerprint(key), code: 'host-key-unknown' });
    expect(refusing.canConfirm).toBe(false);
    expect(await refusing.confirm(error as HostKeyUnknown)).toBe(false);

    const known = await knownHosts();
    const trusting = createHostVerifier({
      address,
      knownHosts: known,
      policy: { trustNewHost: true },
    });
    expect(await trusting.verify(key)).toMatchObject({ method: 'first-use', newlyPinned: true });
    expect(known.get(address)).toMatchObject({ key, method: 'first-use' });
  });

  it('asks a person outside the handshake and pins exactly the key that was shown', async () => {
    const known = await knownHosts();
    const key = hostKey();
    const ask = vi.fn(async () => true);
    const verifier = createHostVerifier({
      address,
      knownHosts: known,
      policy: { confirmNewHost: ask },
    });
    const unknown = (await verifier.verify(key).catch((e: unknown) => e)) as HostKeyUnknown;
    expect(unknown).toBeInstanceOf(HostKeyUnknown);
    expect(ask).not.toHaveBeenCalled(); // verify never prompts: the host is waiting
    expect(await verifier.confirm(unknown)).toBe(true);
    expect(ask).toHaveBeenCalledWith(fingerprint(key), address);
    expect(await verifier.verify(key)).toMatchObject({ method: 'first-use', newlyPinned: true });
    await expect(verifier.verify(hostKey())).rejects.toBeInstanceOf(HostKeyMismatch);
  });

  it('a "no" pins nothing', async () => {
    const known = await knownHosts();
    const verifier = createHostVerifier({
      address,
      knownHosts: known,
      policy: { confirmNewHost: async () => false },
    });
    const unknown = (await verifier.verify(hostKey()).catch((e: unknown) => e)) as HostKeyUnknown;
    expect(await verifier.confirm(unknown)).toBe(false);
    expect(known.entries()).toEqual([]);
  });
});
