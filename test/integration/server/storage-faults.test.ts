import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { type RunningHost, startHost } from '../../../src-main/server/host.ts';
import type { KeyPair } from '../../../src-main/protocol/crypto/crypto-backend.ts';
import { newKeyPair } from '../../support/loopback.ts';
import { type WireClient, connectWireClient } from '../../support/wire-client.ts';
import { cleanupsAfterEach } from '../../support/lifecycle.ts';

// Real storage faults under a running host, no mocks: another connection holding SQLite's write
// lock (busy), and a file system that is full (a small tmpfs filled to the last block). In each, a send is answered `internal`
// with retryAfterMs and never acknowledged, other requests get an error, the host keeps
// serving, and once the fault is gone the same resend is stored and delivered exactly once.

const cleanups = cleanupsAfterEach();

async function host(dataDir: string): Promise<RunningHost> {
  // Open: who may join is not what is under test (a member's join only reads the store).
  const h = await startHost({
    host: '127.0.0.1',
    port: 0,
    rooms: ['lobby'],
    openRooms: true,
    dataDir,
  });
  cleanups.push(() => h.stop().catch(() => undefined));
  return h;
}

async function member(h: RunningHost, nick: string, keyPair?: KeyPair): Promise<WireClient> {
  const c = await connectWireClient(h.address.port, h.publicKey, nick, keyPair ? { keyPair } : {});
  cleanups.push(() => c.close());
  await c.waitFor('welcome');
  c.send({ t: 'join', room: 'lobby' });
  await c.waitFor('synced');
  return c;
}

let ids = 0;
const newId = () => `fault-${String(++ids).padStart(8, '0')}`;

/** Sends one message and waits for the host's new answer to it: an ack or an error. */
async function sendAndAnswer(c: WireClient, id: string, text: string) {
  const errorsBefore = c.of('error').filter((e) => e.ref === id).length;
  c.send({ t: 'send', room: 'lobby', id, text });
  return Promise.race([
    c.waitFor('ack', (a) => a.id === id),
    c.waitFor(
      'error',
      (e) =>
        e.ref === id &&
        c
          .of('error')
          .filter((x) => x.ref === id)
          .indexOf(e) >= errorsBefore,
    ),
  ]);
}

/** Sends until the host refuses one with `internal`; returns the refused id. */
async function sendUntilRefused(alice: WireClient): Promise<string> {
  for (let attempt = 0; attempt < 40; attempt++) {
    const id = newId();
    const answer = await sendAndAnswer(alice, id, 'x'.repeat(4000));
    if (answer.t === 'error') {
      expect(answer).toMatchObject({ code: 'internal' });
      expect(answer.retryAfterMs).toBeGreaterThan(0);
      return id;
    }
  }
  throw new Error('the fault never reached a send');
}

/** While the fault lasts: nothing is acknowledged, other requests are answered, pings too. */
async function expectServingThroughFault(h: RunningHost, alice: WireClient, refused: string) {
  const renamed = 'alice-renamed';
  alice.send({ t: 'nick', nick: renamed });
  const renameError = await alice.waitFor('error', (e) => e.ref === renamed);
  expect(renameError.code).toBe('internal');
  alice.send({ t: 'ping', n: 4242 });
  await alice.waitFor('pong', (p) => p.n === 4242);
  expect(alice.of('ack').some((a) => a.id === refused)).toBe(false);
  expect(h.clientCount).toBeGreaterThan(0);
}

/** After the fault: the same id is stored once, acknowledged once and delivered once. */
async function expectRecovered(alice: WireClient, bob: WireClient, refused: string) {
  let ack;
  for (let attempt = 0; attempt < 50 && !ack; attempt++) {
    const answer = await sendAndAnswer(alice, refused, 'resent after the fault');
    if (answer.t === 'ack') ack = answer;
    else await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(ack).toBeDefined();
  expect(ack?.duplicate).toBeUndefined();
  await bob.waitFor('msg', (m) => m.id === refused);
  expect(bob.of('msg').filter((m) => m.id === refused)).toHaveLength(1);
  alice.send({ t: 'nick', nick: 'alice-renamed' });
  await alice.waitFor('nick', (n) => n.nick === 'alice-renamed');
}

describe('the host under real storage faults', () => {
  it('busy: another connection holds the write lock', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'parley-busy-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const h = await host(dataDir);
    const alice = await member(h, 'alice');
    const bob = await member(h, 'bob');
    const carolKey = newKeyPair();
    (await member(h, 'carol', carolKey)).close(); // her nickname is bound before the fault

    const locker = new DatabaseSync(join(dataDir, 'history.sqlite'), { timeout: 0 });
    cleanups.push(() => locker.close());
    locker.exec('BEGIN IMMEDIATE');
    const refused = await sendUntilRefused(alice);
    await expectServingThroughFault(h, alice, refused);
    // Reads go on in WAL mode while the lock is held: a returning user is welcomed (her name
    // is checked with a read) and joins; a new name cannot be bound and is told to try later.
    const carol = await member(h, 'carol', carolKey);
    expect(carol.of('synced')).toHaveLength(1);
    const dave = await connectWireClient(h.address.port, h.publicKey, 'dave');
    expect((await dave.closed).reason).toMatch(/could not check your nickname; try again/);
    locker.exec('COMMIT');
    await expectRecovered(alice, bob, refused);
  });

  describe.skipIf(!canMountTmpfs())('on a small file system of its own (tmpfs; needs root)', () => {
    it('full: the disk has no block left', async () => {
      // (A read-only remount, for I/O errors proper, is refused while the host has files open
      // for writing, and this machine has no device-mapper; a full disk reaches SQLite's I/O
      // error path, HostDatabaseError 'io', which is the same code path in the host.)
      const dir = mountTmpfs('8m');
      const h = await host(dir);
      const alice = await member(h, 'alice');
      const bob = await member(h, 'bob');
      const filler = join(dir, 'filler');
      fillDisk(filler);
      const refused = await sendUntilRefused(alice);
      await expectServingThroughFault(h, alice, refused);
      unlinkSync(filler);
      await expectRecovered(alice, bob, refused);
    });
  });
});

function canMountTmpfs(): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'parley-mount-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { stdio: 'ignore' });
    execFileSync('umount', [dir], { stdio: 'ignore' });
    return true;
  } catch {
    console.warn(
      'host-storage-faults: cannot mount a tmpfs here (not root?); disk-full and I/O cases skipped',
    );
    return false;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function mountTmpfs(size: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'parley-tmpfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir]);
  cleanups.push(() => {
    try {
      execFileSync('umount', ['-l', dir]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  return dir;
}

/** Writes a file until the file system says there is no space left. */
function fillDisk(path: string): void {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
    // The last partial block too, byte by byte is too slow: 512 bytes at a time.
    try {
      for (;;) writeSync(fd, chunk.subarray(0, 512));
    } catch {
      // full to the last block
    }
  } finally {
    closeSync(fd);
  }
}
