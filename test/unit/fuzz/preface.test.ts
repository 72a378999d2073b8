import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../../src-main/protocol/errors.ts';
import {
  LineReader,
  MAX_LINE_LEN,
  encodeErrorLine,
  encodePreface,
  parsePreface,
  parseStatusLine,
} from '../../../src-main/protocol/preface.ts';
import { SUITES } from '../../../src-main/protocol/suites.ts';
import {
  FUZZ_TIMEOUT_MS,
  anyText,
  concat,
  fuzzCase,
  mutate,
  mutateText,
  mutationsArb,
  reportStats,
  runs,
  split,
  splitsArb,
} from '../../fuzz/kit.ts';

// The preface is the first thing an unauthenticated peer sends; the status line the first
// thing a host answers. Both are read by LineReader, then parsed. The only acceptable outcomes:
// a line (or "need more"), a protocol name / OK, or a ProtocolError with a documented code.

reportStats();

const encoder = new TextEncoder();
const decoder = new TextDecoder();

const codeIn =
  (...codes: string[]) =>
  (error: unknown) =>
    error instanceof ProtocolError && codes.includes(error.code);

type LineOutcome = { line: string; rest: string } | 'more' | 'bad-preface';

/** The reference: what one line reader must make of the whole stream. */
function modelLine(stream: Uint8Array): LineOutcome {
  const end = stream.indexOf(0x0a);
  if (end === -1) return stream.length > MAX_LINE_LEN ? 'bad-preface' : 'more';
  if (end + 1 > MAX_LINE_LEN) return 'bad-preface';
  const body = stream.subarray(0, end);
  if (!body.every((b) => b >= 0x20 && b <= 0x7e)) return 'bad-preface';
  return {
    line: decoder.decode(body),
    rest: Buffer.from(stream.subarray(end + 1)).toString('hex'),
  };
}

/** Pushes reads until the reader answers; the bytes it was not given yet count as its rest. */
function readLine(chunks: readonly Uint8Array[]): LineOutcome {
  const reader = new LineReader();
  for (let i = 0; i < chunks.length; i++) {
    const result = reader.push(chunks[i]!);
    if (result) {
      if (result.line.length > MAX_LINE_LEN) throw new Error('a line longer than the limit');
      const rest = concat(result.rest, ...chunks.slice(i + 1));
      return { line: result.text, rest: Buffer.from(rest).toString('hex') };
    }
  }
  return 'more';
}

function lineChecked(chunks: readonly Uint8Array[]): LineOutcome {
  const out = fuzzCase('LineReader', () => readLine(chunks), codeIn('bad-preface'));
  return out.ok ? out.value : 'bad-preface';
}

const validPreface = fc.constantFrom(...SUITES).map((suite) => encodePreface(suite));

describe('LineReader (fuzz)', () => {
  it(
    'arbitrary bytes: the reference outcome, however the reads are cut',
    () => {
      fc.assert(
        fc.property(
          fc.oneof(
            fc.uint8Array({ maxLength: 400 }),
            fc
              .string({ unit: 'grapheme-ascii', maxLength: 300 })
              .map((s) => encoder.encode(s + '\n')),
          ),
          splitsArb,
          (stream, sizes) => {
            expect(lineChecked(split(stream, sizes))).toEqual(modelLine(stream));
          },
        ),
        runs(),
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'mutated prefaces followed by message 1: the reference outcome',
    () => {
      fc.assert(
        fc.property(
          validPreface,
          fc.uint8Array({ minLength: 34, maxLength: 34 }),
          mutationsArb,
          splitsArb,
          (preface, msg1, mutations, sizes) => {
            const stream = mutate(concat(preface, msg1), mutations);
            expect(lineChecked(split(stream, sizes))).toEqual(modelLine(stream));
          },
        ),
        runs(),
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});

/** The host's whole preface step: read the line, parse it. Returns the protocol name. */
function hostPreface(stream: Uint8Array): string | undefined {
  const line = new LineReader().push(stream);
  return line ? parsePreface(line.text) : undefined;
}

describe('parsePreface (fuzz)', () => {
  const allowed = codeIn('bad-preface', 'unsupported-version');

  it(
    'arbitrary text: a protocol name that re-encodes to the same line, or a typed refusal',
    () => {
      fc.assert(
        fc.property(
          fc.oneof(
            anyText(120),
            fc
              .tuple(
                fc.constantFrom('PARLEY/1', 'PARLEY/2', 'PARLEY/', 'parley/1', ''),
                fc.string({ maxLength: 60 }),
              )
              .map(([a, b]) => `${a} ${b}`),
          ),
          (text) => {
            const out = fuzzCase('parsePreface', () => parsePreface(text), allowed);
            if (out.ok) expect(`PARLEY/1 ${out.value}`).toBe(text);
          },
        ),
        runs(),
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'mutated preface bytes through the host path: a name, "need more", or a typed refusal',
    () => {
      fc.assert(
        fc.property(validPreface, mutationsArb, (preface, mutations) => {
          const stream = mutate(preface, mutations);
          const out = fuzzCase(
            'parsePreface',
            () => hostPreface(stream),
            codeIn('bad-preface', 'unsupported-version'),
          );
          if (out.ok && out.value !== undefined) {
            // Accepted means it is exactly a version-1 line; the host then checks the suite.
            expect(decoder.decode(stream).startsWith(`PARLEY/1 ${out.value}\n`)).toBe(true);
            expect(out.value).not.toContain(' ');
          }
        }),
        runs(),
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});

describe('status line (fuzz)', () => {
  it(
    'arbitrary and mutated status lines: OK, or host-refused with a code, or bad-preface',
    () => {
      const okLine = 'PARLEY/1 OK';
      const errorLine = 'PARLEY/1 ERROR busy too many connections from your address';
      fc.assert(
        fc.property(
          fc.oneof(
            anyText(200),
            fc
              .tuple(fc.constantFrom(okLine, errorLine), mutationsArb)
              .map(([line, m]) => mutateText(line, m)),
          ),
          (text) => {
            const out = fuzzCase(
              'parseStatusLine',
              () => parseStatusLine(text),
              codeIn('host-refused', 'bad-preface'),
            );
            if (out.ok) expect(text).toBe(okLine);
            else if ((out.error as ProtocolError).code === 'host-refused') {
              expect((out.error as ProtocolError).hostCode).toMatch(/^[a-z-]+$/);
            }
          },
        ),
        runs(),
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'every refusal a host can write is one line a client reads back with its code',
    () => {
      fc.assert(
        fc.property(fc.stringMatching(/^[a-z-]{1,30}$/), anyText(400), (code, text) => {
          const bytes = encodeErrorLine(code, text);
          const line = fuzzCase(
            'parseStatusLine',
            () => new LineReader().push(bytes),
            () => false,
          );
          expect(line.ok && line.value?.rest.length).toBe(0);
          const parsed = fuzzCase(
            'parseStatusLine',
            () => parseStatusLine(line.ok ? (line.value?.text ?? '') : ''),
            codeIn('host-refused'),
          );
          expect(parsed.ok).toBe(false);
          expect(!parsed.ok && (parsed.error as ProtocolError).hostCode).toBe(code);
        }),
        runs(),
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});
