import { fingerprint } from '../../src-shared/fingerprint.ts';
import { sameKey } from '../protocol/host-key.ts';
import type { Authority } from './authority.ts';
import { CertificateRejected } from './certificate-error.ts';
import { allowsServerAuth, extendedKeyUsageName } from './extended-key-usage.ts';
import { namesMatchHost } from './host-names.ts';
import { issuerKeyProblem } from './issuer-keys.ts';
import { isKeyBindingUri, parseKeyBindingUri } from './key-binding.ts';
import {
  ACCEPTED_SIGNATURE_ALGORITHMS,
  type Certificate,
  OID,
  displayName,
  forgeRefusal,
  hostNamesOf,
  mayHaveIssued,
  nodeAgreesIssued,
  parseCertificate,
  signatureVerifies,
} from './x509.ts';

/**
 * Does the chain a host sent vouch for the key it proved, under the name the user typed?
 * Checked in this order, the first failure wins (each has its own code, certificate-error.ts):
 *
 * 1. every certificate parses (at most MAX_CHAIN_LENGTH of them);
 * 2. a path from the host certificate to an imported authority: each certificate is issued by
 *    an imported authority or else by the next certificate the host sent, and its signature
 *    verifies (Node's X.509 code);
 * 3. signature algorithms are RSA or ECDSA with SHA-256/384/512; issuer keys are RSA of 2048 to
 *    8192 bits or ECDSA P-256/P-384 (issuer-keys.ts; an issuer key the host sent is checked
 *    before it is used, so a hostile chain stays cheap);
 * 4. every issuer (intermediates and the authority) has basicConstraints cA=true and keyUsage
 *    keyCertSign, and its pathLenConstraint holds;
 * 5. every certificate of the path, the authority's included, is within its validity period,
 *    give or take CLOCK_SKEW_MS;
 * 6. no certificate of the path has a critical extension we do not process;
 * 7. the host certificate is not a CA, is for servers (an extendedKeyUsage, if present, lists
 *    serverAuth), names the host the user typed (exact DNS name,
 *    case-insensitive, no wildcards; IP addresses as IPs), and binds exactly one static key,
 *    the one the Noise handshake proved;
 * 8. second opinions: Node's X509_check_issued agrees on every link, and node-forge's path
 *    validation agrees (name constraints among others).
 */
export const MAX_CHAIN_LENGTH = 8;
/** Tolerated difference between our clock and the issuer's, on both ends of a validity period. */
export const CLOCK_SKEW_MS = 5 * 60_000;

export interface ChainCheck {
  /** DER certificates as the host sent them: its own first, then intermediates. */
  readonly chain: readonly Uint8Array[];
  readonly authorities: readonly Authority[];
  /** The host name or address the user connected to. */
  readonly hostName: string;
  /** The static key the Noise handshake proved. */
  readonly hostKey: Uint8Array;
  /** Milliseconds since the epoch. */
  readonly now: number;
}

export interface VerifiedChain {
  readonly authority: Authority;
  readonly leaf: Certificate;
  /** From the host certificate up to, not including, the authority. */
  readonly path: readonly Certificate[];
}

