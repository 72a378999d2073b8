import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  ClientMessage,
  Hello,
  Member,
  WIRE_VERSION,
} from '../../../src-main/protocol/wire/messages.ts';
import { encodeBase64Url } from '../../../src-shared/base64url.ts';
import { equalBytes } from '../../../src-shared/equal-bytes.ts';
import {
  MAX_CLIENT_MESSAGE_ID_LENGTH,
  MAX_NICK_LENGTH,
  MAX_ROOM_NAME_LENGTH,
  MIN_CLIENT_MESSAGE_ID_LENGTH,
  PUBLIC_KEY_TEXT_LENGTH,
  decodePublicKeyText,
  isClientMessageId,
  isPublicKeyText,
  isValidNick,
  isValidRoomName,
} from '../../../src-shared/identifiers.ts';
import { formatAddress, parseHostAddress } from '../../../src-shared/invite.ts';
import { requests } from '../../../src-shared/ipc/contract.ts';
import { runs } from '../../fuzz/kit.ts';

describe('identifiers', () => {
  it('state their limits as the patterns enforce them', () => {
    expect(isValidNick('é'.repeat(MAX_NICK_LENGTH))).toBe(true);
    expect(isValidNick('é'.repeat(MAX_NICK_LENGTH + 1))).toBe(false);
    expect(isValidNick('')).toBe(false);
    expect(isValidRoomName('a'.repeat(MAX_ROOM_NAME_LENGTH))).toBe(true);
    expect(isValidRoomName('a'.repeat(MAX_ROOM_NAME_LENGTH + 1))).toBe(false);
    expect(isValidRoomName('-lobby')).toBe(false);
    expect(isValidRoomName('Lobby')).toBe(false);
    expect(isClientMessageId('x'.repeat(MIN_CLIENT_MESSAGE_ID_LENGTH))).toBe(true);
    expect(isClientMessageId('x'.repeat(MIN_CLIENT_MESSAGE_ID_LENGTH - 1))).toBe(false);
    expect(isClientMessageId('x'.repeat(MAX_CLIENT_MESSAGE_ID_LENGTH))).toBe(true);
    expect(isClientMessageId('x'.repeat(MAX_CLIENT_MESSAGE_ID_LENGTH + 1))).toBe(false);
    const key = encodeBase64Url(new Uint8Array(32));
    expect(key).toHaveLength(PUBLIC_KEY_TEXT_LENGTH);
    expect(isPublicKeyText(key)).toBe(true);
    expect(isPublicKeyText(key.slice(1))).toBe(false);
    expect(isPublicKeyText(`${key}A`)).toBe(false);
  });

  it('decode a key text to its 32 bytes, and nothing else', () => {
    const key = new Uint8Array(randomBytes(32));
    expect(decodePublicKeyText(encodeBase64Url(key))).toEqual(key);
    // The last character carries 2 spare bits, which must be zero: one key, one text.
    const text = encodeBase64Url(new Uint8Array(32));
    expect(decodePublicKeyText(`${text.slice(0, -1)}B`)).toBeUndefined();
    expect(decodePublicKeyText(encodeBase64Url(new Uint8Array(33)))).toBeUndefined();
    expect(decodePublicKeyText(`${text.slice(0, -1)}=`)).toBeUndefined();
  });

  it('are judged alike by the wire, the IPC contract and the UI', () => {
    const wireNick = (nick: string) =>
      Hello.safeParse({ v: WIRE_VERSION, nick, software: 'test' }).success;
    const ipcNick = (nick: string) =>
      requests.setNick.input.safeParse({ hostId: 'example.org:7878', nick }).success;
    const wireRoom = (room: string) => ClientMessage.safeParse({ t: 'join', room }).success;
    const ipcRoom = (room: string) =>
      requests.joinRoom.input.safeParse({ hostId: 'example.org:7878', room }).success;
    const wireKey = (key: string) => Member.safeParse({ nick: 'a', fp: 'f', key }).success;
    const ipcKey = (key: string) =>
      requests.markVerified.input.safeParse({ key, verified: true }).success;
    const wireId = (id: string) =>
      ClientMessage.safeParse({ t: 'send', room: 'a', id, text: 'x' }).success;
    const text = fc.oneof(
      fc.string({ maxLength: 70 }),
      fc.string({ unit: 'grapheme', maxLength: 40 }),
      fc.stringMatching(/^[a-z0-9._-]{0,66}$/),
      fc.stringMatching(/^[A-Za-z0-9_-]{42,44}$/),
    );
    fc.assert(
      fc.property(text, (s) => {
        expect(wireNick(s)).toBe(isValidNick(s));
        expect(ipcNick(s)).toBe(isValidNick(s));
        expect(wireRoom(s)).toBe(isValidRoomName(s));
        expect(ipcRoom(s)).toBe(isValidRoomName(s));
        expect(wireKey(s)).toBe(isPublicKeyText(s));
        expect(ipcKey(s)).toBe(isPublicKeyText(s));
        expect(wireId(s)).toBe(isClientMessageId(s));
      }),
      runs(),
    );
  });
});

describe('equalBytes', () => {
  it('is true for the same bytes only', () => {
    expect(equalBytes(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2, 3))).toBe(true);
    expect(equalBytes(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2, 4))).toBe(false);
    expect(equalBytes(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2))).toBe(false);
    expect(equalBytes(new Uint8Array(0), new Uint8Array(0))).toBe(true);
    expect(equalBytes(Buffer.from([9, 9]), Uint8Array.of(9, 9))).toBe(true);
  });
});

describe('formatAddress', () => {
  it('brackets an IPv6 host, so that the address parses back', () => {
    expect(formatAddress('::1', 7878)).toBe('[::1]:7878');
    expect(formatAddress('chat.example.org', 443)).toBe('chat.example.org:443');
    for (const host of ['::1', 'fe80::1', '10.0.0.2', 'chat.example.org']) {
      const parsed = parseHostAddress(formatAddress(host, 9000));
      expect(parsed).toEqual({ ok: true, value: { host, port: 9000 } });
    }
  });
});
