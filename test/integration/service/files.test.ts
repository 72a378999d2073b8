// Files through the desktop service against a real host, in a plaintext and an end-to-end
// encrypted room: an image alice sends reaches bob as an inline image, getFile gives him the
// same bytes and saveFile writes them where he chose; the host keeps only ciphertext; a cancel
// leaves no message, a file over the host's limit is refused before anything is sent, and a
// deleted file's image is gone.
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileCiphertextBytes } from '../../../src-main/server/host-limits.ts';
import { type HostOptions, type RunningHost, startHost } from '../../../src-main/server/host.ts';
import { encodePng } from '../../../src-main/service/png.ts';
import { cleanupsAfterEach } from '../../support/lifecycle.ts';
import { type TestService, bytesUnder, connectedTo, hostIdOf, openTestService } from './harness.ts';

const cleanups = cleanupsAfterEach();
const KIB = 1024;
const WAIT = 20_000;

/** A PNG of noise: incompressible, so `width`×`height`×4 bytes and several 32 KiB chunks. */
function noisePng(width: number, height: number): Buffer {
  return encodePng({ width, height, pixels: randomBytes(width * height * 4) });
}

interface Person extends TestService {
  /** Where this person's save dialog puts files. */
  saveDir: string;
}

async function person(
  h: RunningHost,
  nick: string,
  role: 'owner' | 'member',
  e2ee: boolean,
): Promise<Person> {
  const saveDir = cleanups.tempDir(`parley-saved-${nick}-`);
  const app = await openTestService(cleanups, undefined, {
    chooseSavePath: (name) => Promise.resolve(join(saveDir, name)),
  });
  await app.service.connect({ invite: h.invite('lobby', { role }), nick });
  await app.events.waitFor('connectionState', connectedTo(h), WAIT);
  await app.events.waitFor(
    'rooms',
    (r) => r.rooms.some((x) => x.name === 'lobby' && x.joined && (!e2ee || x.e2ee === 'encrypted')),
    WAIT,
  );
  return { ...app, saveDir };
}

/** A host with #lobby (its clock and file sweep may be the test's), alice its owner and bob. */
async function pair(
  spec: Pick<HostOptions, 'limits' | 'now' | 'fileSweepIntervalMs'> & { e2ee?: boolean },
) {
  const hostDir = cleanups.tempDir('parley-files-host-');
  const h = await startHost({
    host: '127.0.0.1',
    port: 0,
    rooms: ['lobby'],
    dataDir: hostDir,
    ...spec,
  });
  cleanups.push(() => h.stop());
  const e2ee = spec.e2ee === true;
  const alice = await person(h, 'alice', 'owner', e2ee);
  const bob = await person(h, 'bob', 'member', e2ee);
  if (e2ee) {
    await alice.events.waitFor(
      'members',
      (m) => m.room === 'lobby' && m.members.some((x) => x.nick === 'bob' && x.devices === 1),
      WAIT,
    );
  }
  // Both are in the room on the host, and bob hears alice.
  alice.service.send({ hostId: hostIdOf(h), room: 'lobby', text: 'hello' });
  await bob.events.waitFor('message', (m) => m.text === 'hello', WAIT);
  return { h, hostDir, hostId: hostIdOf(h), alice, bob };
}

/** alice sends `bytes`; resolves once the upload is done and the host gave the message a seq. */
async function sendFile(
  from: TestService,
  hostId: string,
  bytes: Buffer,
  extra: { name?: string; mime?: string; width?: number; height?: number; caption?: string } = {},
): Promise<{ id: string; seq: number }> {
  const { id } = from.service.sendFile({
    hostId,
    room: 'lobby',
    name: extra.name ?? 'cat.png',
    mime: extra.mime ?? 'image/png',
    data: bytes.toString('base64'),
    ...(extra.width !== undefined ? { width: extra.width, height: extra.height ?? 1 } : {}),
    ...(extra.caption !== undefined ? { caption: extra.caption } : {}),
  });
  const done = await from.events.waitFor(
    'fileProgress',
    (p) => p.id === id && p.state !== 'sending',
    WAIT,
  );
  expect(done.error).toBeUndefined();
  expect(done).toMatchObject({ state: 'sent', sent: bytes.length, total: bytes.length });
  const status = await from.events.waitFor(
    'messageStatus',
    (s) => s.id === id && s.status === 'sent',
    WAIT,
  );
  expect(status.seq).toBeTypeOf('number');
  return { id, seq: status.seq ?? -1 };
}

