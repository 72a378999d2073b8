import {
  type KeyObject,
  X509Certificate,
  createHash,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
} from 'node:crypto';
import forge from 'node-forge';
import { CertificateRejected } from './certificate-error.ts';
import { type HostName, formatIpAddress } from './host-names.ts';
import { isKeyBindingUri } from './key-binding.ts';

/**
 * X.509 at the edge: every certificate Parley creates or reads goes through this module, which
 * turns it into the plain `Certificate` record the checks use. Node's own X.509 code (OpenSSL)
 * reads keys, validity and the CA flag and verifies every signature, RSA and ECDSA alike.
 * node-forge does what Node cannot: it issues certificates (`parley ca`, RSA with SHA-256),
 * reads the extensions Node does not expose (keyUsage bits, pathLenConstraint, key identifiers,
 * which extensions are critical) and gives a second opinion on the path (name constraints).
 * forge reads only RSA keys, so it is shown a placeholder key for any other (forgeCertificate);
 * it never verifies a signature itself. Neither is on the message path: only CLI commands and
 * the handshake's host check come here.
 */

export const OID = {
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  extKeyUsage: '2.5.29.37',
  nameConstraints: '2.5.29.30',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
  sha384WithRSAEncryption: '1.2.840.113549.1.1.12',
  sha512WithRSAEncryption: '1.2.840.113549.1.1.13',
  ecdsaWithSHA256: '1.2.840.10045.4.3.2',
  ecdsaWithSHA384: '1.2.840.10045.4.3.3',
  ecdsaWithSHA512: '1.2.840.10045.4.3.4',
  rsaEncryption: '1.2.840.113549.1.1.1',
} as const;

export const ACCEPTED_SIGNATURE_ALGORITHMS: ReadonlySet<string> = new Set([
  OID.sha256WithRSAEncryption,
  OID.sha384WithRSAEncryption,
  OID.sha512WithRSAEncryption,
  OID.ecdsaWithSHA256,
  OID.ecdsaWithSHA384,
  OID.ecdsaWithSHA512,
]);

/** Signature algorithms by name, for messages: people know "ECDSA with SHA-1", not OIDs. */
const SIGNATURE_ALGORITHM_NAMES: ReadonlyMap<string, string> = new Map([
  ['1.2.840.113549.1.1.4', 'RSA with MD5'],
  ['1.2.840.113549.1.1.5', 'RSA with SHA-1'],
  ['1.2.840.113549.1.1.14', 'RSA with SHA-224'],
  [OID.sha256WithRSAEncryption, 'RSA with SHA-256'],
  [OID.sha384WithRSAEncryption, 'RSA with SHA-384'],
  [OID.sha512WithRSAEncryption, 'RSA with SHA-512'],
  ['1.2.840.113549.1.1.10', 'RSASSA-PSS'],
  ['1.2.840.10045.4.1', 'ECDSA with SHA-1'],
  ['1.2.840.10045.4.3.1', 'ECDSA with SHA-224'],
  [OID.ecdsaWithSHA256, 'ECDSA with SHA-256'],
  [OID.ecdsaWithSHA384, 'ECDSA with SHA-384'],
  [OID.ecdsaWithSHA512, 'ECDSA with SHA-512'],
  ['1.3.101.112', 'Ed25519'],
  ['1.3.101.113', 'Ed448'],
  ['1.2.840.10040.4.3', 'DSA with SHA-1'],
  ['2.16.840.1.101.3.4.3.2', 'DSA with SHA-256'],
]);

/** The public key of a certificate, as far as the checks care. */
export type PublicKeyInfo =
  | { readonly kind: 'rsa'; readonly bits: number; readonly exponent: bigint }
  | { readonly kind: 'ec'; readonly curve: string }
  | { readonly kind: 'other'; readonly name: string };

/** Curves by the names people use (NIST's), from OpenSSL's names. */
const CURVE_NAMES: ReadonlyMap<string, string> = new Map([
  ['prime256v1', 'P-256'],
  ['secp384r1', 'P-384'],
  ['secp521r1', 'P-521'],
  ['secp224r1', 'P-224'],
  ['prime192v1', 'P-192'],
]);

