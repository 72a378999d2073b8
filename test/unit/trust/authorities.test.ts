import { afterEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fingerprint } from '../../../src-shared/fingerprint.ts';
import { AuthorityError } from '../../../src-main/trust/authority.ts';
import {
  AUTHORITIES_DIR,
  AuthorityStore,
  authorityView,
} from '../../../src-main/trust/authority-store.ts';
import {
  AuthorityFileError,
  CA_CERT_FILE,
  CA_KEY_FILE,
  initAuthority,
  issueHostCertificate,
  loadAuthority,
} from '../../../src-main/trust/certificate-authority.ts';
import {
  HostCertificateError,
  checkHostChain,
  readCertificateChainPem,
} from '../../../src-main/trust/host-certificate.ts';
import { EXTENDED_KEY_USAGE } from '../../../src-main/trust/extended-key-usage.ts';
import { parseHostName } from '../../../src-main/trust/host-names.ts';
import { keyBindingUri, parseKeyBindingUri } from '../../../src-main/trust/key-binding.ts';
import { verifyHostChain } from '../../../src-main/trust/verify-chain.ts';
import { certificateToPem } from '../../../src-main/trust/x509.ts';
import { KnownHosts } from '../../../src-main/store/known-hosts.ts';
import { DAY, NOW, authority, hostCertificate } from '../../support/test-pki.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'parley-ca-'));
  dirs.push(dir);
  return dir;
}
const mode = (path: string) => statSync(path).mode & 0o777;

describe('a certificate authority on disk', () => {
  it('init writes a CA certificate and a 0600 key; issue binds a host key to its names', async () => {
    const dir = join(tempDir(), 'ca');
    const created = await initAuthority({ dir, name: 'Example Org', now: NOW });
    expect(mode(join(dir, CA_KEY_FILE))).toBe(0o600);
    expect(mode(join(dir, CA_CERT_FILE))).toBe(0o644);
    const ca = created.certificate;
    expect(ca.subject).toBe('CN=Example Org, O=Example Org');
    expect(ca.issuer).toBe(ca.subject);
    expect(ca.basicConstraints).toEqual({ cA: true, pathLength: 0 });
    expect(ca.keyUsage?.keyCertSign).toBe(true);
    expect(ca.criticalExtensions).toEqual(expect.arrayContaining(['2.5.29.19', '2.5.29.15']));
    expect(ca.publicKey).toEqual({ kind: 'rsa', bits: 3072, exponent: 65537n });
    expect(ca.notAfter.getTime() - NOW).toBe(3650 * DAY);
    expect(readFileSync(join(dir, CA_KEY_FILE), 'utf8')).toContain('-----BEGIN PRIVATE KEY-----');

    // Never overwritten.
    await expect(initAuthority({ dir, name: 'Again', now: NOW })).rejects.toThrow(
      /never overwritten/,
    );

    const loaded = await loadAuthority(dir);
    const hostKey = new Uint8Array(randomBytes(32));
    const names = ['chat.example.org', '192.0.2.10'].map((n) => parseHostName(n)!);
    const first = issueHostCertificate({ authority: loaded, names, hostKey, now: NOW });
    const second = issueHostCertificate({ authority: loaded, names, hostKey, now: NOW });
    expect(first.dnsNames).toEqual(['chat.example.org']);
    expect(first.uris).toEqual([keyBindingUri(hostKey)]);
    expect(first.basicConstraints).toEqual({ cA: false });
    expect(first.issuer).toBe(ca.subject);
    expect(first.notAfter.getTime() - NOW).toBe(90 * DAY);
    expect(first.serial).toMatch(/^[0-9A-F]{32}$/);
    expect(first.serial).not.toBe(second.serial);
    const verified = verifyHostChain({
      chain: [first.der],
      authorities: [{ name: 'Example Org', fingerprint: ca.fingerprint, certificate: ca }],
      hostName: '192.0.2.10',
      hostKey,
      now: NOW,
    });
    expect(verified.leaf.fingerprint).toBe(first.fingerprint);
    // Not beyond the authority's own life, nor longer than 397 days.
    expect(() =>
      issueHostCertificate({ authority: loaded, names, hostKey, now: NOW + 3600 * DAY }),
    ).toThrow(/expires on/);
    expect(() =>
      issueHostCertificate({ authority: loaded, names, hostKey, days: 398, now: NOW }),
    ).toThrow(AuthorityFileError);
  });

  it('encrypts the key with a passphrase, and will not issue without the right one', async () => {
    const dir = join(tempDir(), 'ca');
    await initAuthority({ dir, name: 'Secret Org', now: NOW, passphrase: 'correct horse battery' });
    const pem = readFileSync(join(dir, CA_KEY_FILE), 'utf8');
    expect(pem).toMatch(/^-----BEGIN ENCRYPTED PRIVATE KEY-----\n/);
    expect(pem).not.toContain('BEGIN PRIVATE KEY');
    await expect(loadAuthority(dir)).rejects.toThrow(/is encrypted: give its passphrase/);
    await expect(loadAuthority(dir, 'wrong passphrase')).rejects.toThrow(/wrong passphrase\?/);
    const loaded = await loadAuthority(dir, 'correct horse battery');
    expect(loaded.certificate.commonName).toBe('Secret Org');
  });
});

