import { spawnSync } from 'node:child_process';
import { type KeyObject, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Authority } from '../../src-main/trust/authority.ts';
import { parseHostName } from '../../src-main/trust/host-names.ts';
import { keyBindingUri } from '../../src-main/trust/key-binding.ts';
import {
  type Certificate,
  type CertificateSpec,
  type Signer,
  createCertificate,
  displayName,
  generateRsaKeyPair,
  parseCertificatesPem,
} from '../../src-main/trust/x509.ts';

// Certificates the tests make themselves: an authority, intermediates and host certificates,
// each with whatever defect a test needs. RSA-2048 keys are made once per test file (slow).

export const DAY = 86_400_000;
export const NOW = Date.UTC(2026, 4, 1, 12, 0, 0);

export interface Issuer {
  readonly certificate: Certificate;
  readonly privateKey: KeyObject;
}

const keys: { publicKey: KeyObject; privateKey: KeyObject }[] = [];
/** A pool of RSA-2048 keys, generated on first use and reused (a test never needs many). */
export function rsaKey(index: number): { publicKey: KeyObject; privateKey: KeyObject } {
  while (keys.length <= index) keys.push(generateRsaKeyPair(2048));
  return keys[index]!;
}

export function authority(
  name = 'Example Org',
  options: Partial<CertificateSpec> & { key?: number; issuer?: Signer } = {},
): Issuer {
  const key = rsaKey(options.key ?? 0);
  const certificate = createCertificate(
    {
      subject: { commonName: name, organization: name },
      publicKey: key.publicKey,
      notBefore: new Date(NOW - 365 * DAY),
      notAfter: new Date(NOW + 3650 * DAY),
      basicConstraints: { cA: true },
      keyUsage: { keyCertSign: true, cRLSign: true },
      ...options,
    },
    options.issuer ?? { privateKey: key.privateKey },
  );
  return { certificate, privateKey: key.privateKey };
}

export function hostCertificate(
  issuer: Issuer,
  hostKey: Uint8Array,
  options: Partial<CertificateSpec> & { hosts?: string[]; key?: number } = {},
): Certificate {
  const hosts = options.hosts ?? ['chat.example.org', '127.0.0.1'];
  return createCertificate(
    {
      subject: { commonName: hosts[0] ?? 'host' },
      publicKey: rsaKey(options.key ?? 3).publicKey,
      notBefore: new Date(NOW - DAY),
      notAfter: new Date(NOW + 90 * DAY),
      basicConstraints: { cA: false },
      names: hosts.map((h) => parseHostName(h)!),
      uris: [keyBindingUri(hostKey)],
      ...options,
    },
    issuer,
  );
}

export function asAuthority(issuer: Pick<Issuer, 'certificate'>): Authority {
  return {
    name: displayName(issuer.certificate),
    fingerprint: issuer.certificate.fingerprint,
    certificate: issuer.certificate,
  };
}

/** Host info (message 2's payload) carrying `chain`, as a host would send it. */
export function hostInfoWith(chain: readonly Certificate[]): Uint8Array {
  return new TextEncoder().encode(
    JSON.stringify({
      v: 5,
      name: 'Test host',
      software: 'parley/test',
      rooms: ['lobby'],
      limits: { maxTextBytes: 16384, messagesPerSecond: 10 },
      ...(chain.length > 0
        ? { certs: chain.map((c) => Buffer.from(c.der).toString('base64')) }
        : {}),
    }),
  );
}

// ── ECDSA (and other) authorities, made by the openssl CLI ───────────────────────────────
// node-forge (which `parley ca` issues with) writes RSA only; organisations' CAs are often
// ECDSA. These are made as such an organisation would, with openssl, at test time: keys live in
// a temporary folder the caller removes. OpenSSL 3.0 cannot backdate, so they are valid from
// now: check them with `now: Date.now()`.

export type OpensslKey = 'P-256' | 'P-384' | 'P-521' | 'Ed25519' | 'RSA-2048';

export interface OpensslIssuer {
  readonly certificate: Certificate;
  readonly certFile: string;
  readonly keyFile: string;
}

