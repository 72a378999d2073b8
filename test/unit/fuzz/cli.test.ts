import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConnectArgs } from '../../../src-main/cli/connect-args.ts';
import { parseServeArgs } from '../../../src-main/cli/serve-command.ts';
import { UsageError } from '../../../src-main/cli/usage-error.ts';
import { Hello } from '../../../src-main/protocol/wire/messages.ts';
import { encodeBase64Url } from '../../../src-shared/base64url.ts';
import { isValidRoomName } from '../../../src-shared/identifiers.ts';
import {
  FUZZ_TIMEOUT_MS,
  anyText,
  fuzzCase,
  mutateText,
  mutationsArb,
  reportStats,
  runs,
} from '../../fuzz/kit.ts';

// Command lines come from people, scripts and service files. The only acceptable outcomes are
// parsed options that satisfy every documented constraint, or a UsageError (exit code 2 with a
// message) — never another exception (which would print a stack trace).

reportStats();

const isUsage = (error: unknown) => error instanceof UsageError;
const INVITE = `parley://chat.example.org:9000/dev#${encodeBase64Url(new Uint8Array(32).fill(7))}`;

const SERVE_OPTIONS = [
  '--serve',
  '--host',
  '--port',
  '--data-dir',
  '--room',
  '--name',
  '--history',
  '--max-clients',
  '--max-per-ip',
  '--public-host',
  '--log-level',
  '--no-e2ee',
  '--help',
];
const CONNECT_OPTIONS = [
  '--connect',
  '--nick',
  '--room',
  '--data-dir',
  '--trust-new-host',
  '--help',
  '-h',
];
const ODD_TOKENS = [
  '--',
  '-',
  '---',
  '--=',
  '--port=',
  '--room=',
  '-x',
  '--unknown',
  '--__proto__',
  '--constructor',
  '--toString',
  '',
];
const VALUES = [
  '0',
  '1',
  '7878',
  '65535',
  '65536',
  '-1',
  '1e3',
  '0x10',
  ' 42',
  '٣',
  'lobby',
  'Lobby',
  'dev.team',
  'a'.repeat(65),
  'debug',
  'info',
  'loud',
  'alice',
  'bad nick',
  'é',
  '/tmp/x',
  '',
  INVITE,
  'localhost:7878',
  '[::1]:7878',
  '[::1',
  'x'.repeat(5000),
];

function argvArb(options: readonly string[]) {
  const token = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...options) },
    { weight: 4, arbitrary: fc.constantFrom(...VALUES) },
    { weight: 1, arbitrary: fc.constantFrom(...ODD_TOKENS) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom(...options), fc.constantFrom(...VALUES))
        .map(([o, v]) => `${o}=${v}`),
    },
    { weight: 1, arbitrary: anyText(20) },
  );
  return fc.array(token, { maxLength: 12 });
}

/** Token-level edits of a valid command line: drop, repeat, swap, replace, edit one token. */
function mutatedArgv(valid: readonly string[]) {
  const edit = fc.oneof(
    fc
      .nat()
      .map((i) => (argv: string[]) => argv.filter((_, j) => j !== i % Math.max(1, argv.length))),
    fc.nat().map((i) => (argv: string[]) => {
      const j = i % Math.max(1, argv.length);
      return [...argv.slice(0, j + 1), ...argv.slice(j)];
    }),
    fc.nat().map((i) => (argv: string[]) => {
      const copy = [...argv];
      const j = i % Math.max(1, copy.length - 1);
      [copy[j], copy[j + 1]] = [copy[j + 1] ?? '', copy[j] ?? ''];
      return copy;
    }),
    fc.tuple(fc.nat(), fc.constantFrom(...VALUES, ...ODD_TOKENS)).map(
      ([i, v]) =>
        (argv: string[]) =>
          argv.map((t, j) => (j === i % Math.max(1, argv.length) ? v : t)),
    ),
    fc.tuple(fc.nat(), mutationsArb).map(
      ([i, m]) =>
        (argv: string[]) =>
          argv.map((t, j) => (j === i % Math.max(1, argv.length) ? mutateText(t, m) : t)),
    ),
  );
  return fc
    .array(edit, { minLength: 1, maxLength: 3 })
    .map((edits) => edits.reduce((argv, e) => e(argv), [...valid]));
}

