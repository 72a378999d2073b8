import { describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { runConnect } from '../../../src-main/cli/connect-command.ts';
import { parseConnectArgs } from '../../../src-main/cli/connect-args.ts';
import { UsageError } from '../../../src-main/cli/usage-error.ts';
import { encodeBase64Url } from '../../../src-shared/base64url.ts';

const KEY = new Uint8Array(32).fill(7);
const INVITE = `parley://chat.example.org:9000/dev#${encodeBase64Url(KEY)}`;

async function run(argv: string[]) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const stdin = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = await runConnect(argv, { stdin, stdout, stderr, isTTY: false, env: {} });
  return { code, out, err };
}

describe('line client arguments', () => {
  it('takes the address, key and room from an invite', () => {
    expect(parseConnectArgs(['--connect', INVITE, '--nick', 'alice'])).toEqual({
      help: false,
      address: { host: 'chat.example.org', port: 9000 },
      inviteKey: KEY,
      nick: 'alice',
      room: 'dev',
      dataDir: undefined,
      trustNewHost: false,
    });
  });

  it('takes host:port without a key, lobby by default, and the options', () => {
    expect(
      parseConnectArgs([
        '--connect=[::1]:7000',
        '--nick',
        'bob',
        '--room',
        'ops',
        '--data-dir',
        '/tmp/x',
        '--trust-new-host',
      ]),
    ).toMatchObject({
      address: { host: '::1', port: 7000 },
      inviteKey: undefined,
      room: 'ops',
      dataDir: '/tmp/x',
      trustNewHost: true,
    });
    expect(parseConnectArgs(['--connect', 'example.org', '--nick', 'bob'])).toMatchObject({
      address: { host: 'example.org', port: 7878 },
      room: 'lobby',
    });
  });

  it.each([
    [['--connect', INVITE], '--nick NAME is required'],
    [['--nick', 'alice'], '--connect needs'],
    [['--connect', INVITE, '--nick', 'al ice'], 'is not a nickname'],
    [['--connect', INVITE, '--nick', 'a', '--room', 'Bad Room'], 'is not a room name'],
    [['--connect', 'parley://x:1/lobby#short', '--nick', 'a'], 'invalid invite link'],
    [['--connect', 'host:99999', '--nick', 'a'], 'invalid --connect address'],
    [['--connect', INVITE, '--nick', 'a', '--colour'], "unknown option '--colour'"],
    [['--connect', INVITE, '--nick', 'a', 'stray'], 'stray'],
    [['--connect', INVITE, '--nick'], '--nick needs a nickname'],
    [['--nick', 'a', '--connect'], '--connect needs an invite link (parley://HOST:PORT/ROOM#KEY)'],
    [['--connect', '--nick', 'a'], '--connect needs an invite link'],
    [['--connect', 'parly://x:1/lobby#abc', '--nick', 'a'], '"parly://" is not a Parley link'],
    [['--connect', 'https://example.org/', '--nick', 'a'], '"https://" is not a Parley link'],
    [['--connect', INVITE, '--nick', 'a', '--nick', 'b'], '--nick was given more than once'],
    [
      ['--connect', INVITE, '--connect', INVITE, '--nick', 'a'],
      '--connect was given more than once',
    ],
    [
      ['--connect', INVITE, '--nick', 'a', '--room', 'x', '--room=y'],
      '--room was given more than once',
    ],
  ])('%j is a usage error', (argv, message) => {
    expect(() => parseConnectArgs(argv)).toThrow(UsageError);
    expect(() => parseConnectArgs(argv)).toThrow(message);
  });

  it('exits with 2 and a clear message on stderr for bad arguments', async () => {
    const { code, out, err } = await run(['--connect', INVITE, '--nick', 'a', '--bogus']);
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err).toMatch(/^parley --connect: unknown option '--bogus'/);
    expect(err).toContain('parley --connect --help');
  });

  it('prints the help on stdout with exit code 0', async () => {
    const { code, out } = await run(['--connect', '--help']);
    expect(code).toBe(0);
    expect(out).toContain('Usage: parley --connect');
    expect(out).toContain('--trust-new-host');
  });
});
