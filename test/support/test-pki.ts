import type { KeyObject } from 'node:crypto';
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

export function asAuthority(issuer: Issuer): Authority {
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
      v: 1,
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
