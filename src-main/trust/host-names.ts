import { isIP } from 'node:net';
import { equalBytes } from '../../src-shared/equal-bytes.ts';

/**
 * The names a host certificate is for, and how a name the user typed is matched against them:
 * a DNS name exactly (case-insensitive, one trailing dot ignored, never a wildcard), an IP
 * address as bytes (so `::1` and `0:0:0:0:0:0:0:1` are one address). The certificate's common
 * name is never used, only its subject alternative names.
 */
const DNS_NAME =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

export type HostName =
  | { readonly kind: 'dns'; readonly name: string }
  | { readonly kind: 'ip'; readonly name: string; readonly bytes: Uint8Array };

/** A name `parley ca issue --host` accepts: a DNS name (no wildcard) or an IP address. */
export function parseHostName(text: string): HostName | undefined {
  const trimmed = text.trim();
  const unbracketed = /^\[(.*)\]$/.exec(trimmed)?.[1] ?? trimmed;
  const bytes = parseIpAddress(unbracketed);
  if (bytes) return { kind: 'ip', name: unbracketed.toLowerCase(), bytes };
  const dns = normalizeDnsName(trimmed);
  return DNS_NAME.test(dns) ? { kind: 'dns', name: dns } : undefined;
}

export function normalizeDnsName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/** 4 or 16 bytes for an address Node itself accepts as IPv4 or IPv6 (no zone id), else undefined. */
export function parseIpAddress(text: string): Uint8Array | undefined {
  const family = isIP(text);
  if (family === 4) return new Uint8Array(text.split('.').map(Number));
  if (family !== 6 || text.includes('%')) return undefined;
  let head = text;
  let tail: number[] = [];
  const v4 = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    head = `${v4[1]}0:0`;
    tail = (v4[2] ?? '').split('.').map(Number);
  }
  const [left = '', right] = head.split('::');
  const groups = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const leftGroups = groups(left);
  const rightGroups = right === undefined ? [] : groups(right);
  const zeros = 8 - leftGroups.length - rightGroups.length;
  const all = [
    ...leftGroups,
    ...new Array<number>(right === undefined ? 0 : zeros).fill(0),
    ...rightGroups,
  ];
  if (all.length !== 8) return undefined;
  const out = new Uint8Array(16);
  all.forEach((group, i) => {
    out[i * 2] = group >> 8;
    out[i * 2 + 1] = group & 0xff;
  });
  if (tail.length === 4) out.set(tail, 12);
  return out;
}

/** Whether a certificate's names cover the host the user typed (see the module comment). */
export function namesMatchHost(
  names: { readonly dns: readonly string[]; readonly ip: readonly Uint8Array[] },
  typedHost: string,
): boolean {
  const ip = parseIpAddress(typedHost);
  if (ip) return names.ip.some((candidate) => equalBytes(candidate, ip));
  const wanted = normalizeDnsName(typedHost);
  return names.dns.some(
    (candidate) => !candidate.includes('*') && normalizeDnsName(candidate) === wanted,
  );
}

/** How an IP address SAN is shown: Node's canonical text for it. */
export function formatIpAddress(bytes: Uint8Array): string {
  if (bytes.length === 4) return [...bytes].join('.');
  if (bytes.length !== 16) return `<${bytes.length}-byte address>`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2)
    groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  // The longest run of two or more zero groups becomes '::' (RFC 5952).
  let best = { start: -1, length: 0 };
  for (let i = 0; i < 8;) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > best.length && j - i >= 2) best = { start: i, length: j - i };
    i = j;
  }
  if (best.start < 0) return groups.join(':');
  const left = groups.slice(0, best.start).join(':');
  const right = groups.slice(best.start + best.length).join(':');
  return `${left}::${right}`;
}
