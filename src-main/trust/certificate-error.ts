/**
 * Why a host's certificate chain was not accepted: one code per check, so a UI, a log line or
 * a test can tell an expired certificate from a forged one. Messages name certificates and
 * authorities by their names and fingerprints, never by key material.
 */
export const CERTIFICATE_ERROR_CODES = [
  /** Not DER X.509, duplicate extensions, an empty chain. */
  'certificate-malformed',
  'certificate-chain-too-long',
  /** The chain does not lead to an authority the user imported. */
  'certificate-unknown-authority',
  /** A signature in the chain does not verify (tampered or forged). */
  'certificate-bad-signature',
  /**
   * A signature algorithm other than RSA or ECDSA with SHA-256/384/512, or an issuer key other
   * than RSA of 2048 to 8192 bits or ECDSA P-256/P-384 (issuer-keys.ts).
   */
  'certificate-weak-algorithm',
  /** An issuing certificate lacks basicConstraints cA=true or keyUsage keyCertSign. */
  'certificate-not-a-ca',
  /** An issuer's pathLenConstraint is exceeded. */
  'certificate-path-length',
  'certificate-expired',
  'certificate-not-yet-valid',
  /** A certificate marks an extension critical that Parley does not process. */
  'certificate-unsupported-critical-extension',
  /** The host's certificate is itself a CA certificate. */
  'certificate-not-a-host',
  /** The host certificate has extendedKeyUsage without serverAuth (it is for something else). */
  'certificate-wrong-purpose',
  /** The host certificate does not name the host the user connected to. */
  'certificate-name-mismatch',
  /** The host certificate has no (or more than one, or a malformed) `parley-key:` binding. */
  'certificate-no-key-binding',
  /** The host certificate binds another static key than the one the handshake proved. */
  'certificate-key-mismatch',
  /** node-forge's own path validation refused the chain (e.g. a name constraint). */
  'certificate-rejected',
] as const;

export type CertificateErrorCode = (typeof CERTIFICATE_ERROR_CODES)[number];

/** Plain data, so it can cross IPC or be printed as is. */
export interface CertificateProblem {
  readonly code: CertificateErrorCode;
  readonly message: string;
}

const MAX_MESSAGE = 900;

export class CertificateRejected extends Error {
  override readonly name = 'CertificateRejected';
  readonly code: CertificateErrorCode;

  constructor(code: CertificateErrorCode, message: string) {
    // Names in it come from the host's certificates: bounded, so a hostile one cannot flood a UI.
    super(message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE - 1)}…` : message);
    this.code = code;
  }

  get problem(): CertificateProblem {
    return { code: this.code, message: this.message };
  }
}
