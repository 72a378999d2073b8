import { type Certificate, keyAlgorithmName } from './x509.ts';

/**
 * Which keys may sign certificates Parley accepts: RSA of 2048 to 8192 bits with a public
 * exponent of 3 to 2^32, or ECDSA on P-256 or P-384, the curves organisations' CAs use. Larger
 * RSA keys (or exponents) would only let a hostile chain make the check slow; other curves and
 * algorithms are refused by name, so a message says what the certificate has, not an OID.
 */
export const MIN_RSA_BITS = 2048;
export const MAX_RSA_BITS = 8192;
const MAX_RSA_EXPONENT = 2n ** 32n;
export const ACCEPTED_CURVES: ReadonlySet<string> = new Set(['P-256', 'P-384']);

export const ACCEPTED_ISSUER_KEYS = `RSA of ${MIN_RSA_BITS} to ${MAX_RSA_BITS} bits, ECDSA P-256 or P-384`;

/** Why `certificate`'s key may not sign certificates, or undefined when it may. */
export function issuerKeyProblem(certificate: Certificate): string | undefined {
  const key = certificate.publicKey;
  if (key.kind === 'rsa') {
    if (key.bits < MIN_RSA_BITS || key.bits > MAX_RSA_BITS) {
      return `its ${key.bits}-bit RSA key is outside ${MIN_RSA_BITS} to ${MAX_RSA_BITS} bits`;
    }
    if (key.exponent < 3n || key.exponent > MAX_RSA_EXPONENT) {
      return 'its RSA public exponent is outside 3 to 2^32';
    }
    return undefined;
  }
  if (key.kind === 'ec' && ACCEPTED_CURVES.has(key.curve)) return undefined;
  return `${keyAlgorithmName(key)} is not supported (${ACCEPTED_ISSUER_KEYS} are)`;
}