const KEY_TYPE_NAMES: ReadonlyMap<string, string> = new Map([
  ['rsa-pss', 'RSA-PSS'],
  ['dsa', 'DSA'],
  ['ed25519', 'Ed25519'],
  ['ed448', 'Ed448'],
  ['x25519', 'X25519'],
  ['x448', 'X448'],
  ['dh', 'Diffie-Hellman'],
]);

/** "RSA-3072", "ECDSA P-256", "Ed25519": a key's algorithm as people name it. */
export function keyAlgorithmName(key: PublicKeyInfo): string {
  if (key.kind === 'rsa') return `RSA-${key.bits}`;
  if (key.kind === 'ec') return `ECDSA ${key.curve}`;
  return key.name;
}

/** A parsed certificate: what the checks need, as plain typed data. */
export interface Certificate {
  readonly der: Uint8Array;
  /** SHA-256 of the DER, as `AB:CD:…` (what `openssl x509 -fingerprint -sha256` prints). */
  readonly fingerprint: string;
  /** Hex, as in the certificate. */
  readonly serial: string;
  /** `CN=…, O=…` */
  readonly subject: string;
  readonly issuer: string;
  readonly commonName: string | undefined;
  readonly organization: string | undefined;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** The OID of the signature algorithm (outer and inner must agree, or parsing fails). */
  readonly signatureAlgorithm: string;
  /** The same as people name it: "ECDSA with SHA-384", "RSA with SHA-1"… */
  readonly signatureAlgorithmName: string;
  /** basicConstraints (2.5.29.19), if present. */
  readonly basicConstraints: { readonly cA: boolean; readonly pathLength?: number } | undefined;
  /** keyUsage (2.5.29.15), if present. */
  readonly keyUsage:
    { readonly keyCertSign: boolean; readonly digitalSignature: boolean } | undefined;
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly Uint8Array[];
  readonly uris: readonly string[];
  readonly subjectKeyId: string | undefined;
  readonly authorityKeyId: string | undefined;
  /** extendedKeyUsage (2.5.29.37) purposes as OIDs, if the extension is present. */
  readonly extendedKeyUsage: readonly string[] | undefined;
  /** OIDs of the extensions marked critical. */
  readonly criticalExtensions: readonly string[];
  /** The certificate's public key (read by Node). */
  readonly publicKey: PublicKeyInfo;
}

interface Internals {
  readonly forge: forge.pki.Certificate;
  readonly node: X509Certificate;
}
const internals = new WeakMap<Certificate, Internals>();

function internalsOf(certificate: Certificate): Internals {
  const found = internals.get(certificate);
  if (!found) throw new TypeError('not a certificate parsed by trust/x509.ts');
  return found;
}

const malformed = (what: string, detail: string) =>
  new CertificateRejected('certificate-malformed', `${what} is not a valid certificate: ${detail}`);

// ── reading ──────────────────────────────────────────────────────────────────────────

