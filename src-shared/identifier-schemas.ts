import { z } from 'zod';
import {
  CLIENT_MESSAGE_ID_PATTERN,
  INVITE_TOKEN_PATTERN,
  NICK_PATTERN,
  NICK_RULE,
  PUBLIC_KEY_TEXT_PATTERN,
  ROOM_NAME_PATTERN,
} from './identifiers.ts';

/**
 * The identifiers as zod schemas, for the wire messages, the IPC contract and the stored files.
 * A file of their own so that code that only checks a name (the UI, invite links) needs no zod.
 */
export const Nick = z.string().regex(NICK_PATTERN, NICK_RULE);
export const RoomName = z.string().regex(ROOM_NAME_PATTERN, 'not a room name');
export const PublicKeyText = z
  .string()
  .regex(PUBLIC_KEY_TEXT_PATTERN, 'not a base64url public key');
export const ClientMessageId = z.string().regex(CLIENT_MESSAGE_ID_PATTERN, 'not a message id');
export const InviteToken = z.string().regex(INVITE_TOKEN_PATTERN, 'not an invite token');
