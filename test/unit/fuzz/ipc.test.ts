import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type IpcErrorCode,
  REQUEST_NAMES,
  type RequestName,
  requests,
} from '../../../src-shared/ipc/contract.ts';
import { DEFAULT_SETTINGS } from '../../../src-shared/ipc/domain.ts';
import { type RequestHandlers, dispatchRequest } from '../../../src-main/service/dispatch.ts';
import { ServiceError } from '../../../src-main/service/service-error.ts';
import {
  FUZZ_TIMEOUT_MS,
  countRejected,
  fuzzCaseAsync,
  reportStats,
  runs,
} from '../../fuzz/kit.ts';
import { mutateValue } from '../../fuzz/wire-arbitraries.ts';

// Requests from the renderer cross a trust boundary: a compromised renderer can send anything
// over IPC. dispatchRequest must answer every (name, input) with an IpcResult — never throw,
// never reject — and call the service only with input that passed the contract's schema, and
// only the parsed copy of it. Nothing from the input may reach the logs or the answer.

reportStats();

const CODES: readonly IpcErrorCode[] = [
  'invalid-request',
  'not-connected',
  'invalid-invite',
  'not-found',
  'refused',
  'internal',
];
const SECRET = 'hunter2-SECRET';
const KEY = 'A'.repeat(43);

/** One valid input per request, as seeds for mutation (a request added later gets `{}`). */
const SAMPLES: Partial<Record<RequestName, object>> = {
  connect: { invite: `parley://chat.example.org:7878/lobby#${KEY}`, nick: 'alice' },
  send: { room: 'lobby', text: 'hi there' },
  joinRoom: { room: 'dev' },
  leaveRoom: { room: 'dev' },
  setActiveRoom: { room: 'lobby' },
  loadHistory: { room: 'lobby', beforeSeq: 10, limit: 50 },
  typing: { room: 'lobby' },
  setNick: { nick: 'bob' },
  getMembers: { room: 'lobby' },
  answerTrust: { requestId: 'r-1', trust: true },
  markVerified: { key: KEY, verified: true },
  updateSettings: { ...DEFAULT_SETTINGS },
  openExternal: { url: 'https://example.org/a?b=c' },
};
const sample = (name: RequestName): object => SAMPLES[name] ?? {};

/** Puts the marker in every string of the input, where a leak would show. */
function withSecret(value: object): object {
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, typeof v === 'string' ? `${v}${SECRET}` : v]),
  );
}

const nameArb = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...REQUEST_NAMES) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '__proto__',
      'constructor',
      'toString',
      'hasOwnProperty',
      'valueOf',
      '',
      'send ',
      'SEND',
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
);

const inputArb = (name: string): fc.Arbitrary<unknown> => {
  const seed = (REQUEST_NAMES as readonly string[]).includes(name)
    ? sample(name as RequestName)
    : {};
  return fc.oneof(
    fc.constant(seed),
    fc.constant(withSecret(seed)),
    Object.keys(seed).length > 0 ? mutateValue(withSecret(seed)) : fc.constant({ extra: SECRET }),
    fc.anything({
      maxDepth: 3,
      withBoxedValues: true,
      withMap: true,
      withSet: true,
      withObjectString: true,
      withNullPrototype: true,
      withBigInt: true,
      withDate: true,
      withTypedArray: true,
      withSparseArray: true,
    }),
    fc.constantFrom(undefined, null, SECRET, 42, [], Symbol('x'), () => SECRET),
  );
};

/** What the fake service answers: a plausible value, junk, or a failure of several kinds. */
const answerArb = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ kind: 'value' as const, value: {} as unknown }) },
  {
    weight: 1,
    arbitrary: fc.anything({ maxDepth: 2 }).map((value) => ({ kind: 'value' as const, value })),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(...CODES).map((code) => ({ kind: 'service-error' as const, code })),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom<unknown>(new Error(SECRET), new TypeError('x'), SECRET, undefined, null, 0)
      .map((thrown) => ({ kind: 'throw' as const, thrown })),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'reject' as const }) },
);

describe('dispatchRequest (fuzz)', () => {
  it(
    'any name and input: an IpcResult; the service sees only schema-valid, parsed input',
    async () => {
      let called = 0;
      await fc.assert(
        fc.asyncProperty(
          nameArb.chain((name) => fc.tuple(fc.constant(name), inputArb(name), answerArb)),
          async ([name, input, answer]) => {
            const calls: { name: string; input: unknown }[] = [];
            const logs: unknown[] = [];
            const service = Object.fromEntries(
              REQUEST_NAMES.map((method) => [
                method,
                (parsed: unknown) => {
                  calls.push({ name: method, input: parsed });
                  switch (answer.kind) {
                    case 'value':
                      return answer.value;
                    case 'service-error':
                      throw new ServiceError(answer.code, 'refused for a reason');
                    case 'throw':
                      throw answer.thrown;
                    case 'reject':
                      return Promise.reject(new Error(SECRET));
                  }
                },
              ]),
            ) as unknown as RequestHandlers;
            const result = await fuzzCaseAsync('dispatchRequest', () =>
              dispatchRequest(service, name, input, { log: (...entry) => void logs.push(entry) }),
            );
            if (!result.ok) countRejected('dispatchRequest');

            // The answer is an IpcResult with a known code.
            expect(typeof result.ok).toBe('boolean');
            if (!result.ok) expect(CODES).toContain(result.error.code);
            // The service was called at most once, and only with what the schema accepts.
            expect(calls.length).toBeLessThanOrEqual(1);
            const known = (REQUEST_NAMES as readonly string[]).includes(name);
            const valid = known && requests[name as RequestName].input.safeParse(input).success;
            expect(calls.length).toBe(valid ? 1 : 0);
            const call = calls[0];
            if (call) {
              called++;
              expect(call.name).toBe(name);
              expect(requests[name as RequestName].input.safeParse(call.input).success).toBe(true);
              expect(
                Object.getPrototypeOf(call.input) === Object.prototype || call.input === null,
              ).toBe(true);
            }
            if (result.ok) {
              expect(valid).toBe(true);
              expect(requests[name as RequestName].output.safeParse(result.value).success).toBe(
                true,
              );
            }
            // Nothing the renderer sent, and nothing the service threw, leaks.
            const out =
              JSON.stringify(result) +
              JSON.stringify(logs, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
            if (answer.kind === 'value' || answer.kind === 'service-error')
              expect(out).not.toContain(SECRET);
            else expect(JSON.stringify(result)).not.toContain(SECRET);
            expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
          },
        ),
        runs(),
      );
      // The valid path was exercised, not only refusals.
      expect(called).toBeGreaterThan(0);
    },
    FUZZ_TIMEOUT_MS,
  );
});
