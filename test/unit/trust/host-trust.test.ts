import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fingerprint } from '../../../src-shared/fingerprint.ts';
import { afterConnectFailure } from '../../../src-main/client/close-policy.ts';
import {
  HostKeyChangedUnvouched,
  HostKeyUnknown,
  createHostVerifier,
} from '../../../src-main/client/host-trust.ts';
import { HostKeyMismatch } from '../../../src-main/protocol/host-key.ts';
import { KnownHosts } from '../../../src-main/store/known-hosts.ts';
import { AuthorityStore } from '../../../src-main/trust/authority-store.ts';
import { certificateToPem } from '../../../src-main/trust/x509.ts';
import { newKeyPair } from '../../support/loopback.ts';
import {
  DAY,
  NOW,
  asAuthority,
  authority,
  hostCertificate,
  hostInfoWith,
} from '../../support/test-pki.ts';

// The trust decision with certificates: when an authority's word counts, when a pin wins, and
// that a key change vouched for by an authority is accepted AND reported.

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'parley-trust-'));
  dirs.push(dir);
  return dir;
}

const address = { host: 'chat.example.org', port: 7878 };
const root = authority('Example Org');
const authorities = [asAuthority(root)];
const hostKey = () => newKeyPair().publicKey;

async function setup(options: { trustNewHost?: boolean; inviteKey?: Uint8Array } = {}) {
  const knownHosts = await KnownHosts.load(join(tempDir(), 'known-hosts.json'));
  const verifier = createHostVerifier({
    address,
    knownHosts,
    policy: { trustNewHost: options.trustNewHost ?? false },
    authorities,
    now: () => NOW,
    ...(options.inviteKey ? { inviteKey: options.inviteKey } : {}),
  });
  return { knownHosts, verifier };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('accepted');
    },
    (error: unknown) => error,
  );
}

