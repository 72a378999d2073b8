import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import type { Authority } from '../../../src-main/trust/authority.ts';
import { CertificateRejected } from '../../../src-main/trust/certificate-error.ts';
import { EXTENDED_KEY_USAGE } from '../../../src-main/trust/extended-key-usage.ts';
import { parseHostName } from '../../../src-main/trust/host-names.ts';
import { keyBindingUri } from '../../../src-main/trust/key-binding.ts';
import {
  CLOCK_SKEW_MS,
  MAX_CHAIN_LENGTH,
  verifyHostChain,
} from '../../../src-main/trust/verify-chain.ts';
import { type Certificate, generateRsaKeyPair } from '../../../src-main/trust/x509.ts';
import {
  DAY,
  NOW,
  asAuthority,
  authority,
  hostCertificate,
  rsaKey,
} from '../../support/test-pki.ts';

// The host check, certificate by certificate: each defect is refused with its own code.

const hostKey = new Uint8Array(randomBytes(32));
const root = authority('Example Org');
const anchors: Authority[] = [asAuthority(root)];
const good = hostCertificate(root, hostKey);

function check(
  chain: readonly Certificate[] | readonly Uint8Array[],
  options: { hostName?: string; key?: Uint8Array; now?: number; authorities?: Authority[] } = {},
) {
  return verifyHostChain({
    chain: chain.map((c) => (c instanceof Uint8Array ? c : c.der)),
    authorities: options.authorities ?? anchors,
    hostName: options.hostName ?? 'chat.example.org',
    hostKey: options.key ?? hostKey,
    now: options.now ?? NOW,
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

describe('verifyHostChain', () => {
  it('accepts a host certificate issued by an imported authority, for the typed name and the proved key', () => {
    const verified = check([good]);
    expect(verified.authority.name).toBe('Example Org');
    expect(verified.leaf.fingerprint).toBe(good.fingerprint);
    // DNS names compare case-insensitively, one trailing dot ignored; IPs as addresses.
    expect(check([good], { hostName: 'CHAT.Example.org.' }).authority).toBe(anchors[0]);
    expect(check([good], { hostName: '127.0.0.1' }).authority).toBe(anchors[0]);
    // A copy of the authority at the end of the chain changes nothing.
    expect(check([good, root.certificate]).path).toHaveLength(1);
  });

  it('accepts a chain through an intermediate authority, and IPv6 names in any spelling', () => {
    const intermediate = authority('Example Org Hosts', { key: 1, issuer: root });
    const leaf = hostCertificate(intermediate, hostKey, { hosts: ['::1', 'chat.example.org'] });
    const verified = check([leaf, intermediate.certificate], { hostName: '0:0:0:0:0:0:0:1' });
    expect(verified.path.map((c) => c.commonName)).toEqual(['::1', 'Example Org Hosts']);
    expect(verified.authority.name).toBe('Example Org');
  });

  it('refuses a certificate for another host name (certificate-name-mismatch)', () => {
    const error = refusal(() => check([good], { hostName: 'evil.example.org' }));
    expect(error.code).toBe('certificate-name-mismatch');
    expect(error.message).toContain('chat.example.org, 127.0.0.1');
    expect(error.message).toContain('not for evil.example.org');
    // No suffix, prefix or wildcard matching; an IP SAN does not cover a DNS name or vice versa.
    expect(refusal(() => check([good], { hostName: 'example.org' })).code).toBe(
      'certificate-name-mismatch',
    );
    expect(refusal(() => check([good], { hostName: '127.0.0.2' })).code).toBe(
      'certificate-name-mismatch',
    );
    const wildcard = hostCertificate(root, hostKey, {
      hosts: ['chat.example.org'],
      names: [{ kind: 'dns', name: '*.example.org' }],
    });
    expect(refusal(() => check([wildcard], { hostName: 'chat.example.org' })).code).toBe(
      'certificate-name-mismatch',
    );
  });

  it('refuses an expired certificate and one not yet valid, beyond the clock-skew tolerance', () => {
    const expired = hostCertificate(root, hostKey, {
      notBefore: new Date(NOW - 100 * DAY),
      notAfter: new Date(NOW - 10 * 60_000),
    });
    const error = refusal(() => check([expired]));
    expect(error.code).toBe('certificate-expired');
    expect(error.message).toContain(new Date(NOW - 10 * 60_000).toISOString());

    const future = hostCertificate(root, hostKey, {
      notBefore: new Date(NOW + 10 * 60_000),
      notAfter: new Date(NOW + 90 * DAY),
    });
    expect(refusal(() => check([future])).code).toBe('certificate-not-yet-valid');

    // Within CLOCK_SKEW_MS on either end, clocks that disagree a little are forgiven.
    const justExpired = hostCertificate(root, hostKey, {
      notBefore: new Date(NOW - 100 * DAY),
      notAfter: new Date(NOW - CLOCK_SKEW_MS + 60_000),
    });
    expect(check([justExpired]).leaf.fingerprint).toBe(justExpired.fingerprint);
    const almostValid = hostCertificate(root, hostKey, {
      notBefore: new Date(NOW + CLOCK_SKEW_MS - 60_000),
    });
    expect(check([almostValid]).leaf.fingerprint).toBe(almostValid.fingerprint);
  });

  it('checks the validity of every certificate, the authority’s too', () => {
    const oldRoot = authority('Old Org', {
      key: 2,
      notBefore: new Date(NOW - 3650 * DAY),
      notAfter: new Date(NOW - DAY),
    });
    const leaf = hostCertificate(oldRoot, hostKey);
    const error = refusal(() => check([leaf], { authorities: [asAuthority(oldRoot)] }));
    expect(error.code).toBe('certificate-expired');
    expect(error.message).toContain('Old Org');
  });

  it('refuses a certificate bound to another static key (certificate-key-mismatch)', () => {
    const other = new Uint8Array(randomBytes(32));
    const error = refusal(() => check([good], { key: other }));
    expect(error.code).toBe('certificate-key-mismatch');
    expect(error.message).not.toContain(Buffer.from(hostKey).toString('base64url'));
  });

  it('refuses a certificate with no, two, or a malformed key binding (certificate-no-key-binding)', () => {
    const none = hostCertificate(root, hostKey, { uris: [] });
    expect(refusal(() => check([none])).code).toBe('certificate-no-key-binding');
    const two = hostCertificate(root, hostKey, {
      uris: [keyBindingUri(hostKey), keyBindingUri(new Uint8Array(randomBytes(32)))],
    });
    expect(refusal(() => check([two])).code).toBe('certificate-no-key-binding');
    const malformed = hostCertificate(root, hostKey, { uris: ['parley-key:not-a-key'] });
    expect(refusal(() => check([malformed])).code).toBe('certificate-no-key-binding');
    // The scheme is case-insensitive (RFC 3986), the key is not.
    const upper = hostCertificate(root, hostKey, {
      uris: [keyBindingUri(hostKey).replace('parley-key', 'PARLEY-KEY')],
    });
    expect(check([upper]).leaf.fingerprint).toBe(upper.fingerprint);
  });

  it('refuses a chain to an authority that was not imported (certificate-unknown-authority)', () => {
    const stranger = authority('Stranger Org', { key: 2 });
    const leaf = hostCertificate(stranger, hostKey);
    const error = refusal(() => check([leaf]));
    expect(error.code).toBe('certificate-unknown-authority');
    expect(error.message).toContain('Stranger Org');
    // Even when the stranger sends its own authority along, or borrows the trusted name.
    expect(refusal(() => check([leaf, stranger.certificate])).code).toBe(
      'certificate-unknown-authority',
    );
    const lookalike = authority('Example Org', { key: 2 });
    const fake = hostCertificate(lookalike, hostKey);
    expect(refusal(() => check([fake, lookalike.certificate])).code).toBe(
      'certificate-unknown-authority',
    );
    expect(refusal(() => check([good], { authorities: [] })).message).toContain(
      'you have imported no authority',
    );
  });

  it('refuses a certificate that is not a CA used as one (certificate-not-a-ca)', () => {
    // A host certificate (cA false) issuing another host certificate.
    const notCa = authority('Just a host', {
      key: 1,
      issuer: root,
      basicConstraints: { cA: false },
    });
    const leaf = hostCertificate(notCa, hostKey);
    const error = refusal(() => check([leaf, notCa.certificate]));
    expect(error.code).toBe('certificate-not-a-ca');
    expect(error.message).toContain('basicConstraints cA is not set');
    // Without basicConstraints at all, or without keyCertSign, it is no CA either.
    const noConstraints = authority('No constraints', {
      key: 1,
      issuer: root,
      basicConstraints: undefined,
    });
    expect(
      refusal(() => check([hostCertificate(noConstraints, hostKey), noConstraints.certificate]))
        .code,
    ).toBe('certificate-not-a-ca');
    const noCertSign = authority('No certSign', {
      key: 1,
      issuer: root,
      keyUsage: { digitalSignature: true },
    });
    expect(
      refusal(() => check([hostCertificate(noCertSign, hostKey), noCertSign.certificate])).code,
    ).toBe('certificate-not-a-ca');
  });

  it('refuses a tampered or forged signature (certificate-bad-signature)', () => {
    const tampered = good.der.slice();
    const inSignature = tampered.length - 10;
    tampered[inSignature] = (tampered[inSignature] ?? 0) ^ 0x01;
    expect(refusal(() => check([tampered])).code).toBe('certificate-bad-signature');

    // Changing what is signed (here the bound key) breaks the signature as well.
    const der = Buffer.from(good.der);
    const binding = Buffer.from(keyBindingUri(hostKey));
    const at = der.indexOf(binding);
    expect(at).toBeGreaterThan(0);
    const otherKey = new Uint8Array(randomBytes(32));
    Buffer.from(keyBindingUri(otherKey)).copy(der, at);
    expect(refusal(() => check([new Uint8Array(der)], { key: otherKey })).code).toBe(
      'certificate-bad-signature',
    );

    // Signed by another key that claims to be the trusted authority (same name, same key id).
    const forger = { certificate: root.certificate, privateKey: rsaKey(2).privateKey };
    const forged = hostCertificate(forger, hostKey);
    expect(refusal(() => check([forged])).code).toBe('certificate-bad-signature');
  });

  it('enforces pathLenConstraint (certificate-path-length)', () => {
    const strict = authority('Strict Org', {
      key: 2,
      basicConstraints: { cA: true, pathLength: 0 },
    });
    const intermediate = authority('Strict Hosts', { key: 1, issuer: strict });
    const leaf = hostCertificate(intermediate, hostKey);
    expect(
      refusal(() => check([leaf, intermediate.certificate], { authorities: [asAuthority(strict)] }))
        .code,
    ).toBe('certificate-path-length');
    expect(
      check([hostCertificate(strict, hostKey)], { authorities: [asAuthority(strict)] }),
    ).toBeTruthy();
  });

  it('refuses a host certificate whose extendedKeyUsage lacks serverAuth (certificate-wrong-purpose)', () => {
    const { serverAuth, clientAuth, codeSigning, emailProtection, anyExtendedKeyUsage } =
      EXTENDED_KEY_USAGE;
    const forCode = hostCertificate(root, hostKey, { extendedKeyUsage: [codeSigning] });
    const error = refusal(() => check([forCode]));
    expect(error.code).toBe('certificate-wrong-purpose');
    expect(error.message).toContain('for code signing, not for identifying a server');
    const forPeople = hostCertificate(root, hostKey, {
      extendedKeyUsage: [clientAuth, emailProtection, '1.3.6.1.4.1.55555.7'],
    });
    expect(refusal(() => check([forPeople])).message).toContain(
      'client authentication, e-mail protection, purpose 1.3.6.1.4.1.55555.7',
    );
    // "Any purpose" is not "a server": an authority that means a server says so.
    const anyPurpose = hostCertificate(root, hostKey, { extendedKeyUsage: [anyExtendedKeyUsage] });
    expect(refusal(() => check([anyPurpose])).code).toBe('certificate-wrong-purpose');
    // serverAuth among others is fine, and so is no extendedKeyUsage at all (good, above).
    const server = hostCertificate(root, hostKey, { extendedKeyUsage: [clientAuth, serverAuth] });
    expect(server.extendedKeyUsage).toEqual([clientAuth, serverAuth]);
    expect(check([server]).leaf.fingerprint).toBe(server.fingerprint);
    expect(good.extendedKeyUsage).toBeUndefined();
  });

  it('refuses a CA certificate presented as the host’s own (certificate-not-a-host)', () => {
    const caLeaf = hostCertificate(root, hostKey, {
      basicConstraints: { cA: true },
      keyUsage: { keyCertSign: true },
    });
    expect(refusal(() => check([caLeaf])).code).toBe('certificate-not-a-host');
  });

  it('refuses weak issuer keys, garbage and over-long chains', () => {
    const weakKey = generateRsaKeyPair(1024);
    const weakSelf = {
      certificate: authority('Weak Org', {
        publicKey: weakKey.publicKey,
        issuer: { privateKey: weakKey.privateKey },
      }).certificate,
      privateKey: weakKey.privateKey,
    };
    const leaf = hostCertificate(weakSelf, hostKey);
    expect(refusal(() => check([leaf], { authorities: [asAuthority(weakSelf)] })).code).toBe(
      'certificate-weak-algorithm',
    );

    // An intermediate the host sends is checked before its key is used.
    const weakIntermediate = {
      certificate: authority('Weak Hosts', { publicKey: weakKey.publicKey, issuer: root })
        .certificate,
      privateKey: weakKey.privateKey,
    };
    const viaWeak = hostCertificate(weakIntermediate, hostKey);
    expect(refusal(() => check([viaWeak, weakIntermediate.certificate])).code).toBe(
      'certificate-weak-algorithm',
    );

    expect(refusal(() => check([new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01])])).code).toBe(
      'certificate-malformed',
    );
    expect(refusal(() => check([])).code).toBe('certificate-malformed');
    const long = Array.from({ length: MAX_CHAIN_LENGTH + 1 }, () => good);
    expect(refusal(() => check(long)).code).toBe('certificate-chain-too-long');
  });

  it('refuses a critical extension it does not process', () => {
    const leaf = hostCertificate(root, hostKey, {
      extraExtensions: [{ id: '1.3.6.1.4.1.55555.1', critical: true, der: new Uint8Array([5, 0]) }],
    });
    const error = refusal(() => check([leaf]));
    expect(error.code).toBe('certificate-unsupported-critical-extension');
    expect(error.message).toContain('1.3.6.1.4.1.55555.1');
    // Not critical: ignored, as RFC 5280 says.
    const harmless = hostCertificate(root, hostKey, {
      extraExtensions: [
        { id: '1.3.6.1.4.1.55555.1', critical: false, der: new Uint8Array([5, 0]) },
      ],
    });
    expect(check([harmless]).leaf.fingerprint).toBe(harmless.fingerprint);
  });

  it("asks node-forge's path validation too: an authority's name constraints hold", () => {
    // NameConstraints { permittedSubtrees [0] { { dNSName "example.org" } } }
    const domain = Buffer.from('example.org');
    const der = new Uint8Array([
      0x30,
      domain.length + 6,
      0xa0,
      domain.length + 4,
      0x30,
      domain.length + 2,
      0x82,
      domain.length,
      ...domain,
    ]);
    const constrained = authority('Constrained Org', {
      key: 2,
      extraExtensions: [{ id: '2.5.29.30', critical: true, der }],
    });
    const anchorsOf = { authorities: [asAuthority(constrained)] };
    const inside = hostCertificate(constrained, hostKey, { hosts: ['chat.example.org'] });
    expect(check([inside], anchorsOf).authority.name).toBe('Constrained Org');
    const outside = hostCertificate(constrained, hostKey, { hosts: ['chat.other.net'] });
    const error = refusal(() => check([outside], { ...anchorsOf, hostName: 'chat.other.net' }));
    expect(error.code).toBe('certificate-rejected');
    expect(error.message).toMatch(/name constraint/i);
  });

  it('names IP addresses as written by people', () => {
    expect(parseHostName('[2001:db8::1]')).toMatchObject({ kind: 'ip', name: '2001:db8::1' });
    expect(parseHostName('::ffff:192.0.2.1')?.kind).toBe('ip');
    expect(parseHostName('Chat.Example.org.')).toEqual({ kind: 'dns', name: 'chat.example.org' });
    expect(parseHostName('*.example.org')).toBeUndefined();
    expect(parseHostName('exa mple')).toBeUndefined();
  });
});
