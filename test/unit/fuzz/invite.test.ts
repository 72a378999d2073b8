import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBase64Url, encodeBase64Url } from '../../../src-shared/base64url.ts';
import { isValidRoomName } from '../../../src-shared/identifiers.ts';
import {
  type Invite,
  formatInvite,
  parseHostAddress,
  parseInvite,
} from '../../../src-shared/invite.ts';
import {
  FUZZ_TIMEOUT_MS,
  anyText,
  countRejected,
  fuzzCase,
  mutateText,
  mutationsArb,
  reportStats,
  runs,
} from '../../fuzz/kit.ts';
import { inviteTokenArb } from '../../fuzz/wire-arbitraries.ts';
import { roomArb } from '../../fuzz/wire-arbitraries.ts';

// Invite links arrive from anywhere: pasted, clicked (parley:// handler), passed on a command
// line. parseInvite returns a Result, so the only acceptable outcomes are { ok: true } with a
// well-formed invite, or { ok: false } with code `invalid-invite` — it must never throw.

reportStats();

const never = () => false;

type Parsed = ReturnType<typeof parseInvite>;

function parseChecked(text: string): Parsed {
  const out = fuzzCase('parseInvite', () => parseInvite(text), never);
  if (!out.ok) throw new Error('unreachable');
  const result = out.value;
  if (result.ok) {
    const invite = result.value;
    expect(invite.hostKey).toHaveLength(32);
    expect(isValidRoomName(invite.room)).toBe(true);
    expect(Number.isInteger(invite.port) && invite.port >= 1 && invite.port <= 65535).toBe(true);
    expect(invite.host).toBe(invite.host.toLowerCase());
    expect(invite.host).not.toMatch(/[\s/#?@[\]]/);
    // Canonical: formatting what was parsed gives a link that parses to the same invite.
    const again = parseInvite(formatInvite(invite));
    expect(again.ok && summary(again.value)).toEqual(summary(invite));
  } else {
    countRejected('parseInvite');
    expect(result.error.code).toBe('invalid-invite');
    expect(result.error.message.length).toBeLessThan(400);
  }
  return result;
}

const summary = (invite: Invite) => ({ ...invite, hostKey: encodeBase64Url(invite.hostKey) });

const hostArb = fc.oneof(
  fc.domain(),
  fc.ipV4(),
  fc.ipV6(),
  fc.constantFrom('localhost', '127.0.0.1', '::1', 'fe80::1%eth0', 'chat.example.org'),
);
const inviteArb = fc.record(
  {
    host: hostArb,
    port: fc.integer({ min: 1, max: 65535 }),
    room: roomArb,
    hostKey: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    token: inviteTokenArb,
  },
  { requiredKeys: ['host', 'port', 'room', 'hostKey'] },
);

/** Characters that matter to the invite grammar, for string-level edits. */
const GRAMMAR = [
  ...'parley:/[]#?@%.:-_ \t\n\r\u0000\u00a0\u2028é',
  'PARLEY://',
  '//',
  '::',
  '%00',
  '%2F',
];

describe('parseInvite (fuzz)', () => {
  it(
    'arbitrary text: a valid invite or invalid-invite, never an exception',
    () => {
      fc.assert(
        fc.property(
          fc.oneof(
            anyText(300),
            fc
              .array(fc.constantFrom(...GRAMMAR, 'a', '1', 'lobby', 'x'.repeat(43)), {
                maxLength: 40,
              })
              .map((p) => p.join('')),
            fc.constant(`parley://${'a'.repeat(3000)}/lobby#${'A'.repeat(43)}`),
          ),
          (text) => void parseChecked(text),
        ),
        runs(),
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'every valid invite round-trips through its link',
    () => {
      fc.assert(
        fc.property(inviteArb, (invite) => {
          const parsed = parseChecked(formatInvite(invite));
          expect(parsed.ok && summary(parsed.value)).toEqual(
            summary({ ...invite, host: invite.host.toLowerCase() }),
          );
        }),
        runs(0.5),
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'mutated valid links: a valid invite or invalid-invite; a changed key is never the old key',
    () => {
      fc.assert(
        fc.property(
          inviteArb,
          fc.oneof(
            mutationsArb.map((m) => (link: string) => mutateText(link, m)),
            fc.tuple(fc.nat(), fc.constantFrom(...GRAMMAR)).map(
              ([at, piece]) =>
                (link: string) =>
                  link.slice(0, at % (link.length + 1)) +
                  piece +
                  link.slice(at % (link.length + 1)),
            ),
          ),
          (invite, edit) => {
            const link = formatInvite(invite);
            const edited = edit(link);
            const parsed = parseChecked(edited);
            // Base64url is canonical here: an edited key part either fails or is another key.
            const trimmed = edited.trim(); // surrounding whitespace is not part of a link
            const keyPart = trimmed.slice(trimmed.lastIndexOf('#') + 1);
            if (parsed.ok && keyPart !== encodeBase64Url(invite.hostKey)) {
              expect(encodeBase64Url(parsed.value.hostKey)).not.toBe(
                encodeBase64Url(invite.hostKey),
              );
            }
            // The invite code is a secret of 24 base64url characters, or absent: an edit never
            // makes a longer, shorter or differently spelled one pass for it.
            if (parsed.ok && parsed.value.token !== undefined) {
              expect(parsed.value.token).toMatch(/^[A-Za-z0-9_-]{24}$/);
              expect(/\?invite=([^#]*)#/i.exec(trimmed)?.[1]).toBe(parsed.value.token);
            }
          },
        ),
        runs(),
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});

describe('parseHostAddress and base64url (fuzz)', () => {
  it(
    'host[:port] text: an address or invalid-invite; base64url decodes canonically or not at all',
    () => {
      fc.assert(
        fc.property(
          fc.oneof(
            anyText(80),
            fc
              .tuple(hostArb, fc.option(fc.integer({ min: -5, max: 70_000 })))
              .map(([h, p]) => `${h.includes(':') ? `[${h}]` : h}${p === null ? '' : `:${p}`}`),
          ),
          fc.oneof(fc.stringMatching(/^[A-Za-z0-9_-]{0,60}$/), anyText(60)),
          (address, key) => {
            const out = fuzzCase('parseHostAddress', () => parseHostAddress(address), never);
            const result = out.ok ? out.value : undefined;
            if (result?.ok) {
              expect(result.value.port).toBeGreaterThanOrEqual(1);
              expect(result.value.port).toBeLessThanOrEqual(65535);
            } else {
              countRejected('parseHostAddress');
              expect(result?.error.code).toBe('invalid-invite');
            }
            const decoded = fuzzCase('base64url', () => decodeBase64Url(key), never);
            const bytes = decoded.ok ? decoded.value : undefined;
            if (bytes)
              expect(encodeBase64Url(bytes)).toBe(key); // canonical: one text per key
            else countRejected('base64url');
          },
        ),
        runs(),
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});
