import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { decodeBase64Url, encodeBase64Url } from '../../../src-shared/base64url.ts';
import { fingerprint, normalizeFingerprint } from '../../../src-shared/fingerprint.ts';
import { formatInvite, parseHostAddress, parseInvite } from '../../../src-shared/invite.ts';

const key = new Uint8Array(32).map((_, i) => i * 7);

describe('base64url', () => {
  it('matches Node for every length and round-trips', () => {
    for (let n = 0; n < 70; n++) {
      const data = new Uint8Array(randomBytes(n));
      const text = encodeBase64Url(data);
      expect(text).toBe(Buffer.from(data).toString('base64url'));
      expect(decodeBase64Url(text)).toEqual(data);
    }
  });

  it('rejects non-canonical and foreign characters', () => {
    expect(decodeBase64Url('AQ')).toEqual(Uint8Array.of(1));
    expect(decodeBase64Url('AB')).toBeUndefined(); // non-zero leftover bits
    expect(decodeBase64Url('AB=')).toBeUndefined();
    expect(decodeBase64Url('AF')).toBeUndefined(); // non-zero leftover bits
    expect(decodeBase64Url('A+/A')).toBeUndefined();
    expect(decodeBase64Url('A')).toBeUndefined();
  });
});

describe('fingerprint', () => {
  it('is 8 groups of 4 base32 characters, stable and key-specific', () => {
    const a = fingerprint(key);
    expect(a).toMatch(/^([A-Z2-7]{4} ){7}[A-Z2-7]{4}$/);
    expect(fingerprint(key)).toBe(a);
    expect(fingerprint(new Uint8Array(32))).not.toBe(a);
    expect(normalizeFingerprint(a.toLowerCase().replaceAll(' ', '-'))).toBe(a.replaceAll(' ', ''));
  });
});

describe('invite links', () => {
  it('formats and parses a DNS host', () => {
    const text = formatInvite({
      host: 'chat.example.org',
      port: 7878,
      room: 'lobby',
      hostKey: key,
    });
    expect(text).toBe(
      `parley://chat.example.org:7878/lobby#${Buffer.from(key).toString('base64url')}`,
    );
    const parsed = parseInvite(text);
    expect(parsed.ok && parsed.value).toEqual({
      host: 'chat.example.org',
      port: 7878,
      room: 'lobby',
      hostKey: key,
    });
  });

  it('writes IPv6 hosts in brackets', () => {
    const text = formatInvite({ host: '::1', port: 9000, room: 'dev', hostKey: key });
    expect(text.startsWith('parley://[::1]:9000/dev#')).toBe(true);
    const parsed = parseInvite(text);
    expect(parsed.ok && parsed.value.host).toBe('::1');
  });

  it.each([
    ['parley://host:7878/lobby', 'no key'],
    ['parley://host:7878/lobby#short', 'short key'],
    [`parley://host:99999/lobby#${Buffer.from(key).toString('base64url')}`, 'port out of range'],
    [`parley://host:7878/Bad Room#${Buffer.from(key).toString('base64url')}`, 'room with a space'],
    [`parley://::1:7878/lobby#${Buffer.from(key).toString('base64url')}`, 'unbracketed IPv6'],
    [`https://host:7878/lobby#${Buffer.from(key).toString('base64url')}`, 'wrong scheme'],
    ['parley://' + 'a'.repeat(5000), 'absurd length'],
  ])('refuses %s (%s) with a readable error', (text) => {
    const parsed = parseInvite(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error.message.length).toBeGreaterThan(10);
  });

  it('parses bare host:port for trust on first use', () => {
    expect(parseHostAddress('example.org')).toEqual({
      ok: true,
      value: { host: 'example.org', port: 7878 },
    });
    expect(parseHostAddress('[fe80::1]:1')).toEqual({
      ok: true,
      value: { host: 'fe80::1', port: 1 },
    });
    expect(parseHostAddress('host:0').ok).toBe(false);
  });
});
