import { fingerprint } from '../../src-shared/fingerprint.ts';
import { sameKey } from '../protocol/host-key.ts';
import { MAX_CERT_BASE64 } from '../protocol/wire/messages.ts';
import { allowsServerAuth } from './extended-key-usage.ts';
import { isKeyBindingUri, parseKeyBindingUri } from './key-binding.ts';
import { MAX_CHAIN_LENGTH } from './verify-chain.ts';
import {
  type Certificate,
  containsPrivateKey,
  decodePem,
  hostNamesOf,
  mayHaveIssued,
  parseCertificate,
} from './x509.ts';

/**
 * The host's side of authority trust: `parley --serve --cert FILE` reads a PEM chain (its own
 * certificate first, then intermediates) and sends it in handshake message 2. A host refuses to
 * start with a certificate that does not bind its own static key: it could only ever make
 * clients refuse it. Other problems (expired, out of order) are warnings: clients that pinned
 * the host still connect, and the chain check on the client side has the final word.
 */
export class HostCertificateError extends Error {
  override readonly name = 'HostCertificateError';
}

/** The largest DER certificate whose base64 fits host info's limit. */
const MAX_CERT_BYTES = (MAX_CERT_BASE64 / 4) * 3;

/** Days before expiry from which the host warns at start. */
export const EXPIRY_WARNING_DAYS = 14;

export interface HostCertificateSummary {
  /** SHA-256 of the host certificate, `AB:CD:…`. */
  readonly fingerprint: string;
  readonly names: readonly string[];
  readonly issuer: string;
  readonly notAfter: Date;
}

export interface CheckedHostChain {
  readonly chain: readonly Uint8Array[];
  readonly summary: HostCertificateSummary;
  /** Worth a log line, not a refusal. */
  readonly warnings: readonly string[];
}

/** PEM text → DER certificates, in order. Refuses a file that holds a private key. */
export function readCertificateChainPem(text: string, file: string): Uint8Array[] {
  if (containsPrivateKey(text)) {
    throw new HostCertificateError(
      `${file} contains a PRIVATE KEY; --cert takes only certificates (the host's first)`,
    );
  }
  const chain = decodePem(text)
    .filter((block) => block.label === 'CERTIFICATE')
    .map((block) => block.der);
  if (chain.length === 0) {
    throw new HostCertificateError(
      `${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
    );
  }
  return chain;
}

/** Checks a chain against the host's own key before the host serves it. */
export function checkHostChain(
  chain: readonly Uint8Array[],
  hostKey: Uint8Array,
  now: number,
): CheckedHostChain {
  if (chain.length === 0) throw new HostCertificateError('the certificate chain is empty');
  if (chain.length > MAX_CHAIN_LENGTH) {
    throw new HostCertificateError(
      `the certificate chain has ${chain.length} certificates; clients read at most ${MAX_CHAIN_LENGTH}`,
    );
  }
  const tooBig = chain.findIndex((der) => der.length > MAX_CERT_BYTES);
  if (tooBig >= 0) {
    throw new HostCertificateError(
      `certificate ${tooBig + 1} of the chain is ${chain[tooBig]?.length} bytes; at most ${MAX_CERT_BYTES} fit`,
    );
  }
  let certificates: Certificate[];
  try {
    certificates = chain.map((der, i) =>
      parseCertificate(
        der,
        i === 0 ? "the host's certificate" : `certificate ${i + 1} of the chain`,
      ),
    );
  } catch (error) {
    throw new HostCertificateError((error as Error).message);
  }
  const leaf = certificates[0] as Certificate;
  const bindings = leaf.uris.filter(isKeyBindingUri);
  const bound = bindings.length === 1 ? parseKeyBindingUri(bindings[0] ?? '') : undefined;
  if (!bound) {
    throw new HostCertificateError(
      `the first certificate (for ${hostNamesOf(leaf).join(', ') || 'no name'}) ` +
        (bindings.length === 0
          ? 'binds no Parley key (it has no parley-key: name)'
          : 'does not bind exactly one well-formed parley-key: name') +
        '; issue one with: parley ca issue --host-key <this host key>',
    );
  }
  if (!sameKey(bound, hostKey)) {
    throw new HostCertificateError(
      `the certificate binds the key ${fingerprint(bound)}, but this host's key is ` +
        `${fingerprint(hostKey)}: issue a certificate for this host's key (or start the host ` +
        'with the key the certificate was issued for)',
    );
  }
  if (leaf.basicConstraints?.cA) {
    throw new HostCertificateError("the first certificate is a CA certificate, not the host's");
  }
  const warnings: string[] = [];
  if (now > leaf.notAfter.getTime()) {
    warnings.push(`the host certificate expired on ${leaf.notAfter.toISOString()}`);
  } else if (now < leaf.notBefore.getTime()) {
    warnings.push(`the host certificate is not valid before ${leaf.notBefore.toISOString()}`);
  } else if (leaf.notAfter.getTime() - now < EXPIRY_WARNING_DAYS * 86_400_000) {
    warnings.push(`the host certificate expires on ${leaf.notAfter.toISOString()}; renew it`);
  }
  if (hostNamesOf(leaf).length === 0) warnings.push('the host certificate names no host');
  if (!allowsServerAuth(leaf.extendedKeyUsage)) {
    warnings.push(
      "the host certificate's extendedKeyUsage lacks serverAuth: clients will refuse it",
    );
  }
  for (let i = 0; i + 1 < certificates.length; i++) {
    const child = certificates[i] as Certificate;
    const parent = certificates[i + 1] as Certificate;
    if (!mayHaveIssued(parent, child)) {
      warnings.push(
        `certificate ${i + 2} of the chain did not issue certificate ${i + 1}: check the order`,
      );
    }
  }
  return {
    chain: chain.map((der) => der.slice()),
    summary: {
      fingerprint: leaf.fingerprint,
      names: hostNamesOf(leaf),
      issuer: leaf.issuer,
      notAfter: leaf.notAfter,
    },
    warnings,
  };
}
