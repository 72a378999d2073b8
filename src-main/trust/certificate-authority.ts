import {
  type KeyObject,
  createCipheriv,
  createPrivateKey,
  pbkdf2Sync,
  randomBytes,
} from 'node:crypto';
import { chmod, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import forge from 'node-forge';
import { writeSecretFileAtomic } from '../store/key-file.ts';
import type { HostName } from './host-names.ts';
import { keyBindingUri } from './key-binding.ts';
import { CLOCK_SKEW_MS } from './verify-chain.ts';
import {
  type Certificate,
  certificateMatchesKey,
  certificateToPem,
  createCertificate,
  generateRsaKeyPair,
  parseCertificatesPem,
} from './x509.ts';

/**
 * An organisation's certificate authority for Parley hosts, in one folder:
 *
 *   ca.pem   the authority's self-signed certificate (public: give it to every client)
 *   ca.key   its RSA-3072 private key, PKCS#8 PEM, mode 0600; with a passphrase it is an
 *            ENCRYPTED PRIVATE KEY (PBES2: PBKDF2-HMAC-SHA256, 600 000 iterations, AES-256-CBC),
 *            which `openssl pkey` also reads
 *
 * Host certificates it issues bind a host's Noise static key (key-binding.ts) to its names.
 */
export const CA_CERT_FILE = 'ca.pem';
export const CA_KEY_FILE = 'ca.key';
export const DEFAULT_AUTHORITY_DAYS = 3650;
export const DEFAULT_HOST_DAYS = 90;
/** Host certificates live at most this long (as on the web: short lives limit a leaked key). */
export const MAX_HOST_DAYS = 397;
export const PBKDF2_ITERATIONS = 600_000;
const DAY_MS = 86_400_000;
const AUTHORITY_KEY_BITS = 3072;
/** The host certificate's own RSA key plays no part (its private half is thrown away). */
const HOST_CERT_KEY_BITS = 2048;

export class AuthorityFileError extends Error {
  override readonly name = 'AuthorityFileError';
}

export interface IssuingAuthority {
  readonly certificate: Certificate;
  readonly privateKey: KeyObject;
}

/** `parley ca init`: a new key and self-signed CA certificate in `dir` (which must not have one). */
export async function initAuthority(options: {
  readonly dir: string;
  readonly name: string;
  readonly days?: number;
  readonly passphrase?: string;
  readonly now: number;
}): Promise<{ certificate: Certificate; certFile: string; keyFile: string }> {
  const certFile = join(options.dir, CA_CERT_FILE);
  const keyFile = join(options.dir, CA_KEY_FILE);
  for (const file of [keyFile, certFile]) {
    if (await exists(file)) {
      throw new AuthorityFileError(
        `${file} already exists: an authority is never overwritten (use another --data-dir)`,
      );
    }
  }
  const { publicKey, privateKey } = generateRsaKeyPair(AUTHORITY_KEY_BITS);
  const certificate = createCertificate(
    {
      subject: { commonName: options.name, organization: options.name },
      publicKey,
      notBefore: new Date(options.now - CLOCK_SKEW_MS),
      notAfter: new Date(options.now + (options.days ?? DEFAULT_AUTHORITY_DAYS) * DAY_MS),
      // It issues host certificates only: no intermediate authorities below it.
      basicConstraints: { cA: true, pathLength: 0 },
      keyUsage: { keyCertSign: true, cRLSign: true },
    },
    { privateKey },
  );
  await writeSecretFileAtomic(keyFile, privateKeyPem(privateKey, options.passphrase));
  await writeSecretFileAtomic(certFile, certificateToPem(certificate));
  await chmod(certFile, 0o644); // public
  return { certificate, certFile, keyFile };
}

/** Reads `dir`'s certificate and key (decrypting the key with `passphrase` if it is encrypted). */
export async function loadAuthority(dir: string, passphrase?: string): Promise<IssuingAuthority> {
  const certFile = join(dir, CA_CERT_FILE);
  const keyFile = join(dir, CA_KEY_FILE);
  const [certText, keyText] = await Promise.all([readText(certFile), readText(keyFile)]);
  const certificates = parseCertificatesPem(certText, certFile);
  const certificate = certificates[0];
  if (certificates.length !== 1 || !certificate) {
    throw new AuthorityFileError(`${certFile} must hold exactly one certificate`);
  }
  const encrypted = keyText.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----');
  if (encrypted && passphrase === undefined) {
    throw new AuthorityFileError(
      `${keyFile} is encrypted: give its passphrase with --passphrase-file FILE or the ` +
        'PARLEY_CA_PASSPHRASE environment variable',
    );
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(
      encrypted ? { key: keyText, format: 'pem', passphrase: passphrase ?? '' } : keyText,
    );
  } catch {
    throw new AuthorityFileError(
      encrypted
        ? `cannot decrypt ${keyFile}: wrong passphrase?`
        : `${keyFile} is not a readable private key`,
    );
  }
  if (!certificateMatchesKey(certificate, privateKey)) {
    throw new AuthorityFileError(`${keyFile} is not the key of the certificate in ${certFile}`);
  }
  return { certificate, privateKey };
}

/** `parley ca issue`: a host certificate binding `hostKey` to `names`. */
export function issueHostCertificate(options: {
  readonly authority: IssuingAuthority;
  readonly names: readonly HostName[];
  readonly hostKey: Uint8Array;
  readonly days?: number;
  readonly now: number;
}): Certificate {
  const { authority, now } = options;
  const days = options.days ?? DEFAULT_HOST_DAYS;
  if (options.names.length === 0) throw new AuthorityFileError('a host certificate needs a name');
  if (options.hostKey.length !== 32) throw new AuthorityFileError('a host key is 32 bytes');
  if (!Number.isInteger(days) || days < 1 || days > MAX_HOST_DAYS) {
    throw new AuthorityFileError(`a host certificate lives 1 to ${MAX_HOST_DAYS} days`);
  }
  const authorityCert = authority.certificate;
  if (now > authorityCert.notAfter.getTime()) {
    throw new AuthorityFileError(
      `the authority expired on ${authorityCert.notAfter.toISOString()}; create a new one`,
    );
  }
  const notAfter = now + days * DAY_MS;
  if (notAfter > authorityCert.notAfter.getTime()) {
    throw new AuthorityFileError(
      `the authority expires on ${authorityCert.notAfter.toISOString()}, before ${days} days ` +
        'from now: issue for fewer days, or rotate the authority (docs/trust.md)',
    );
  }
  return createCertificate(
    {
      subject: { commonName: options.names[0]?.name ?? '' },
      publicKey: generateRsaKeyPair(HOST_CERT_KEY_BITS).publicKey,
      notBefore: new Date(now - CLOCK_SKEW_MS),
      notAfter: new Date(notAfter),
      basicConstraints: { cA: false },
      names: options.names,
      uris: [keyBindingUri(options.hostKey)],
    },
    authority,
  );
}

/**
 * PKCS#8 PEM; with a passphrase, an EncryptedPrivateKeyInfo (RFC 8018 PBES2) built here because
 * Node exports only 2048 PBKDF2 iterations and forge's pure-JS PBKDF2 would take seconds. The
 * primitives are Node's; forge only writes the ASN.1; Node (OpenSSL) reads it back.
 */
export function privateKeyPem(privateKey: KeyObject, passphrase?: string): string {
  if (passphrase === undefined)
    return privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const salt = randomBytes(16);
  const iv = randomBytes(16);
  const key = pbkdf2Sync(passphrase, salt, PBKDF2_ITERATIONS, 32, 'sha256');
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  const plain = privateKey.export({ type: 'pkcs8', format: 'der' });
  const encrypted = Buffer.concat([cipher.update(plain), cipher.final()]);
  const { asn1 } = forge;
  const u = asn1.Class.UNIVERSAL;
  const seq = (items: forge.asn1.Asn1[]) => asn1.create(u, asn1.Type.SEQUENCE, true, items);
  const oid = (id: string) => asn1.create(u, asn1.Type.OID, false, asn1.oidToDer(id).getBytes());
  const octets = (bytes: Buffer) =>
    asn1.create(u, asn1.Type.OCTETSTRING, false, bytes.toString('binary'));
  const integer = (n: number) =>
    asn1.create(u, asn1.Type.INTEGER, false, asn1.integerToDer(n).getBytes());
  const info = seq([
    seq([
      oid('1.2.840.113549.1.5.13'), // PBES2
      seq([
        seq([
          oid('1.2.840.113549.1.5.12'), // PBKDF2
          seq([
            octets(salt),
            integer(PBKDF2_ITERATIONS),
            seq([oid('1.2.840.113549.2.9'), asn1.create(u, asn1.Type.NULL, false, '')]), // HMAC-SHA256
          ]),
        ]),
        seq([oid('2.16.840.1.101.3.4.1.42'), octets(iv)]), // AES-256-CBC
      ]),
    ]),
    octets(encrypted),
  ]);
  const der = Buffer.from(asn1.toDer(info).getBytes(), 'binary');
  const body = der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return `-----BEGIN ENCRYPTED PRIVATE KEY-----\n${body}\n-----END ENCRYPTED PRIVATE KEY-----\n`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new AuthorityFileError(
      `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'} ` +
        '(is this the folder of parley ca init?)',
    );
  }
}
