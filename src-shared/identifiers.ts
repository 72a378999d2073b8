import { decodeBase64Url } from './base64url.ts';

/**
 * The formats of Parley's identifiers, in one place: the wire schemas, the IPC contract, the
 * stores, the line client and the UI all check against these, so that a name one of them accepts
 * is never refused by another. docs/protocol.md specifies them.
 */

/** Letters and numbers of any script (people's own names), `_`, `.` and `-`; 1 to 32 of them. */
export const MAX_NICK_LENGTH = 32;
export const NICK_PATTERN = /^[\p{L}\p{N}_.-]{1,32}$/u;
export const NICK_RULE = 'a nickname is 1–32 letters, numbers, _ . -';

/** ASCII only, lower case, starting with a letter or digit: a room name is typed and linked. */
export const MAX_ROOM_NAME_LENGTH = 64;
export const ROOM_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** An X25519 public key (32 bytes) as unpadded base64url: always 43 characters. */
export const PUBLIC_KEY_TEXT_LENGTH = 43;
export const PUBLIC_KEY_TEXT_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** Chosen by the sender so that a resend after a reconnect is delivered once: base64url. */
export const MIN_CLIENT_MESSAGE_ID_LENGTH = 8;
export const MAX_CLIENT_MESSAGE_ID_LENGTH = 64;
export const CLIENT_MESSAGE_ID_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;

/**
 * An invite's secret: 18 random bytes as unpadded base64url (144 bits). It travels only inside
 * the secure channel; the host keeps only its SHA-256.
 */
export const INVITE_TOKEN_PATTERN = /^[A-Za-z0-9_-]{24}$/;

/** Names of the form `dm.<32 hex>` belong to direct messages; nobody may create one. */
export const DM_ROOM_PREFIX = 'dm.';

export function isInviteToken(text: string): boolean {
  return INVITE_TOKEN_PATTERN.test(text);
}

export function isValidNick(text: string): boolean {
  return NICK_PATTERN.test(text);
}

export function isValidRoomName(text: string): boolean {
  return ROOM_NAME_PATTERN.test(text);
}

export function isPublicKeyText(text: string): boolean {
  return PUBLIC_KEY_TEXT_PATTERN.test(text);
}

export function isClientMessageId(text: string): boolean {
  return CLIENT_MESSAGE_ID_PATTERN.test(text);
}

/**
 * The key's 32 bytes, or undefined for anything else. Canonical decoding makes this exact:
 * 43 characters carry 258 bits, and the 2 spare bits must be zero, so one key has one text.
 */
export function decodePublicKeyText(text: string): Uint8Array | undefined {
  return isPublicKeyText(text) ? decodeBase64Url(text) : undefined;
}
