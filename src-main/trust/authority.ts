import { issuerKeyProblem } from './issuer-keys.ts';
import { type Certificate, containsPrivateKey, displayName, parseCertificatesPem } from './x509.ts';

/**
 * A certificate authority the user (or an administrator) imported: the trust anchor of host
 * certificates. Named by its certificate's common name (else organisation), identified by the
 * SHA-256 fingerprint of its certificate.
 */
export interface Authority {
  readonly name: string;
  /** SHA-256 of the certificate, `AB:CD:…`. */
  readonly fingerprint: string;
  readonly certificate: Certificate;
  /** The file it was loaded from, if any. */
  readonly file?: string;
}

export type AuthorityErrorCode = 'invalid-certificate' | 'not-found' | 'authority-store';

export class AuthorityError extends Error {
  override readonly name = 'AuthorityError';
  readonly code: AuthorityErrorCode;

  constructor(code: AuthorityErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/**
 * Reads an authority certificate (PEM text, exactly one certificate) and checks it can act as
 * one: basicConstraints cA=true, keyUsage keyCertSign, an RSA key of 2048 to 8192 bits or an
 * ECDSA P-256 or P-384 key (issuer-keys.ts).
 * Refuses text that contains a private key, which must never be handed around.
 */
export function parseAuthorityPem(
  pem: string,
  options: {
    readonly now: number;
    readonly file?: string;
    /** Refuse an expired certificate (on import; a loaded one fails the chain check instead). */
    readonly refuseExpired?: boolean;
  },
): Authority {
  const what = options.file ?? 'the authority certificate';
  if (containsPrivateKey(pem)) {
    throw new AuthorityError(
      'invalid-certificate',
      `${what} contains a PRIVATE KEY: import only the authority's certificate (ca.pem), and ` +
        'keep its key where it was',
    );
  }
  let certificates: Certificate[];
  try {
    certificates = parseCertificatesPem(pem, what);
  } catch (error) {
    throw new AuthorityError('invalid-certificate', (error as Error).message);
  }
  if (certificates.length !== 1) {
    throw new AuthorityError(
      'invalid-certificate',
      certificates.length === 0
        ? `${what} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`
        : `${what} holds ${certificates.length} certificates; import one authority at a time`,
    );
  }
  const certificate = certificates[0] as Certificate;
  checkAuthorityCertificate(certificate, what);
  if (options.refuseExpired && options.now > certificate.notAfter.getTime()) {
    throw new AuthorityError(
      'invalid-certificate',
      `${what} expired on ${certificate.notAfter.toISOString()}`,
    );
  }
  return {
    name: displayName(certificate),
    fingerprint: certificate.fingerprint,
    certificate,
    ...(options.file ? { file: options.file } : {}),
  };
}

export function checkAuthorityCertificate(certificate: Certificate, what: string): void {
  if (!certificate.basicConstraints?.cA) {
    throw new AuthorityError(
      'invalid-certificate',
      `${what} is not a certificate authority (basicConstraints cA is not set)`,
    );
  }
  if (!certificate.keyUsage?.keyCertSign) {
    throw new AuthorityError(
      'invalid-certificate',
      `${what} may not sign certificates (keyUsage lacks keyCertSign)`,
    );
  }
  const keyProblem = issuerKeyProblem(certificate);
  if (keyProblem !== undefined) {
    throw new AuthorityError(
      'invalid-certificate',
      `${what} cannot sign certificates: ${keyProblem}`,
    );
  }
}

/** A fingerprint as typed: hex with or without colons, any case → `AB:CD:…`, or undefined. */
export function normalizeCertificateFingerprint(text: string): string | undefined {
  const hex = text
    .trim()
    .replace(/^sha256:/i, '')
    .replace(/[:\s]/g, '')
    .toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) return undefined;
  return (hex.match(/../g) ?? []).join(':');
}