describe('the authorities a client trusts', () => {
  it('imports, lists and removes authorities; an import twice is not an error', async () => {
    const dataDir = tempDir();
    const store = await AuthorityStore.load(dataDir, { now: () => NOW });
    expect(store.list()).toEqual([]);
    const root = authority('Example Org');
    const pem = certificateToPem(root.certificate);
    const { authority: imported, added } = await store.import(pem);
    expect(added).toBe(true);
    expect(imported).toMatchObject({
      name: 'Example Org',
      fingerprint: root.certificate.fingerprint,
    });
    expect(imported.file?.startsWith(join(dataDir, AUTHORITIES_DIR))).toBe(true);
    expect((await store.import(pem)).added).toBe(false);
    expect(authorityView(imported)).toEqual({
      fingerprint: root.certificate.fingerprint,
      name: 'Example Org',
      subject: 'CN=Example Org, O=Example Org',
      notBefore: root.certificate.notBefore.getTime(),
      notAfter: root.certificate.notAfter.getTime(),
    });
    // Another process (or an administrator) sees the same list.
    expect((await AuthorityStore.load(dataDir, { now: () => NOW })).list()).toHaveLength(1);
    const lowercase = root.certificate.fingerprint.replace(/:/g, '').toLowerCase();
    expect((await store.remove(lowercase)).name).toBe('Example Org');
    expect(store.list()).toEqual([]);
    await expect(store.remove(lowercase)).rejects.toBeInstanceOf(AuthorityError);
  });

  it('refuses what is not a usable authority certificate, and a private key', async () => {
    const store = await AuthorityStore.load(tempDir(), { now: () => NOW });
    const root = authority('Example Org');
    const refusal = (pem: string) =>
      store.import(pem).then(
        () => 'accepted',
        (e: Error) => e.message,
      );
    expect(await refusal('hello')).toMatch(/no PEM certificate/);
    const host = hostCertificate(root, new Uint8Array(32).fill(1));
    expect(await refusal(certificateToPem(host))).toMatch(/not a certificate authority/);
    const bundle = certificateToPem(root.certificate) + certificateToPem(host);
    expect(await refusal(bundle)).toMatch(/holds 2 certificates/);
    const withKey = `${certificateToPem(root.certificate)}-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n`;
    expect(await refusal(withKey)).toMatch(/contains a PRIVATE KEY/);
    const expired = authority('Old Org', {
      notBefore: new Date(NOW - 20 * DAY),
      notAfter: new Date(NOW - DAY),
    });
    expect(await refusal(certificateToPem(expired.certificate))).toMatch(/expired/);
    expect(store.list()).toEqual([]);
  });

  it('loads what an administrator put in the folder, and skips (and reports) what it cannot use', async () => {
    const dataDir = tempDir();
    const folder = join(dataDir, AUTHORITIES_DIR);
    mkdirSync(folder);
    writeFileSync(join(folder, 'org.pem'), certificateToPem(authority('Admin Org').certificate));
    writeFileSync(join(folder, 'broken.pem'), 'not a certificate');
    writeFileSync(join(folder, 'notes.txt'), 'ignored');
    const store = await AuthorityStore.load(dataDir, { now: () => NOW });
    expect(store.list().map((a) => a.name)).toEqual(['Admin Org']);
    expect(store.problems).toHaveLength(1);
    expect(store.problems[0]).toContain('broken.pem');
  });
});