/** Parses one DER certificate; throws CertificateRejected('certificate-malformed'). */
export function parseCertificate(der: Uint8Array, what = 'the certificate'): Certificate {
  let parsed: forge.pki.Certificate;
  let node: X509Certificate;
  try {
    parsed = forgeCertificate(der);
  } catch (error) {
    throw malformed(what, describe(error));
  }
  try {
    node = new X509Certificate(der);
  } catch (error) {
    throw malformed(what, describe(error));
  }
  const extensions = extensionsOf(parsed);
  const ids = extensions.map((e) => e.id);
  const duplicate = ids.find((id, i) => ids.indexOf(id) !== i);
  if (duplicate) throw malformed(what, `the extension ${duplicate} appears twice`);
  if (parsed.signatureOid !== parsed.siginfo.algorithmOid) {
    throw malformed(what, 'its two signature algorithm fields differ');
  }
  const byId = (id: string) => extensions.find((e) => e.id === id);

  const bc = byId(OID.basicConstraints);
  const ku = byId(OID.keyUsage);
  const san = byId(OID.subjectAltName);
  const dnsNames: string[] = [];
  const ipAddresses: Uint8Array[] = [];
  const uris: string[] = [];
  if (san) {
    const altNames = san.fields['altNames'];
    if (!Array.isArray(altNames)) throw malformed(what, 'unreadable subjectAltName');
    for (const entry of altNames as unknown[]) {
      const name = entry as { type?: unknown; value?: unknown };
      if (typeof name.value !== 'string') continue;
      if (name.type === 2) dnsNames.push(name.value);
      else if (name.type === 6) uris.push(name.value);
      else if (name.type === 7) ipAddresses.push(binaryToBytes(name.value));
    }
  }
  // The binding is what the whole check is about: Node's reading of the names must agree.
  let read: NodeReading;
  try {
    read = readWithNode(node, byId(OID.extKeyUsage) !== undefined);
  } catch (error) {
    // A key or extension OpenSSL cannot decode (e.g. a corrupted public key).
    throw malformed(what, describe(error));
  }
  const disputed = uris.find((uri) => isKeyBindingUri(uri) && !read.altNames.has(`URI:${uri}`));
  if (disputed !== undefined) {
    throw malformed(what, 'node-forge and Node read its parley-key: name differently');
  }
  const ski = byId(OID.subjectKeyIdentifier)?.fields['subjectKeyIdentifier'];
  const aki = byId(OID.authorityKeyIdentifier);
  const certificate: Certificate = {
    der: der.slice(),
    fingerprint: sha256Fingerprint(der),
    serial: parsed.serialNumber.toUpperCase(),
    subject: distinguishedName(parsed.subject.attributes),
    issuer: distinguishedName(parsed.issuer.attributes),
    commonName: attribute(parsed.subject.attributes, '2.5.4.3'),
    organization: attribute(parsed.subject.attributes, '2.5.4.10'),
    notBefore: read.notBefore,
    notAfter: read.notAfter,
    signatureAlgorithm: parsed.signatureOid,
    signatureAlgorithmName: signatureAlgorithmName(parsed.signatureOid, node),
    basicConstraints: bc
      ? {
          // Node's (OpenSSL's) reading: cA=true in a well-formed basicConstraints.
          cA: read.ca,
          ...(typeof bc.fields['pathLenConstraint'] === 'number'
            ? { pathLength: bc.fields['pathLenConstraint'] }
            : {}),
        }
      : undefined,
    keyUsage: ku
      ? {
          keyCertSign: ku.fields['keyCertSign'] === true,
          digitalSignature: ku.fields['digitalSignature'] === true,
        }
      : undefined,
    dnsNames,
    ipAddresses,
    uris,
    subjectKeyId: typeof ski === 'string' ? ski.toLowerCase() : undefined,
    authorityKeyId: aki ? authorityKeyIdOf(aki.value) : undefined,
    extendedKeyUsage: read.extendedKeyUsage,
    criticalExtensions: extensions.filter((e) => e.critical).map((e) => e.id),
    publicKey: read.publicKey,
  };
  internals.set(certificate, { forge: parsed, node });
  return certificate;
}

export interface PemBlock {
  readonly label: string;
  readonly der: Uint8Array;
}

/** The PEM blocks of a text (RFC 7468), in order. Text outside blocks is ignored. */
export function decodePem(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  const pattern = /-----BEGIN ([A-Z0-9 ]{1,64})-----([\s\S]*?)-----END \1-----/g;
  for (const match of text.matchAll(pattern)) {
    const body = (match[2] ?? '').replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body) || body.length % 4 !== 0) continue;
    blocks.push({ label: match[1] ?? '', der: new Uint8Array(Buffer.from(body, 'base64')) });
  }
  return blocks;
}

export function containsPrivateKey(text: string): boolean {
  return /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(text);
}

/** Every CERTIFICATE block of a PEM text, parsed. */
export function parseCertificatesPem(text: string, what = 'the file'): Certificate[] {
  return decodePem(text)
    .filter((block) => block.label === 'CERTIFICATE')
    .map((block, i) => parseCertificate(block.der, `certificate ${i + 1} in ${what}`));
}