export function verifyHostChain(check: ChainCheck): VerifiedChain {
  // 1. parse
  if (check.chain.length === 0) {
    throw new CertificateRejected(
      'certificate-malformed',
      'the host sent an empty certificate chain',
    );
  }
  if (check.chain.length > MAX_CHAIN_LENGTH) {
    throw new CertificateRejected(
      'certificate-chain-too-long',
      `the host sent ${check.chain.length} certificates; at most ${MAX_CHAIN_LENGTH} are read`,
    );
  }
  const sent = check.chain.map((der, i) =>
    parseCertificate(
      der,
      i === 0 ? "the host's certificate" : `certificate ${i + 1} of the host's chain`,
    ),
  );
  const leaf = sent[0] as Certificate;

  // 2. path and signatures
  const path: Certificate[] = [leaf];
  let authority: Authority | undefined;
  for (let i = 0; !authority; i++) {
    const current = path[path.length - 1] as Certificate;
    const candidates = check.authorities.filter((a) => mayHaveIssued(a.certificate, current));
    authority = candidates.find((a) => signatureVerifies(a.certificate, current));
    if (authority) break;
    if (candidates.length > 0) {
      throw new CertificateRejected(
        'certificate-bad-signature',
        `the signature of ${describeCert(current)} does not verify with the key of the ` +
          `authority "${candidates[0]?.name}": it was altered or forged`,
      );
    }
    const next = sent[i + 1];
    if (!next || !mayHaveIssued(next, current)) {
      throw new CertificateRejected(
        'certificate-unknown-authority',
        check.authorities.length === 0
          ? `${describeCert(current)} was issued by "${current.issuer}", and you have imported no authority`
          : `${describeCert(current)} was issued by "${current.issuer}", which is not an authority you imported`,
      );
    }
    // Its key is the host's choice: bound it before verifying a signature with it.
    rejectWeakIssuerKey(next);
    if (!signatureVerifies(next, current)) {
      throw new CertificateRejected(
        'certificate-bad-signature',
        `the signature of ${describeCert(current)} does not verify with the key of ` +
          `"${next.subject}": it was altered or forged`,
      );
    }
    path.push(next);
  }
  const issuers: Certificate[] = [...path.slice(1), authority.certificate];

  // 3. algorithms
  for (const certificate of path) {
    if (!ACCEPTED_SIGNATURE_ALGORITHMS.has(certificate.signatureAlgorithm)) {
      throw new CertificateRejected(
        'certificate-weak-algorithm',
        `${describeCert(certificate)} is signed with ${certificate.signatureAlgorithmName}; ` +
          'only RSA or ECDSA with SHA-256, SHA-384 or SHA-512 is accepted',
      );
    }
  }
  for (const issuer of issuers) rejectWeakIssuerKey(issuer);

  // 4. issuers are CAs, within their path length
  issuers.forEach((issuer, index) => {
    if (!issuer.basicConstraints?.cA || !issuer.keyUsage?.keyCertSign) {
      throw new CertificateRejected(
        'certificate-not-a-ca',
        `${describeCert(issuer)} issued another certificate but is not a certificate authority ` +
          `(${issuer.basicConstraints?.cA ? 'keyUsage lacks keyCertSign' : 'basicConstraints cA is not set'})`,
      );
    }
    const below = index; // intermediates between this issuer and the host certificate
    const limit = issuer.basicConstraints.pathLength;
    if (limit !== undefined && below > limit) {
      throw new CertificateRejected(
        'certificate-path-length',
        `${describeCert(issuer)} allows ${limit} intermediate certificate(s) below it, the chain has ${below}`,
      );
    }
  });

  // 5. validity, with tolerance for clocks that disagree a little
  for (const certificate of [...path, authority.certificate]) {
    if (check.now > certificate.notAfter.getTime() + CLOCK_SKEW_MS) {
      throw new CertificateRejected(
        'certificate-expired',
        `${describeCert(certificate)} expired on ${certificate.notAfter.toISOString()}`,
      );
    }
    if (check.now < certificate.notBefore.getTime() - CLOCK_SKEW_MS) {
      throw new CertificateRejected(
        'certificate-not-yet-valid',
        `${describeCert(certificate)} is not valid before ${certificate.notBefore.toISOString()} ` +
          '(or this computer’s clock is wrong)',
      );
    }
  }

  // 6. critical extensions we would ignore
  const processed = new Set<string>([
    OID.basicConstraints,
    OID.keyUsage,
    OID.subjectAltName,
    OID.extKeyUsage,
    OID.nameConstraints,
    OID.subjectKeyIdentifier,
    OID.authorityKeyIdentifier,
  ]);
  for (const certificate of path) {
    const unknown = certificate.criticalExtensions.find((id) => !processed.has(id));
    if (unknown) {
      throw new CertificateRejected(
        'certificate-unsupported-critical-extension',
        `${describeCert(certificate)} has a critical extension Parley does not understand (${unknown})`,
      );
    }
  }

  // 7. the host certificate: an end entity, for this name and this key
  if (leaf.basicConstraints?.cA) {
    throw new CertificateRejected(
      'certificate-not-a-host',
      `the host presented a certificate authority's certificate ("${leaf.subject}"), not a host certificate`,
    );
  }
  if (!allowsServerAuth(leaf.extendedKeyUsage)) {
    const purposes = (leaf.extendedKeyUsage ?? []).map(extendedKeyUsageName);
    throw new CertificateRejected(
      'certificate-wrong-purpose',
      `the host's certificate is for ${purposes.length > 0 ? purposes.join(', ') : 'no purpose at all'}, ` +
        'not for identifying a server (its extendedKeyUsage lacks serverAuth)',
    );
  }
  if (!namesMatchHost({ dns: leaf.dnsNames, ip: leaf.ipAddresses }, check.hostName)) {
    const names = hostNamesOf(leaf);
    throw new CertificateRejected(
      'certificate-name-mismatch',
      `the host's certificate is for ${names.length > 0 ? names.join(', ') : 'no host name'}, ` +
        `not for ${check.hostName}`,
    );
  }
  const bindings = leaf.uris.filter(isKeyBindingUri);
  const bound = bindings.length === 1 ? parseKeyBindingUri(bindings[0] ?? '') : undefined;
  if (!bound) {
    throw new CertificateRejected(
      'certificate-no-key-binding',
      bindings.length === 0
        ? "the host's certificate binds no Parley key (no parley-key: name)"
        : bindings.length > 1
          ? "the host's certificate has more than one parley-key: name"
          : "the host's certificate has a malformed parley-key: name",
    );
  }
  if (!sameKey(bound, check.hostKey)) {
    throw new CertificateRejected(
      'certificate-key-mismatch',
      `the host's certificate vouches for the key ${fingerprint(bound)}, ` +
        `but the host proved the key ${fingerprint(check.hostKey)}`,
    );
  }

  // 8. second opinions: Node on each link, forge on the whole path
  path.forEach((child, index) => {
    const issuer = issuers[index] as Certificate;
    if (!nodeAgreesIssued(issuer, child)) {
      throw new CertificateRejected(
        'certificate-rejected',
        `the certificate chain is not valid: OpenSSL does not accept that ` +
          `"${displayName(issuer)}" issued ${describeCert(child)}`,
      );
    }
  });
  const refusal = forgeRefusal(path, authority.certificate);
  if (refusal !== undefined) {
    throw new CertificateRejected(
      'certificate-rejected',
      `the certificate chain is not valid: ${refusal}`,
    );
  }
  return { authority, leaf, path };
}

function rejectWeakIssuerKey(issuer: Certificate): void {
  const problem = issuerKeyProblem(issuer);
  if (problem !== undefined) {
    throw new CertificateRejected(
      'certificate-weak-algorithm',
      `${describeCert(issuer)} cannot sign certificates: ${problem}`,
    );
  }
}

function describeCert(certificate: Certificate): string {
  return `the certificate "${displayName(certificate)}" (SHA-256 ${certificate.fingerprint.slice(0, 23)}…)`;
}