/** How often each option of `names` appears as `--name` or `--name=…` in argv. */
function mostUses(argv: readonly string[], names: readonly string[]): number {
  return Math.max(
    0,
    ...names.map(
      (name) => argv.filter((t) => t === `--${name}` || t.startsWith(`--${name}=`)).length,
    ),
  );
}

const SERVE_SINGLE = [
  'host',
  'port',
  'data-dir',
  'name',
  'history',
  'max-clients',
  'max-per-ip',
  'public-host',
  'cert',
  'log-level',
];
const CONNECT_SINGLE = ['connect', 'nick', 'room', 'data-dir'];

function checkServe(argv: string[]): void {
  const out = fuzzCase('parseServeArgs', () => parseServeArgs(argv), isUsage);
  if (!out.ok) {
    expect((out.error as UsageError).message.length).toBeGreaterThan(0);
    return;
  }
  const args = out.value;
  // A single-value option given twice is refused, never "the last one wins".
  expect(mostUses(argv, SERVE_SINGLE)).toBeLessThanOrEqual(1);
  expect(Number.isInteger(args.port) && args.port >= 0 && args.port <= 65535).toBe(true);
  expect(args.rooms.length).toBeGreaterThan(0);
  for (const room of args.rooms) expect(isValidRoomName(room)).toBe(true);
  expect(['debug', 'info', 'warn', 'error']).toContain(args.logLevel);
  // Rooms are end-to-end encrypted unless the command line says --no-e2ee.
  expect(args.e2ee).toBe(!argv.includes('--no-e2ee'));
  if (args.name !== undefined) expect(args.name.length).toBeGreaterThanOrEqual(1);
  for (const n of [args.historyLimit, args.maxClients, args.maxClientsPerIp]) {
    if (n !== undefined) expect(Number.isSafeInteger(n) && n >= 1).toBe(true);
  }
}

function checkConnect(argv: string[]): void {
  const out = fuzzCase('parseConnectArgs', () => parseConnectArgs(argv), isUsage);
  if (!out.ok) {
    expect((out.error as UsageError).message.length).toBeGreaterThan(0);
    return;
  }
  const args = out.value;
  if (args.help) return;
  expect(mostUses(argv, CONNECT_SINGLE)).toBeLessThanOrEqual(1);
  expect(Hello.shape.nick.safeParse(args.nick).success).toBe(true);
  expect(isValidRoomName(args.room)).toBe(true);
  expect(args.address.port >= 1 && args.address.port <= 65535).toBe(true);
  expect(args.address.host.length).toBeGreaterThan(0);
  if (args.inviteKey) expect(args.inviteKey).toHaveLength(32);
  if (args.dataDir !== undefined) expect(args.dataDir).not.toBe('');
}

describe('parseServeArgs (fuzz)', () => {
  it(
    'arbitrary command lines: options within their documented ranges, or a UsageError',
    () => {
      fc.assert(
        fc.property(argvArb(SERVE_OPTIONS), (argv) => checkServe(argv)),
        runs(),
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'mutated valid command lines: the same',
    () => {
      const valid = [
        '--serve',
        '--host',
        '127.0.0.1',
        '--port',
        '7878',
        '--room',
        'lobby',
        '--room',
        'dev',
        '--name',
        'Our host',
        '--history',
        '500',
        '--max-per-ip',
        '20',
        '--log-level',
        'warn',
      ];
      fc.assert(
        fc.property(mutatedArgv(valid), (argv) => checkServe(argv)),
        runs(),
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});

describe('parseConnectArgs (fuzz)', () => {
  it(
    'arbitrary command lines: a valid target, nick and room, or a UsageError',
    () => {
      fc.assert(
        fc.property(argvArb(CONNECT_OPTIONS), (argv) => checkConnect(argv)),
        runs(),
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'mutated valid command lines: the same',
    () => {
      const valid = [
        '--connect',
        INVITE,
        '--nick',
        'alice',
        '--room',
        'lobby',
        '--data-dir',
        '/tmp/p',
        '--trust-new-host',
      ];
      fc.assert(
        fc.property(mutatedArgv(valid), (argv) => checkConnect(argv)),
        runs(),
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});