describe.each([
  ['a plaintext room', false],
  ['an end-to-end encrypted room', true],
])('files in %s', (_kind, e2ee) => {
  it('an image reaches bob inline; getFile and saveFile give him the same bytes; the host keeps only ciphertext', async () => {
    const { hostDir, hostId, alice, bob } = await pair({ e2ee });
    const png = noisePng(120, 100); // ≈ 48 KB: two chunks
    const { id, seq } = await sendFile(alice, hostId, png, {
      width: 120,
      height: 100,
      caption: 'the view from here',
    });

    // alice's own row: queued at once with its file, then sent.
    const queued = alice.events.of('message').find((m) => m.id === id);
    expect(queued).toMatchObject({
      own: true,
      status: 'queued',
      file: { name: 'cat.png', image: true },
    });
    // Every time alice's row is told (at the start, kept once uploaded) it carries its file.
    const rows = alice.events.of('message').filter((m) => m.id === id);
    expect(rows.length).toBeGreaterThanOrEqual(2);
    expect(rows.map((m) => m.file?.name)).toEqual(rows.map(() => 'cat.png'));
    const progress = alice.events.of('fileProgress').filter((p) => p.id === id);
    expect(progress[0]).toMatchObject({ state: 'sending', sent: 0, total: png.length });

    const got = await bob.events.waitFor('message', (m) => m.seq === seq, WAIT);
    expect(got).toMatchObject({
      from: 'alice',
      own: false,
      text: 'the view from here',
      file: {
        name: 'cat.png',
        mime: 'image/png',
        size: png.length,
        image: true,
        width: 120,
        height: 100,
      },
    });
    expect(got.e2ee).toBeUndefined();

    const shown = await bob.service.getFile({ hostId, room: 'lobby', seq });
    expect(shown).toEqual({ data: png.toString('base64'), mime: 'image/png', name: 'cat.png' });
    // alice sees her own image too (kept with its file reference when the upload ended).
    const own = await alice.service.getFile({ hostId, room: 'lobby', seq });
    expect(own.data).toBe(png.toString('base64'));

    // Shown from memory only: nothing of the image is in bob's data folder.
    const kept = bytesUnder(bob.dataDir);
    expect(kept.includes(png.subarray(1000, 1064))).toBe(false);
    expect(await bob.service.saveFile({ hostId, room: 'lobby', seq })).toEqual({ saved: true });
    expect(readFileSync(join(bob.saveDir, 'cat.png')).equals(png)).toBe(true);

    // The host stores the file's chunks encrypted with a key it never saw: no 64-byte run of
    // the image is anywhere in its folder (database, WAL).
    const stored = bytesUnder(hostDir);
    for (const at of [0, 1000, 30_000, png.length - 64]) {
      expect(stored.includes(png.subarray(at, at + 64))).toBe(false);
    }
  }, 60_000);
});

