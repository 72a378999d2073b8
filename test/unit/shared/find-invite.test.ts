import { describe, expect, it } from 'vitest';
import { findInvite, formatInvite, parseInvite } from '../../../src-shared/invite.ts';

const invite = formatInvite({
  host: 'chat.example.org',
  port: 7878,
  room: 'lobby',
  hostKey: new Uint8Array(32).map((_, i) => i * 7),
  token: 'A'.repeat(24),
});

describe('findInvite', () => {
  it('finds the link inside a message', () => {
    expect(findInvite(`Join us: ${invite} see you there`)).toBe(invite);
    expect(findInvite(`Join us:\n${invite}\nsee you there`)).toBe(invite);
  });

  it('leaves out punctuation and brackets around the link', () => {
    expect(findInvite(`(${invite}).`)).toBe(invite);
    expect(findInvite(`<${invite}>`)).toBe(invite);
    expect(findInvite(`"${invite}", then`)).toBe(invite);
    expect(parseInvite(findInvite(`link: ${invite}!`) ?? '').ok).toBe(true);
  });

  it('is the link itself when only the link was pasted', () => {
    expect(findInvite(invite)).toBe(invite);
    expect(findInvite(`  ${invite}\n`)).toBe(invite);
  });

  it('takes the first link that parses, else the first that looks like one', () => {
    const broken = 'parley://chat.example.org:7878/lobby#tooshort';
    expect(findInvite(`${broken} or rather ${invite}`)).toBe(invite);
    expect(findInvite(`try ${broken} please`)).toBe(broken);
  });

  it('finds links to IPv6 hosts and matches the scheme without regard to case', () => {
    const v6 = formatInvite({
      host: '::1',
      port: 7000,
      room: 'dev',
      hostKey: new Uint8Array(32).fill(3),
    });
    expect(findInvite(`here: ${v6} ok`)).toBe(v6);
    expect(findInvite(`PARLEY${invite.slice('parley'.length)} now`)).toBe(
      `PARLEY${invite.slice('parley'.length)}`,
    );
  });

  it('is undefined when there is no link', () => {
    expect(findInvite('see you there')).toBeUndefined();
    expect(findInvite('https://example.org/#x')).toBeUndefined();
    expect(findInvite('')).toBeUndefined();
  });
});