function openssl(args: string[]): void {
  const result = spawnSync('openssl', args, { encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(`openssl ${args[0]} failed: ${result.stderr || result.error?.message}`);
  }
}

let files = 0;
function opensslKey(dir: string, key: OpensslKey): string {
  const file = join(dir, `key-${++files}.pem`);
  const algorithm =
    key === 'Ed25519'
      ? ['-algorithm', 'ED25519']
      : key === 'RSA-2048'
        ? ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048']
        : ['-algorithm', 'EC', '-pkeyopt', `ec_paramgen_curve:${key}`];
  openssl(['genpkey', ...algorithm, '-out', file]);
  return file;
}

function readCertificate(file: string): Certificate {
  const [certificate] = parseCertificatesPem(readFileSync(file, 'utf8'), file);
  if (!certificate) throw new Error(`${file} holds no certificate`);
  return certificate;
}

/** Signs a certificate for `keyFile` with `issuer` (or itself), with these extension lines. */
function opensslSign(
  dir: string,
  subject: string,
  keyFile: string,
  extensions: readonly string[],
  issuer: OpensslIssuer | undefined,
  options: { days?: number; digest?: string },
): string {
  const n = ++files;
  const out = join(dir, `cert-${n}.pem`);
  const extFile = join(dir, `ext-${n}.cnf`);
  writeFileSync(extFile, `${extensions.join('\n')}\n`);
  const csr = join(dir, `req-${n}.csr`);
  openssl(['req', '-new', '-key', keyFile, '-subj', subject, '-out', csr]);
  const digest = options.digest ? [`-${options.digest}`] : [];
  openssl([
    'x509',
    '-req',
    '-in',
    csr,
    ...(issuer ? ['-CA', issuer.certFile, '-CAkey', issuer.keyFile] : ['-signkey', keyFile]),
    '-days',
    String(options.days ?? 90),
    ...digest,
    '-set_serial',
    `0x${randomBytes(16).toString('hex').replace(/^./, '4')}`,
    '-extfile',
    extFile,
    '-out',
    out,
  ]);
  return out;
}

/** A CA (self-signed, or issued by `issuer`) with a key of the given algorithm. */
export function opensslAuthority(
  dir: string,
  name: string,
  key: OpensslKey,
  options: { issuer?: OpensslIssuer; extensions?: readonly string[]; digest?: string } = {},
): OpensslIssuer {
  const keyFile = opensslKey(dir, key);
  const certFile = opensslSign(
    dir,
    `/CN=${name}/O=${name}`,
    keyFile,
    [
      'basicConstraints = critical, CA:TRUE',
      'keyUsage = critical, keyCertSign, cRLSign',
      'subjectKeyIdentifier = hash',
      ...(options.issuer ? ['authorityKeyIdentifier = keyid'] : []),
      ...(options.extensions ?? []),
    ],
    options.issuer,
    { days: 3650, ...(options.digest ? { digest: options.digest } : {}) },
  );
  return { certificate: readCertificate(certFile), certFile, keyFile };
}

/** A host certificate from an openssl authority, binding `hostKey` for `hosts`. */
export function opensslHostCertificate(
  dir: string,
  issuer: OpensslIssuer,
  hostKey: Uint8Array,
  options: {
    hosts?: readonly string[];
    key?: OpensslKey;
    extensions?: readonly string[];
    digest?: string;
  } = {},
): { certificate: Certificate; certFile: string } {
  const hosts = options.hosts ?? ['chat.example.org', '127.0.0.1'];
  const names = hosts.map((h) => (parseHostName(h)?.kind === 'ip' ? `IP:${h}` : `DNS:${h}`));
  const certFile = opensslSign(
    dir,
    `/CN=${hosts[0] ?? 'host'}`,
    opensslKey(dir, options.key ?? 'P-256'),
    [
      'basicConstraints = critical, CA:FALSE',
      `subjectAltName = ${[...names, `URI:${keyBindingUri(hostKey)}`].join(', ')}`,
      'authorityKeyIdentifier = keyid',
      ...(options.extensions ?? []),
    ],
    issuer,
    options.digest ? { digest: options.digest } : {},
  );
  return { certificate: readCertificate(certFile), certFile };
}
