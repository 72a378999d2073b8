import { afterAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuthorityError, parseAuthorityPem } from '../../../src-main/trust/authority.ts';
import { CertificateRejected } from '../../../src-main/trust/certificate-error.ts';
import { checkHostChain } from '../../../src-main/trust/host-certificate.ts';
import { verifyHostChain } from '../../../src-main/trust/verify-chain.ts';
import type { Certificate } from '../../../src-main/trust/x509.ts';
import {
  type OpensslIssuer,
  asAuthority,
  opensslAuthority,
  opensslHostCertificate,
} from '../../support/test-pki.ts';

// Organisations' authorities with ECDSA keys (P-256, P-384), made by openssl as they would
// make them: imported, and their chains verified (by Node's X.509 code), with every check the
// RSA chains get. Keys and curves Parley does not accept are refused by name, not by OID.

const dir = mkdtempSync(join(tmpdir(), 'parley-ecdsa-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const hostKey = new Uint8Array(randomBytes(32));
const root = opensslAuthority(dir, 'Example EC Org', 'P-384');
const intermediate = opensslAuthority(dir, 'Example EC Hosts', 'P-256', { issuer: root });

function check(
  chain: readonly Certificate[] | readonly Uint8Array[],
  options: { hostName?: string; authority?: OpensslIssuer } = {},
) {
  return verifyHostChain({
    chain: chain.map((c) => (c instanceof Uint8Array ? c : c.der)),
    authorities: [asAuthority(options.authority ?? root)],
    hostName: options.hostName ?? 'chat.example.org',
    hostKey,
    now: Date.now(),
  });
}

function refusal(run: () => unknown): CertificateRejected {
  try {
    run();
  } catch (error) {
    if (error instanceof CertificateRejected) return error;
    throw error;
  }
  throw new Error('the chain was accepted');
}

const pem = (issuer: OpensslIssuer) => readFileSync(issuer.certFile, 'utf8');

describe('ECDSA authorities', () => {
  it('are imported (P-256 and P-384), named by their algorithm', () => {
    const imported = parseAuthorityPem(pem(root), { now: Date.now(), refuseExpired: true });
    expect(imported.name).toBe('Example EC Org');
    expect(imported.certificate.publicKey).toEqual({ kind: 'ec', curve: 'P-384' });
    expect(imported.certificate.signatureAlgorithmName).toBe('ECDSA with SHA-256');
    const p256 = opensslAuthority(dir, 'P-256 Org', 'P-256');
    expect(parseAuthorityPem(pem(p256), { now: Date.now() }).certificate.publicKey).toEqual({
      kind: 'ec',
      curve: 'P-256',
    });
  });

  it('refuse a curve or algorithm Parley does not accept, by its name', () => {
    for (const [key, name] of [
      ['P-521', 'ECDSA P-521'],
      ['Ed25519', 'Ed25519'],
    ] as const) {
      const authority = opensslAuthority(dir, `${key} Org`, key);
      let message = '';
      try {
        parseAuthorityPem(pem(authority), { now: Date.now() });
      } catch (error) {
        expect(error).toBeInstanceOf(AuthorityError);
        message = (error as Error).message;
      }
      expect(message).toContain(`${name} is not supported`);
      expect(message).toContain('ECDSA P-256 or P-384');
      expect(message).not.toMatch(/OID|\d+\.\d+\.\d+\.\d+/);
    }
  });

  it('vouch for a host through an ECDSA intermediate, for an ECDSA host certificate', () => {
    const leaf = opensslHostCertificate(dir, intermediate, hostKey, {
      extensions: ['extendedKeyUsage = serverAuth'],
    }).certificate;
    const verified = check([leaf, intermediate.certificate]);
    expect(verified.authority.name).toBe('Example EC Org');
    expect(verified.path.map((c) => c.commonName)).toEqual([
      'chat.example.org',
      'Example EC Hosts',
    ]);
    expect(check([leaf, intermediate.certificate], { hostName: '127.0.0.1' })).toBeTruthy();
    // Mixed: an RSA host certificate under the P-384 root, SHA-384 signature.
    const rsaLeaf = opensslHostCertificate(dir, root, hostKey, {
      key: 'RSA-2048',
      digest: 'sha384',
    });
    expect(rsaLeaf.certificate.signatureAlgorithmName).toBe('ECDSA with SHA-384');
    expect(check([rsaLeaf.certificate]).leaf.fingerprint).toBe(rsaLeaf.certificate.fingerprint);
    // The host itself starts with such a chain.
    expect(
      checkHostChain([leaf.der, intermediate.certificate.der], hostKey, Date.now()).warnings,
    ).toEqual([]);
  });

  it('still get every check: names, key binding, purpose, forged and tampered signatures', () => {
    const leaf = opensslHostCertificate(dir, root, hostKey).certificate;
    expect(refusal(() => check([leaf], { hostName: 'evil.example.org' })).code).toBe(
      'certificate-name-mismatch',
    );
    const other = new Uint8Array(randomBytes(32));
    const forOther = opensslHostCertificate(dir, root, other).certificate;
    expect(refusal(() => check([forOther])).code).toBe('certificate-key-mismatch');
    const forCode = opensslHostCertificate(dir, root, hostKey, {
      extensions: ['extendedKeyUsage = codeSigning'],
    }).certificate;
    expect(refusal(() => check([forCode])).code).toBe('certificate-wrong-purpose');

    // A flipped bit in the ECDSA signature.
    const tampered = leaf.der.slice();
    tampered[tampered.length - 5] = (tampered[tampered.length - 5] ?? 0) ^ 0x01;
    expect(refusal(() => check([tampered])).code).toBe('certificate-bad-signature');
    // Another P-384 key that claims the authority's name.
    const lookalike = opensslAuthority(dir, 'Example EC Org', 'P-384');
    const forged = opensslHostCertificate(dir, lookalike, hostKey).certificate;
    // Refused whether it comes alone or with its self-signed lookalike authority.
    for (const chain of [[forged], [forged, lookalike.certificate]]) {
      expect(['certificate-bad-signature', 'certificate-unknown-authority']).toContain(
        refusal(() => check(chain)).code,
      );
    }
  });

  it('refuse an intermediate the host sends with an unsupported curve, by name', () => {
    const p521 = opensslAuthority(dir, 'P-521 Hosts', 'P-521', { issuer: root });
    const leaf = opensslHostCertificate(dir, p521, hostKey).certificate;
    const error = refusal(() => check([leaf, p521.certificate]));
    expect(error.code).toBe('certificate-weak-algorithm');
    expect(error.message).toContain('ECDSA P-521 is not supported');
  });

  it('refuse a SHA-1 signature, naming it', () => {
    const leaf = opensslHostCertificate(dir, root, hostKey, { digest: 'sha1' }).certificate;
    const error = refusal(() => check([leaf]));
    expect(error.code).toBe('certificate-weak-algorithm');
    expect(error.message).toContain('signed with ECDSA with SHA-1');
    expect(error.message).not.toContain('1.2.840.10045');
  });

  it('keep their name constraints, and their pathLenConstraint', () => {
    const constrained = opensslAuthority(dir, 'Constrained EC Org', 'P-256', {
      extensions: ['nameConstraints = critical, permitted;DNS:example.org'],
    });
    const inside = opensslHostCertificate(dir, constrained, hostKey, {
      hosts: ['chat.example.org'],
    }).certificate;
    expect(check([inside], { authority: constrained }).authority.name).toBe('Constrained EC Org');
    const outside = opensslHostCertificate(dir, constrained, hostKey, {
      hosts: ['chat.other.net'],
    }).certificate;
    const error = refusal(() =>
      check([outside], { authority: constrained, hostName: 'chat.other.net' }),
    );
    expect(error.code).toBe('certificate-rejected');
    expect(error.message).toMatch(/name constraint/i);

    const strict = opensslAuthority(dir, 'Strict EC Org', 'P-256', {
      extensions: ['basicConstraints = critical, CA:TRUE, pathlen:0'],
    });
    const below = opensslAuthority(dir, 'Strict EC Hosts', 'P-256', { issuer: strict });
    const leaf = opensslHostCertificate(dir, below, hostKey).certificate;
    expect(refusal(() => check([leaf, below.certificate], { authority: strict })).code).toBe(
      'certificate-path-length',
    );
  });

  it('refuse any corrupted ECDSA chain with a clear code, never an exception of another kind', () => {
    const leaf = opensslHostCertificate(dir, intermediate, hostKey).certificate;
    const chain = [leaf.der, intermediate.certificate.der];
    const seen = new Set<string>();
    for (let round = 0; round < 400; round++) {
      const which = round % 2;
      const der = (chain[which] as Uint8Array).slice();
      const at = randomBytes(4).readUInt32BE() % der.length;
      der[at] = (der[at] ?? 0) ^ (1 + ((randomBytes(1)[0] ?? 0) % 255));
      const mutated = which === 0 ? [der, chain[1]!] : [chain[0]!, der];
      try {
        check(mutated);
        seen.add('accepted');
      } catch (error) {
        expect(error).toBeInstanceOf(CertificateRejected);
        seen.add((error as CertificateRejected).code);
      }
    }
    // Every byte is signed or checked: no corruption is ever accepted.
    expect(seen).not.toContain('accepted');
    expect(seen).toContain('certificate-malformed');
    expect(seen).toContain('certificate-bad-signature');
  });
});
