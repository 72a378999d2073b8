import { encodeBase64Url } from './base64url.ts';
import { decodePublicKeyText, isInviteToken, isValidRoomName } from './identifiers.ts';
import { type Result, fail, ok } from './result.ts';

/**
 * `parley://HOST:PORT/ROOM?invite=TOKEN#HOSTKEY` (docs/protocol.md §11.1). The host key in the
 * fragment lets a client pin the host before its first byte; the token, if any, admits the key
 * that redeems it to ROOM, and is sent only inside the channel, after the host key checked out.
 * Without a token the link only pins the host: its members and open rooms get in, nobody else.
 */
export interface Invite {
  readonly host: string; // a DNS name, IPv4, or IPv6 without brackets
  readonly port: number;
  readonly room: string;
  readonly hostKey: Uint8Array;
  readonly token?: string;
}

/** A host to dial without a key (trust on first use). */
export interface HostAddress {
  readonly host: string;
  readonly port: number;
}

export type InviteErrorCode = 'invalid-invite';

export const DEFAULT_PORT = 7878;
export const DEFAULT_ROOM = 'lobby';
const HOSTNAME =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;
const IPV6 = /^[0-9a-f:.]+(?:%[a-z0-9_.-]+)?$/i;
const MAX_INVITE_LENGTH = 2048;
/** `ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255`, the longest IPv6 text. */
const MAX_IPV6_LENGTH = 45;
/** A zone (`%eth0`, `%12`): an interface name or index. */
const MAX_ZONE_LENGTH = 64;

/** An IPv6 host goes in brackets, so that its colons are not taken for the port's. */
export function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** `host:port` or `[v6]:port`. */
export function formatAddress(host: string, port: number): string {
  return `${formatHost(host)}:${port}`;
}

export function formatInvite(invite: Invite): string {
  const query = invite.token === undefined ? '' : `?invite=${invite.token}`;
  return `parley://${formatHost(invite.host)}:${invite.port}/${invite.room}${query}#${encodeBase64Url(invite.hostKey)}`;
}

export function parseInvite(text: string): Result<Invite, InviteErrorCode> {
  const input = text.trim();
  if (input.length > MAX_INVITE_LENGTH)
    return fail('invalid-invite', 'the invite link is too long');
  const match = /^parley:\/\/([^/#?]+)\/([^/#?]*)(?:\?invite=([^#]*))?#([A-Za-z0-9_-]*)$/i.exec(
    input,
  );
  if (!match) {
    return fail('invalid-invite', 'an invite link looks like parley://host:port/room?invite=…#key');
  }
  const [, authority = '', room = '', token, key = ''] = match;
  const address = parseHostAddress(authority);
  if (!address.ok) return address;
  if (!isValidRoomName(room)) {
    return fail('invalid-invite', `"${room}" is not a room name (a-z, 0-9, . _ -; up to 64)`);
  }
  const hostKey = decodePublicKeyText(key);
  if (!hostKey) {
    return fail('invalid-invite', 'the host key after # must be 43 characters of base64url');
  }
  if (token !== undefined && !isInviteToken(token)) {
    return fail(
      'invalid-invite',
      'the invite code after ?invite= must be 24 characters of base64url',
    );
  }
  return ok({ ...address.value, room, hostKey, ...(token === undefined ? {} : { token }) });
}

/** An invite link's shape inside other text: up to its host key, which ends at a non-base64url. */
const INVITE_IN_TEXT = /parley:\/\/[^\s#<>"'`]*#[A-Za-z0-9_-]*/gi;

/**
 * The invite link inside pasted text ("Join us: parley://… see you there"): the first one that
 * parses, else the first that looks like one (so its error can be shown); undefined if none.
 */
export function findInvite(text: string): string | undefined {
  if (text.length > MAX_INVITE_LENGTH * 8) return undefined;
  const found = [...text.matchAll(INVITE_IN_TEXT)].map((match) => match[0]);
  return found.find((candidate) => parseInvite(candidate).ok) ?? found[0];
}

/** `host`, `host:port`, `[v6]`, `[v6]:port`. */
export function parseHostAddress(text: string): Result<HostAddress, InviteErrorCode> {
  const input = text.trim();
  let host: string;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(input);
  if (bracketed) {
    host = bracketed[1] ?? '';
    portText = bracketed[2];
    if (!IPV6.test(host) || !host.includes(':')) {
      return fail('invalid-invite', `"${host}" is not an IPv6 address`);
    }
    // The pattern takes any run of hex digits and colons: bound it as a host name is, or a
    // link could name a host too long for the app to address (HostId) once it is added.
    const [ip = '', zone = ''] = host.split('%');
    if (ip.length > MAX_IPV6_LENGTH || zone.length > MAX_ZONE_LENGTH) {
      return fail('invalid-invite', 'that IPv6 address is too long');
    }
  } else {
    const parts = input.split(':');
    if (parts.length > 2) {
      return fail('invalid-invite', 'write an IPv6 host in brackets, like [::1]:7878');
    }
    host = parts[0] ?? '';
    portText = parts[1];
    if (!HOSTNAME.test(host)) return fail('invalid-invite', `"${host}" is not a host name`);
  }
  const port = portText === undefined ? DEFAULT_PORT : Number(portText);
  if (
    !/^\d{1,5}$/.test(portText ?? '7878') ||
    !Number.isInteger(port) ||
    port < 1 ||
    port > 65535
  ) {
    return fail('invalid-invite', `"${portText ?? ''}" is not a port (1–65535)`);
  }
  return ok({ host: host.toLowerCase(), port });
}