describe('the host’s certificate', () => {
  const root = authority('Example Org');
  const hostKey = new Uint8Array(randomBytes(32));

  it('is accepted for the host’s own key, with warnings for what clients will refuse', () => {
    const leaf = hostCertificate(root, hostKey);
    const pem = certificateToPem(leaf) + certificateToPem(root.certificate);
    const chain = readCertificateChainPem(pem, 'host.pem');
    expect(chain).toHaveLength(2);
    const checked = checkHostChain(chain, hostKey, NOW);
    expect(checked.summary).toMatchObject({
      fingerprint: leaf.fingerprint,
      names: ['chat.example.org', '127.0.0.1'],
    });
    expect(checked.warnings).toEqual([]);
    expect(checkHostChain(chain, hostKey, NOW + 89 * DAY).warnings[0]).toMatch(/renew it/);
    expect(checkHostChain(chain, hostKey, NOW + 91 * DAY).warnings[0]).toMatch(/expired/);
    const forClients = hostCertificate(root, hostKey, {
      extendedKeyUsage: [EXTENDED_KEY_USAGE.clientAuth],
    });
    expect(checkHostChain([forClients.der], hostKey, NOW).warnings).toEqual([
      "the host certificate's extendedKeyUsage lacks serverAuth: clients will refuse it",
    ]);
  });

  it('is refused when it binds another key, or no key, or the file holds a private key', () => {
    const other = hostCertificate(root, new Uint8Array(randomBytes(32)));
    expect(() => checkHostChain([other.der], hostKey, NOW)).toThrow(HostCertificateError);
    expect(() => checkHostChain([other.der], hostKey, NOW)).toThrow(
      new RegExp(`this host's key is ${fingerprint(hostKey)}`),
    );
    const unbound = hostCertificate(root, hostKey, { uris: [] });
    expect(() => checkHostChain([unbound.der], hostKey, NOW)).toThrow(/binds no Parley key/);
    expect(() =>
      readCertificateChainPem('-----BEGIN PRIVATE KEY-----\nAA==\n-----END PRIVATE KEY-----', 'x'),
    ).toThrow(/PRIVATE KEY/);
    expect(() => readCertificateChainPem('', 'empty.pem')).toThrow(/no PEM certificate/);
  });
});

describe('key bindings and known hosts', () => {
  it('a binding is one canonical 32-byte key', () => {
    const key = new Uint8Array(randomBytes(32));
    expect(parseKeyBindingUri(keyBindingUri(key))).toEqual(key);
    expect(parseKeyBindingUri('parley-key:' + 'A'.repeat(42))).toBeUndefined();
    expect(parseKeyBindingUri('https://example.org')).toBeUndefined();
  });

  it('known hosts keep the authority’s name, and methods only get stronger', async () => {
    const path = join(tempDir(), 'known-hosts.json');
    const hosts = await KnownHosts.load(path);
    const address = { host: 'chat.example.org', port: 7878 };
    const key = new Uint8Array(randomBytes(32));
    await hosts.pin(address, key, 'first-use');
    expect(await hosts.pin(address, key, 'authority', { authority: 'Example Org' })).toMatchObject({
      method: 'authority',
      authority: 'Example Org',
    });
    expect(await hosts.pin(address, key, 'first-use')).toMatchObject({ method: 'authority' });
    expect((await KnownHosts.load(path)).get(address)).toMatchObject({
      method: 'authority',
      authority: 'Example Org',
    });
    await hosts.replace(address, key, 'invite');
    expect(await hosts.pin(address, key, 'authority', { authority: 'X' })).toMatchObject({
      method: 'invite',
    });
    expect((await KnownHosts.load(path)).get(address)).not.toHaveProperty('authority');
  });
});