describe('files through the desktop service', () => {
  it('a cancelled upload leaves no message on either side', async () => {
    const { hostId, alice, bob } = await pair({});
    const big = randomBytes(8 * 1024 * KIB);
    let id = '';
    alice.service.on('fileProgress', (p) => {
      if (p.id === id && p.state === 'sending' && p.sent > 0)
        alice.service.cancelFile({ hostId, id });
    });
    ({ id } = alice.service.sendFile({
      hostId,
      room: 'lobby',
      name: 'big.bin',
      mime: 'application/octet-stream',
      data: big.toString('base64'),
    }));
    const end = await alice.events.waitFor(
      'fileProgress',
      (p) => p.id === id && p.state !== 'sending',
      WAIT,
    );
    expect(end.state).toBe('cancelled');

    // What is said after it arrives; the file never does.
    alice.service.send({ hostId, room: 'lobby', text: 'never mind' });
    await bob.events.waitFor('message', (m) => m.text === 'never mind', WAIT);
    expect(bob.events.of('message').filter((m) => m.file)).toEqual([]);
    const page = await alice.service.loadHistory({ hostId, room: 'lobby', limit: 50 });
    expect(page.messages.filter((m) => m.file)).toEqual([]);
    expect(alice.events.of('messageStatus').filter((s) => s.id === id)).toEqual([]);
  }, 60_000);

  it('says the host limit once connected, and refuses a larger file before anything is sent', async () => {
    const limit = 64 * KIB;
    const { h, hostId, alice, bob } = await pair({
      limits: { maxFileBytes: fileCiphertextBytes(limit) },
    });
    const state = await alice.events.waitFor('connectionState', connectedTo(h));
    expect(state.maxFileBytes).toBe(limit);
    const before = alice.events.all.length;
    const attempt = () =>
      alice.service.sendFile({
        hostId,
        room: 'lobby',
        name: 'big.png',
        mime: 'image/png',
        data: noisePng(150, 150).toString('base64'), // ≈ 90 KB
      });
    expect(attempt).toThrowError(expect.objectContaining({ code: 'too-large' }));
    expect(attempt).toThrowError(/up to 64 KB/);
    expect(alice.events.all.slice(before).map((e) => e.name)).toEqual([]);
    // A file within it goes.
    const small = noisePng(60, 60);
    const { seq } = await sendFile(alice, hostId, small);
    await bob.events.waitFor('message', (m) => m.seq === seq, WAIT);
  }, 60_000);

  it("a deleted file's image is gone: getFile fails cleanly on both sides", async () => {
    const { hostId, alice, bob } = await pair({});
    const png = noisePng(40, 40);
    const { seq } = await sendFile(alice, hostId, png);
    await bob.events.waitFor('message', (m) => m.seq === seq, WAIT);
    // Shown once (so it is in bob's memory), then deleted by alice.
    await bob.service.getFile({ hostId, room: 'lobby', seq });
    alice.service.deleteMessage({ hostId, room: 'lobby', seq });
    await bob.events.waitFor('message', (m) => m.seq === seq && m.deleted === true, WAIT);
    for (const app of [bob, alice]) {
      await expect(app.service.getFile({ hostId, room: 'lobby', seq })).rejects.toMatchObject({
        code: 'not-found',
      });
      await expect(app.service.saveFile({ hostId, room: 'lobby', seq })).rejects.toMatchObject({
        code: 'not-found',
      });
    }
    expect(readdirSync(bob.saveDir)).toEqual([]);
  }, 60_000);

  it('a file past the host retention: getFile says the host no longer has it', async () => {
    let skew = 0;
    const { hostId, alice, bob } = await pair({
      limits: { fileRetentionDays: 1 },
      now: () => Date.now() + skew,
      fileSweepIntervalMs: 50,
    });
    const png = noisePng(20, 20);
    const { seq } = await sendFile(alice, hostId, png);
    await bob.events.waitFor('message', (m) => m.seq === seq, WAIT);
    skew = 2 * 24 * 3600 * 1000;
    // The sweep runs every 50 ms: ask until the host says it is gone (not cached: never shown).
    const deadline = Date.now() + 10_000;
    let error: unknown;
    while (Date.now() < deadline) {
      error = await bob.service.getFile({ hostId, room: 'lobby', seq }).then(
        () => undefined,
        (e: unknown) => e,
      );
      if (error) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(error).toMatchObject({
      code: 'not-found',
      message: expect.stringMatching(/no longer has/),
    });
  }, 60_000);

  it('never shows a file that is not an inline image: it is only saved', async () => {
    const { hostId, alice, bob } = await pair({});
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>x()</script></svg>');
    const { seq } = await sendFile(alice, hostId, svg, { name: 'logo.svg', mime: 'image/svg+xml' });
    const got = await bob.events.waitFor('message', (m) => m.seq === seq, WAIT);
    expect(got.file).toMatchObject({ name: 'logo.svg', image: false });
    await expect(bob.service.getFile({ hostId, room: 'lobby', seq })).rejects.toMatchObject({
      code: 'refused',
    });
    expect(await bob.service.saveFile({ hostId, room: 'lobby', seq })).toEqual({ saved: true });
    expect(readFileSync(join(bob.saveDir, 'logo.svg')).equals(svg)).toBe(true);
  }, 60_000);
});