describe('host trust through an authority', () => {
  it('trusts an unknown host whose chain verifies, and pins it with the authority’s name', async () => {
    const { knownHosts, verifier } = await setup();
    const key = hostKey();
    const leaf = hostCertificate(root, key, { hosts: ['chat.example.org'] });
    const trust = await verifier.verify(key, hostInfoWith([leaf]));
    expect(trust).toMatchObject({
      fingerprint: fingerprint(key),
      method: 'authority',
      authority: 'Example Org',
      newlyPinned: true,
      certificate: {
        authority: 'Example Org',
        fingerprint: leaf.fingerprint,
        names: ['chat.example.org'],
      },
    });
    expect(trust).not.toHaveProperty('certificateProblem');
    expect(knownHosts.get(address)).toMatchObject({
      key,
      method: 'authority',
      authority: 'Example Org',
    });
    const file = JSON.parse(readFileSync(knownHosts.path, 'utf8')) as {
      hosts: Record<string, unknown>;
    };
    expect(file.hosts['chat.example.org:7878']).toMatchObject({
      method: 'authority',
      authority: 'Example Org',
    });
    // Next time it is a known host; the certificate still shows.
    const again = await verifier.verify(key, hostInfoWith([leaf]));
    expect(again).toMatchObject({ method: 'authority', newlyPinned: false });
    expect(again.certificate?.authority).toBe('Example Org');
  });

  it('falls back to the usual rules when the chain does not verify, saying which check failed', async () => {
    const key = hostKey();
    const expired = hostCertificate(root, key, {
      hosts: ['chat.example.org'],
      notBefore: new Date(NOW - 100 * DAY),
      notAfter: new Date(NOW - DAY),
    });
    const refusing = await setup();
    const error = await rejection(refusing.verifier.verify(key, hostInfoWith([expired])));
    expect(error).toBeInstanceOf(HostKeyUnknown);
    expect((error as HostKeyUnknown).certificateProblem?.code).toBe('certificate-expired');
    expect((error as HostKeyUnknown).message).toContain('its certificate was not accepted');
    expect(refusing.knownHosts.get(address)).toBeUndefined();

    const tofu = await setup({ trustNewHost: true });
    const wrongName = hostCertificate(root, key, { hosts: ['other.example.org'] });
    const trust = await tofu.verifier.verify(key, hostInfoWith([wrongName]));
    expect(trust).toMatchObject({
      method: 'first-use',
      newlyPinned: true,
      certificateProblem: { code: 'certificate-name-mismatch' },
    });
  });

  it('accepts a changed key vouched for by a valid certificate, without a warning, and reports it', async () => {
    const { knownHosts, verifier } = await setup();
    const [oldKey, newKey] = [hostKey(), hostKey()];
    await knownHosts.pin(address, oldKey, 'first-use');
    const leaf = hostCertificate(root, newKey, { hosts: ['chat.example.org'] });
    const trust = await verifier.verify(newKey, hostInfoWith([leaf]));
    expect(trust).toMatchObject({
      fingerprint: fingerprint(newKey),
      method: 'authority',
      authority: 'Example Org',
      newlyPinned: true,
      replacedFingerprint: fingerprint(oldKey),
      certificate: { authority: 'Example Org' },
    });
    expect(knownHosts.get(address)).toMatchObject({ key: newKey, method: 'authority' });
    // Reported once: the next connection is an ordinary one.
    expect(await verifier.verify(newKey, hostInfoWith([leaf]))).not.toHaveProperty(
      'replacedFingerprint',
    );
  });

  it('still refuses a changed key without a valid certificate, and never re-pins it', async () => {
    const { knownHosts, verifier } = await setup({ trustNewHost: true });
    const [oldKey, newKey] = [hostKey(), hostKey()];
    await knownHosts.pin(address, oldKey, 'first-use');

    const bare = await rejection(verifier.verify(newKey, hostInfoWith([])));
    expect(bare).toBeInstanceOf(HostKeyMismatch);
    expect(bare).not.toBeInstanceOf(HostKeyChangedUnvouched);

    // A certificate for the OLD key does not vouch for the new one.
    const stale = hostCertificate(root, oldKey, { hosts: ['chat.example.org'] });
    const error = await rejection(verifier.verify(newKey, hostInfoWith([stale])));
    expect(error).toBeInstanceOf(HostKeyChangedUnvouched);
    expect(error).toBeInstanceOf(HostKeyMismatch);
    expect(error).toMatchObject({
      expectedFingerprint: fingerprint(oldKey),
      actualFingerprint: fingerprint(newKey),
      certificateProblem: { code: 'certificate-key-mismatch' },
    });
    // The session turns it into a fatal that carries the problem.
    expect(afterConnectFailure(error)).toMatchObject({
      kind: 'fatal',
      fatal: {
        code: 'host-key-mismatch',
        certificateProblem: { code: 'certificate-key-mismatch' },
      },
    });
    // From an authority not imported: refused too.
    const stranger = authority('Stranger', { key: 2 });
    const foreign = hostCertificate(stranger, newKey, { hosts: ['chat.example.org'] });
    expect(await rejection(verifier.verify(newKey, hostInfoWith([foreign])))).toMatchObject({
      certificateProblem: { code: 'certificate-unknown-authority' },
    });
    expect(knownHosts.get(address)?.key).toEqual(oldKey);
  });

  it('an invite wins: its key or nothing, whatever certificate comes along', async () => {
    const [invited, other] = [hostKey(), hostKey()];
    const { knownHosts, verifier } = await setup({ inviteKey: invited });
    const leaf = hostCertificate(root, other, { hosts: ['chat.example.org'] });
    expect(await rejection(verifier.verify(other, hostInfoWith([leaf])))).toBeInstanceOf(
      HostKeyMismatch,
    );
    expect(knownHosts.get(address)).toBeUndefined();
    const invitedLeaf = hostCertificate(root, invited, { hosts: ['chat.example.org'] });
    expect(await verifier.verify(invited, hostInfoWith([invitedLeaf]))).toMatchObject({
      method: 'invite',
    });
  });

  it('a pinned key stays trusted when its certificate fails, with the problem shown', async () => {
    const { knownHosts, verifier } = await setup();
    const key = hostKey();
    await knownHosts.pin(address, key, 'first-use');
    const wrongName = hostCertificate(root, key, { hosts: ['elsewhere.example.org'] });
    expect(await verifier.verify(key, hostInfoWith([wrongName]))).toMatchObject({
      method: 'first-use',
      certificateProblem: { code: 'certificate-name-mismatch' },
    });
    // A valid one upgrades the pin's method; an invite pin stays an invite pin.
    const good = hostCertificate(root, key, { hosts: ['chat.example.org'] });
    expect(await verifier.verify(key, hostInfoWith([good]))).toMatchObject({
      method: 'authority',
      authority: 'Example Org',
    });
    await knownHosts.replace(address, key, 'invite');
    expect(await verifier.verify(key, hostInfoWith([good]))).toMatchObject({
      method: 'invite',
      certificate: { authority: 'Example Org' },
    });
  });

  it('reads the authorities from the store at each check, so an import takes effect at once', async () => {
    const dataDir = tempDir();
    const store = await AuthorityStore.load(dataDir, { now: () => NOW });
    const knownHosts = await KnownHosts.load(join(dataDir, 'known-hosts.json'));
    const verifier = createHostVerifier({
      address,
      knownHosts,
      policy: { trustNewHost: false },
      authorities: store,
      now: () => NOW,
    });
    const key = hostKey();
    const info = hostInfoWith([hostCertificate(root, key, { hosts: ['chat.example.org'] })]);
    expect(await rejection(verifier.verify(key, info))).toMatchObject({
      certificateProblem: { code: 'certificate-unknown-authority' },
    });
    await store.import(certificateToPem(root.certificate));
    expect(await verifier.verify(key, info)).toMatchObject({ method: 'authority' });
  });

  it('ignores host info it cannot read and works without one, as before', async () => {
    const { verifier } = await setup({ trustNewHost: true });
    const key = hostKey();
    expect(await verifier.verify(key, new TextEncoder().encode('not json'))).toMatchObject({
      method: 'first-use',
    });
    expect(await verifier.verify(key)).toMatchObject({ method: 'first-use', newlyPinned: false });
  });
});
