import { describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { formatInvite } from '../../../src-shared/invite.ts';
import { runConnect } from '../../../src-main/cli/connect-command.ts';
import { type RunningHost, startHost } from '../../../src-main/server/host.ts';
import { newKeyPair } from '../../support/loopback.ts';
import { cleanupsAfterEach } from '../../support/lifecycle.ts';

// The line client run in this process, as a test or an embedding program would: once
// runConnect has returned, nothing of it may go on running or writing.

const cleanups = cleanupsAfterEach();

async function host(): Promise<RunningHost> {
  const h = await startHost({
    host: '127.0.0.1',
    port: 0,
    rooms: ['lobby'],
    dataDir: cleanups.tempDir('parley-host-'),
  });
  cleanups.push(() => h.stop());
  return h;
}

describe('the line client ending on a fatal error while input has ended', () => {
  it('stops reporting progress once it has returned its exit code', async () => {
    const h = await host();
    // An invite whose key is not the host's: the session ends on a fatal error.
    const invite = formatInvite({
      host: '127.0.0.1',
      port: h.address.port,
      room: 'lobby',
      hostKey: newKeyPair().publicKey,
    });
    const stdin = new PassThrough();
    const stdout = new PassThrough().resume();
    const stderr = new PassThrough();
    let err = '';
    stderr.on('data', (c: Buffer) => (err += c.toString()));
    stdin.end('a line\n'); // input ends first: the client waits at the end of input
    const code = await runConnect(
      ['--connect', invite, '--nick', 'alice', '--data-dir', cleanups.tempDir('parley-line-')],
      {
        stdin,
        stdout,
        stderr,
        isTTY: false,
        env: {},
        drainTimeoutMs: 60_000,
        progressIntervalMs: 50,
      },
    );
    expect(code).not.toBe(0);
    const atReturn = err;
    await new Promise((r) => setTimeout(r, 500));
    expect(err.slice(atReturn.length)).toBe('');
  });
});