export function certificateToPem(certificate: Certificate): string {
  const base64 = Buffer.from(certificate.der).toString('base64');
  return `-----BEGIN CERTIFICATE-----\n${base64.replace(/.{64}/g, '$&\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;
}

/** The names a certificate is for, as text: DNS names and IP addresses. */
export function hostNamesOf(certificate: Certificate): string[] {
  return [...certificate.dnsNames, ...certificate.ipAddresses.map(formatIpAddress)];
}

/** A short human name: the common name, else the organisation, else the subject. */
export function displayName(certificate: Certificate): string {
  return certificate.commonName ?? certificate.organization ?? certificate.subject;
}

// ── checking ─────────────────────────────────────────────────────────────────────────

/**
 * Whether `issuer` could have issued `child` by their names and key identifiers (no signature
 * check): child's issuer name is issuer's subject, and the key identifiers, where both are
 * present, agree.
 */
export function mayHaveIssued(issuer: Certificate, child: Certificate): boolean {
  if (!internalsOf(child).forge.isIssuer(internalsOf(issuer).forge)) return false;
  return (
    !child.authorityKeyId || !issuer.subjectKeyId || child.authorityKeyId === issuer.subjectKeyId
  );
}

/** Whether `child`'s signature verifies with `issuer`'s key (Node's X.509 code: RSA, ECDSA). */
export function signatureVerifies(issuer: Certificate, child: Certificate): boolean {
  return nodeVerifies(internalsOf(issuer).node, internalsOf(child).node);
}

/**
 * Node's (OpenSSL's) own view of one link: `issuer` issued `child` by names, key identifiers
 * and key usage (X509_check_issued). A second opinion after our checks.
 */
export function nodeAgreesIssued(issuer: Certificate, child: Certificate): boolean {
  return holds(() => internalsOf(child).node.checkIssued(internalsOf(issuer).node));
}

function nodeVerifies(issuer: X509Certificate, child: X509Certificate): boolean {
  return holds(() => child.verify(issuer.publicKey));
}

/** Extensions the checks in verify-chain.ts process themselves, so they may be critical. */
const PROCESSED_HERE = new Set<string>([
  OID.subjectAltName,
  OID.extKeyUsage,
  OID.subjectKeyIdentifier,
  OID.authorityKeyIdentifier,
]);

/**
 * node-forge's RFC 5280 path validation (issuer names, CA flags, path length, name constraints,
 * unknown critical extensions) over `path` (leaf first) up to `anchor`, as a second opinion
 * after our own checks. Signatures forge asks about are verified by Node (forge reads RSA keys
 * only); validity dates are ours (with clock-skew tolerance), so forge does not check them.
 * Returns forge's reason for a refusal, or undefined.
 */
export function forgeRefusal(
  path: readonly Certificate[],
  anchor: Certificate,
): string | undefined {
  const nodeOf = new Map<forge.pki.Certificate, X509Certificate>();
  const withNodeSignatures = (certificate: Certificate): forge.pki.Certificate => {
    const copy = forgeCertificate(certificate.der);
    const node = internalsOf(certificate).node;
    nodeOf.set(copy, node);
    copy.verify = (child) => {
      const signed = nodeOf.get(child);
      return signed !== undefined && nodeVerifies(node, signed);
    };
    return copy;
  };
  const copies = path.map((certificate) => {
    const copy = withNodeSignatures(certificate);
    // forge knows no critical SAN or EKU; we have processed those, so forge may skip them.
    for (const extension of copy.extensions as { id?: unknown; critical?: unknown }[]) {
      if (typeof extension.id === 'string' && PROCESSED_HERE.has(extension.id))
        extension.critical = false;
    }
    return copy;
  });
  try {
    const store = forge.pki.createCaStore([withNodeSignatures(anchor)]);
    forge.pki.verifyCertificateChain(store, copies, { validityCheckDate: null });
    return undefined;
  } catch (error) {
    return describe(error);
  }
}

// ── creating ─────────────────────────────────────────────────────────────────────────

export interface CertificateSpec {
  readonly subject: { readonly commonName: string; readonly organization?: string };
  /** The certificate's RSA public key. */
  readonly publicKey: KeyObject;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Hex; default 16 random bytes (positive, high byte non-zero). */
  readonly serial?: string;
  /** Omitted: no basicConstraints extension. Always written critical. */
  readonly basicConstraints?: { readonly cA: boolean; readonly pathLength?: number };
  /** Omitted: no keyUsage extension. Always written critical. */
  readonly keyUsage?: {
    readonly keyCertSign?: boolean;
    readonly cRLSign?: boolean;
    readonly digitalSignature?: boolean;
  };
  /** Omitted: no extendedKeyUsage extension. Purposes as OIDs (extended-key-usage.ts). */
  readonly extendedKeyUsage?: readonly string[];
  readonly names?: readonly HostName[];
  readonly uris?: readonly string[];
  /** Any other extension, as its DER value (e.g. name constraints). */
  readonly extraExtensions?: readonly {
    readonly id: string;
    readonly critical: boolean;
    readonly der: Uint8Array;
  }[];
}

export interface Signer {
  /** The issuing authority's certificate; omitted for a self-signed certificate. */
  readonly certificate?: Certificate;
  /** Its RSA private key. */
  readonly privateKey: KeyObject;
}

/** Builds and signs (RSA, SHA-256) a certificate; returns it parsed back from its DER. */
export function createCertificate(spec: CertificateSpec, signer: Signer): Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(
    spec.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  );
  cert.serialNumber = spec.serial ?? randomSerial();
  cert.validity.notBefore = spec.notBefore;
  cert.validity.notAfter = spec.notAfter;
  const subject = [
    { type: '2.5.4.3', value: spec.subject.commonName, valueTagClass: UTF8 },
    ...(spec.subject.organization
      ? [{ type: '2.5.4.10', value: spec.subject.organization, valueTagClass: UTF8 }]
      : []),
  ];
  cert.setSubject(subject as forge.pki.CertificateField[]);
  if (signer.certificate) {
    // forge re-encodes UTF8 values when writing, so they go back as text; others as they are.
    const issuer = (internalsOf(signer.certificate).forge.subject.attributes as Attribute[]).map(
      (a) => ({
        type: a.type,
        value: a.valueTagClass === UTF8 ? attributeText(a) : a.value,
        valueTagClass: a.valueTagClass,
      }),
    );
    cert.setIssuer(issuer as forge.pki.CertificateField[]);
  } else {
    cert.setIssuer(subject as forge.pki.CertificateField[]);
  }
  const extensions: Record<string, unknown>[] = [];
  if (spec.basicConstraints) {
    extensions.push({
      name: 'basicConstraints',
      critical: true,
      cA: spec.basicConstraints.cA,
      ...(spec.basicConstraints.pathLength !== undefined
        ? { pathLenConstraint: spec.basicConstraints.pathLength }
        : {}),
    });
  }
  if (spec.keyUsage) extensions.push({ name: 'keyUsage', critical: true, ...spec.keyUsage });
  if (spec.extendedKeyUsage) {
    // forge writes every key set to true as a purpose: its name for an OID it knows, else the OID.
    const forgeNames = forge.pki.oids as Record<string, string | undefined>;
    extensions.push({
      name: 'extKeyUsage',
      ...Object.fromEntries(spec.extendedKeyUsage.map((oid) => [forgeNames[oid] ?? oid, true])),
    });
  }
  const altNames = [
    ...(spec.names ?? []).map((name) =>
      name.kind === 'dns'
        ? { type: 2, value: name.name }
        : { type: 7, value: bytesToBinary(name.bytes) },
    ),
    ...(spec.uris ?? []).map((uri) => ({ type: 6, value: uri })),
  ];
  if (altNames.length > 0) extensions.push({ name: 'subjectAltName', altNames });
  extensions.push({ name: 'subjectKeyIdentifier' });
  if (signer.certificate?.subjectKeyId) {
    extensions.push({
      name: 'authorityKeyIdentifier',
      keyIdentifier: forge.util.hexToBytes(signer.certificate.subjectKeyId),
    });
  } else if (!signer.certificate) {
    extensions.push({ name: 'authorityKeyIdentifier', keyIdentifier: true });
  }
  for (const extra of spec.extraExtensions ?? []) {
    extensions.push({ id: extra.id, critical: extra.critical, value: bytesToBinary(extra.der) });
  }
  cert.setExtensions(extensions);
  const privateKey = forge.pki.privateKeyFromPem(
    signer.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  );
  cert.sign(privateKey, forge.md.sha256.create());
  const der = binaryToBytes(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes());
  return parseCertificate(der, 'the new certificate');
}

/** A fresh RSA key pair (Node's generator: forge's is slow). */
export function generateRsaKeyPair(bits = 3072): { publicKey: KeyObject; privateKey: KeyObject } {
  return generateKeyPairSync('rsa', { modulusLength: bits });
}

/** Whether `privateKey` is the private half of the certificate's public key. */
export function certificateMatchesKey(certificate: Certificate, privateKey: KeyObject): boolean {
  const ours = internalsOf(certificate).node.publicKey.export({ type: 'spki', format: 'der' });
  const theirs = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  return ours.equals(theirs);
}

// ── helpers ──────────────────────────────────────────────────────────────────────────

const UTF8 = 12; // forge.asn1.Type.UTF8

/**
 * forge's reading of a certificate. forge refuses any key but RSA ("OID is not RSA"), so an
 * ECDSA (or other) subjectPublicKeyInfo is swapped for a placeholder RSA key before forge sees
 * it: forge is used for names and extensions only, never for the key or a signature (Node reads
 * and verifies those), so the placeholder cannot be mistaken for the real key.
 */
function forgeCertificate(der: Uint8Array): forge.pki.Certificate {
  const asn1 = forge.asn1.fromDer(forge.util.createBuffer(bytesToBinary(der)), true);
  const tbs = Array.isArray(asn1.value) ? asn1.value[0] : undefined;
  if (tbs && Array.isArray(tbs.value)) {
    const first = tbs.value[0];
    // TBSCertificate: [0] version (optional), serial, signature, issuer, validity, subject, spki
    const at = first?.tagClass === forge.asn1.Class.CONTEXT_SPECIFIC ? 6 : 5;
    const spki = tbs.value[at];
    const algorithm = Array.isArray(spki?.value) ? spki.value[0] : undefined;
    const oid = Array.isArray(algorithm?.value) ? algorithm.value[0] : undefined;
    if (
      spki &&
      typeof oid?.value === 'string' &&
      holds(() => forge.asn1.derToOid(oid.value as string) !== OID.rsaEncryption)
    ) {
      tbs.value[at] = placeholderRsaKey();
    }
  }
  // No hash: forge never verifies a signature here (Node does).
  return forge.pki.certificateFromAsn1(asn1, false);
}

function placeholderRsaKey(): forge.asn1.Asn1 {
  const { BigInteger } = forge.jsbn;
  return forge.pki.publicKeyToAsn1(
    forge.pki.rsa.setPublicKey(new BigInteger('ff', 16), new BigInteger('3', 16)),
  );
}

/** What Node's X.509 code (OpenSSL) says about a certificate; its getters may throw. */
interface NodeReading {
  /** subjectAltName entries as Node prints them (`DNS:…`, `URI:…`). */
  readonly altNames: ReadonlySet<string>;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly ca: boolean;
  readonly extendedKeyUsage: readonly string[] | undefined;
  readonly publicKey: PublicKeyInfo;
}

function readWithNode(node: X509Certificate, hasExtendedKeyUsage: boolean): NodeReading {
  return {
    altNames: new Set((node.subjectAltName ?? '').split(', ')),
    notBefore: node.validFromDate,
    notAfter: node.validToDate,
    ca: node.ca,
    // Node calls extendedKeyUsage `keyUsage`.
    extendedKeyUsage: hasExtendedKeyUsage ? (node.keyUsage ?? []) : undefined,
    publicKey: publicKeyInfo(node.publicKey),
  };
}

function publicKeyInfo(key: KeyObject): PublicKeyInfo {
  const type = key.asymmetricKeyType ?? 'unknown';
  const details = key.asymmetricKeyDetails ?? {};
  if (type === 'rsa') {
    return {
      kind: 'rsa',
      bits: details.modulusLength ?? 0,
      exponent: details.publicExponent ?? 0n,
    };
  }
  if (type === 'ec') {
    const curve = details.namedCurve ?? 'an unnamed curve';
    return { kind: 'ec', curve: CURVE_NAMES.get(curve) ?? curve };
  }
  return { kind: 'other', name: KEY_TYPE_NAMES.get(type) ?? type.toUpperCase() };
}

function signatureAlgorithmName(oid: string, node: X509Certificate): string {
  const known = SIGNATURE_ALGORITHM_NAMES.get(oid);
  if (known !== undefined) return known;
  const openssl = node.signatureAlgorithm;
  return openssl && openssl !== oid ? openssl : `an unknown algorithm (${oid})`;
}

interface Extension {
  readonly id: string;
  readonly critical: boolean;
  /** The extension's DER value, as forge's binary string. */
  readonly value: string;
  /** What forge decoded from it (e.g. `cA`, `altNames`). */
  readonly fields: Readonly<Record<string, unknown>>;
}

function extensionsOf(certificate: forge.pki.Certificate): Extension[] {
  return (certificate.extensions as unknown[]).map((raw) => {
    const fields = raw as Record<string, unknown>;
    if (typeof fields['id'] !== 'string') throw new Error('an extension without an OID');
    return {
      id: fields['id'],
      critical: fields['critical'] === true,
      value: typeof fields['value'] === 'string' ? fields['value'] : '',
      fields,
    };
  });
}

/** AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING OPTIONAL, … } */
function authorityKeyIdOf(value: string): string | undefined {
  try {
    const sequence = forge.asn1.fromDer(value, true);
    if (!Array.isArray(sequence.value)) return undefined;
    const keyId = sequence.value.find(
      (item) => item.tagClass === forge.asn1.Class.CONTEXT_SPECIFIC && item.type === 0,
    );
    return typeof keyId?.value === 'string'
      ? forge.util.bytesToHex(keyId.value).toLowerCase()
      : undefined;
  } catch {
    return undefined;
  }
}

interface Attribute {
  readonly type?: unknown;
  readonly shortName?: unknown;
  readonly value?: unknown;
  readonly valueTagClass?: unknown;
}

function attributeText(attribute: Attribute): string {
  const raw = typeof attribute.value === 'string' ? attribute.value : '';
  if (attribute.valueTagClass === UTF8) return new TextDecoder().decode(binaryToBytes(raw));
  if (attribute.valueTagClass === 30) {
    return Buffer.from(binaryToBytes(raw)).swap16().toString('utf16le'); // BMPString
  }
  return raw;
}

function attribute(attributes: readonly Attribute[], oid: string): string | undefined {
  const found = attributes.find((a) => a.type === oid);
  return found ? attributeText(found) : undefined;
}

function distinguishedName(attributes: readonly Attribute[]): string {
  return attributes
    .map(
      (a) =>
        `${typeof a.shortName === 'string' ? a.shortName : String(a.type)}=${attributeText(a)}`,
    )
    .join(', ')
    .slice(0, 256); // for messages and lists; issuer matching uses forge’s parsed names
}

function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x40; // positive and minimally encoded: 126 random bits
  return bytes.toString('hex');
}

export function sha256Fingerprint(der: Uint8Array): string {
  return (createHash('sha256').update(der).digest('hex').toUpperCase().match(/../g) ?? []).join(
    ':',
  );
}

function bytesToBinary(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('binary');
}

function binaryToBytes(binary: string): Uint8Array {
  return new Uint8Array(Buffer.from(binary, 'binary'));
}

/** A check that throws fails. */
function holds(check: () => boolean): boolean {
  try {
    return check();
  } catch {
    return false;
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'object' && error !== null && 'message' in error) {
    return String((error as { message: unknown }).message);
  }
  return String(error);
}
