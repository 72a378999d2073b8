/**
 * extendedKeyUsage (RFC 5280 §4.2.1.12): what a certificate's key may be used for. A host
 * certificate that has the extension must list serverAuth: a certificate an authority issued
 * for, say, code signing or a person's e-mail must not vouch for a chat host.
 */
export const EXTENDED_KEY_USAGE = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  emailProtection: '1.3.6.1.5.5.7.3.4',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  ocspSigning: '1.3.6.1.5.5.7.3.9',
  anyExtendedKeyUsage: '2.5.29.37.0',
} as const;

const NAMES: ReadonlyMap<string, string> = new Map([
  [EXTENDED_KEY_USAGE.serverAuth, 'server authentication'],
  [EXTENDED_KEY_USAGE.clientAuth, 'client authentication'],
  [EXTENDED_KEY_USAGE.codeSigning, 'code signing'],
  [EXTENDED_KEY_USAGE.emailProtection, 'e-mail protection'],
  [EXTENDED_KEY_USAGE.timeStamping, 'time stamping'],
  [EXTENDED_KEY_USAGE.ocspSigning, 'OCSP signing'],
  [EXTENDED_KEY_USAGE.anyExtendedKeyUsage, 'any purpose'],
]);

/** A purpose for people: its name, or "purpose OID" for one we do not know by name. */
export function extendedKeyUsageName(oid: string): string {
  return NAMES.get(oid) ?? `purpose ${oid}`;
}

/**
 * Whether a certificate with these extendedKeyUsage OIDs (undefined: no extension) may
 * identify a server. Only serverAuth counts; anyExtendedKeyUsage does not (as in OpenSSL's
 * SSL server purpose check): an authority that means "a server" says so.
 */
export function allowsServerAuth(usages: readonly string[] | undefined): boolean {
  return usages === undefined || usages.includes(EXTENDED_KEY_USAGE.serverAuth);
}
