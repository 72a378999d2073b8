import fc from 'fast-check';
import type { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { WireError, decodeMessage, encodeMessage } from '../../../src-main/protocol/wire/codec.ts';
import {
  ClientMessage,
  Hello,
  HostInfo,
  HostMessage,
} from '../../../src-main/protocol/wire/messages.ts';
import {
  FUZZ_TIMEOUT_MS,
  fuzzCase,
  mutate,
  mutationsArb,
  reportStats,
  runs,
} from '../../fuzz/kit.ts';
import {
  clientMessageArb,
  helloArb,
  hostInfoArb,
  hostMessageArb,
  mutateValue,
} from '../../fuzz/wire-arbitraries.ts';

// Application messages (and the two handshake payloads) are JSON validated by zod on receipt:
// the host decodes what any authenticated stranger sends, the client what a host sends. The only
// acceptable outcomes: a value that satisfies the schema, or a WireError (a clean close with a
// reason). The reason is logged by the host, so it must never carry the message's content.

reportStats();

const encoder = new TextEncoder();
const SECRET = 'SECRET-7f3a';

const schemas = [
  ['ClientMessage', ClientMessage, clientMessageArb],
  ['HostMessage', HostMessage, hostMessageArb],
  ['Hello', Hello, helloArb],
  ['HostInfo', HostInfo, hostInfoArb],
] as const;

function decodeChecked(name: string, schema: z.ZodType, bytes: Uint8Array) {
  const out = fuzzCase(
    `decodeMessage ${name}`,
    () => decodeMessage(schema, bytes),
    (e) => e instanceof WireError,
  );
  if (out.ok) {
    // Whatever was accepted is exactly what the schema describes (decoding is idempotent).
    expect(schema.parse(out.value)).toEqual(out.value);
    expect(Object.getPrototypeOf(out.value)).toBe(Object.prototype);
  } else {
    const reason = (out.error as WireError).message;
    expect(reason.length).toBeLessThan(300);
    expect(reason).not.toContain(SECRET);
  }
  expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  return out;
}

/** Puts the marker where a leak would show: in every string field of a valid message. */
function withSecret(value: object): object {
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      k,
      typeof v === 'string' && k !== 't' ? `${SECRET}${v}` : v,
    ]),
  );
}

describe.each(schemas)('decodeMessage(%s) (fuzz)', (name, schema, valid) => {
  it(
    'arbitrary bytes and arbitrary JSON: a schema-valid value or a WireError',
    () => {
      fc.assert(
        fc.property(
          fc.oneof(
            fc.uint8Array({ maxLength: 300 }),
            fc.jsonValue({ maxDepth: 4 }).map((v) => encoder.encode(JSON.stringify(v) ?? 'null')),
            fc
              .constantFrom(
                '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]',
                '{"t":"send","room":"lobby","id":"abcdefgh","text":"' +
                  '\\u0000'.repeat(5000) +
                  '"}',
                '{"__proto__":{"polluted":true},"t":"ping","n":1}',
                `{"t":"${SECRET}"}`,
                '\ufeff{"t":"ping","n":1}',
                '{"t":"ping","n":1e400}',
                '[' + '['.repeat(20_000) + ']'.repeat(20_000) + ']',
              )
              .map((s) => encoder.encode(s)),
          ),
          (bytes) => void decodeChecked(name, schema, bytes),
        ),
        runs(),
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'every valid message round-trips',
    () => {
      fc.assert(
        fc.property(valid, (message) => {
          const out = decodeChecked(name, schema, encodeMessage(message));
          expect(out.ok && out.value).toEqual(message);
        }),
        runs(0.5),
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'mutated encodings and mutated fields of valid messages: a valid value or a WireError, no leak',
    () => {
      fc.assert(
        fc.property(
          valid.chain((m) =>
            fc.oneof(
              mutationsArb.map((mutations) => mutate(encodeMessage(withSecret(m)), mutations)),
              mutateValue(withSecret(m)).map((v) => encoder.encode(JSON.stringify(v))),
            ),
          ),
          (bytes) => void decodeChecked(name, schema, bytes),
        ),
        runs(),
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});
