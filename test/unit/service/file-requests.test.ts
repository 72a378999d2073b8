// The desktop's file requests against a stand-in session (the real upload and download are the
// client's, tested against a host in test/integration): what the UI is told, what the session
// is asked to send, what is kept, shown and written, and what is refused before anything goes.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileRequests, type FileSession } from '../../../src-main/service/file-requests.ts';
import type { OutgoingFile, UploadOptions } from '../../../src-main/service/file-ports.ts';
import { ServiceError } from '../../../src-main/service/service-error.ts';
import type { ServiceEvents } from '../../../src-main/service/service-events.ts';
import type { FileRef } from '../../../src-main/protocol/wire/chat-event.ts';
import type { ChatMessageView } from '../../../src-shared/ipc/domain.ts';
import { cleanupsAfterEach } from '../../support/lifecycle.ts';

const cleanups = cleanupsAfterEach();
const H = '127.0.0.1:7878';
const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4]);
const MB = 1024 * 1024;

interface PendingUpload {
  room: string;
  file: OutgoingFile;
  options: UploadOptions;
  resolve: () => void;
  reject: (code: string) => void;
}

class FakeSession implements FileSession {
  state: FileSession['state'] = 'connected';
  nick = 'alice';
  rooms = ['lobby'];
  maxFileBytes = 25 * MB;
  readonly uploads: PendingUpload[] = [];
  readonly files = new Map<string, Uint8Array>();
  fetches = 0;
  fetchError: string | undefined;

  sendFile(
    room: string,
    file: OutgoingFile,
    options: UploadOptions = {},
  ): Promise<{ id: string; file?: FileRef }> {
    return new Promise((resolve, reject) => {
      const upload: PendingUpload = {
        room,
        file,
        options,
        resolve: () =>
          resolve({
            id: options.id ?? 'x',
            file: ref('up', file.name, file.mime, file.bytes.length),
          }),
        reject: (code) => reject(Object.assign(new Error(code), { code })),
      };
      options.signal?.addEventListener('abort', () => upload.reject('cancelled'));
      this.uploads.push(upload);
    });
  }

  async fetchFile(_room: string, file: FileRef): Promise<Uint8Array> {
    this.fetches++;
    await Promise.resolve();
    if (this.fetchError) throw Object.assign(new Error(this.fetchError), { code: this.fetchError });
    const bytes = this.files.get(file.id);
    if (!bytes) throw Object.assign(new Error('gone'), { code: 'no-such-file' });
    return bytes.slice();
  }
}

type Emitted = {
  [N in keyof ServiceEvents]: { name: N; payload: ServiceEvents[N] };
}[keyof ServiceEvents];

function ref(id: string, name: string, mime: string, size: number): FileRef {
  return { id: id.padEnd(22, 'A'), name, mime, size, chunks: 1, key: 'k'.repeat(43) };
}

function setup(options: { choose?: (name: string) => Promise<string | undefined> } = {}) {
  const session = new FakeSession();
  const events: Emitted[] = [];
  const kept: (ChatMessageView & { fileId?: string })[] = [];
  const files = new Map<number, FileRef>();
  let clock = 1000;
  const requests = new FileRequests({
    session: (hostId) => {
      if (hostId !== H) throw new ServiceError('not-connected', 'not one of your hosts');
      return session;
    },
    fileOf: (_hostId, room, seq) => (room === 'lobby' ? files.get(seq) : undefined),
    keepQueued: (_hostId, view, meta) =>
      kept.push({ ...view, ...(meta.file ? { fileId: meta.file.id } : {}) }),
    emit: (name, payload) => events.push({ name, payload } as Emitted),
    self: { key: 'alice-key', fp: 'alice-fp' },
    now: () => clock,
    log: () => undefined,
    ...(options.choose ? { chooseSavePath: options.choose } : {}),
  });
  cleanups.push(() => requests.close());
  const of = <N extends keyof ServiceEvents>(name: N) =>
    events.filter((e) => e.name === name).map((e) => e.payload as ServiceEvents[N]);
  return {
    session,
    requests,
    events,
    kept,
    files,
    of,
    tick: (ms: number) => (clock += ms),
  };
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
const settle = () => new Promise((r) => setTimeout(r, 0));

function send(
  t: ReturnType<typeof setup>,
  extra: Partial<Parameters<FileRequests['sendFile']>[0]> = {},
) {
  return t.requests.sendFile({
    hostId: H,
    room: 'lobby',
    name: 'cat.png',
    mime: 'image/png',
    data: b64(PNG),
    width: 2,
    height: 3,
    ...extra,
  });
}

describe('sendFile', () => {
  it('shows our queued message with its file at once, and keeps it once the upload is done', async () => {
    const t = setup();
    const { id } = send(t, { caption: 'look' });
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const [shown] = t.of('message');
    expect(shown).toMatchObject({
      hostId: H,
      room: 'lobby',
      id,
      own: true,
      status: 'queued',
      text: 'look',
      from: 'alice',
      file: {
        name: 'cat.png',
        mime: 'image/png',
        size: PNG.length,
        image: true,
        width: 2,
        height: 3,
      },
    });
    const [upload] = t.session.uploads;
    expect(upload?.options.id).toBe(id);
    expect(upload?.file).toMatchObject({ name: 'cat.png', mime: 'image/png', text: 'look' });
    expect([...(upload?.file.bytes ?? [])]).toEqual([...PNG]);
    expect(t.kept).toEqual([]);
    upload?.resolve();
    await settle();
    expect(t.kept).toEqual([
      expect.objectContaining({ id, status: 'queued', fileId: ref('up', 'x', 'x/x', 0).id }),
    ]);
    expect(t.of('fileProgress').map((p) => p.state)).toEqual(['sending', 'sent']);
    expect(t.of('fileProgress').at(-1)).toMatchObject({ id, sent: PNG.length, total: PNG.length });
  });

  it('sends a sanitised name and a usable media type', () => {
    const t = setup();
    send(t, { name: '../../etc/\u202Epasswd', mime: 'Not A Type' });
    const [upload] = t.session.uploads;
    expect(upload?.file.name).toBe('passwd');
    expect(upload?.file.mime).toBe('application/octet-stream');
    // Not an image: no pixel size goes with it, and the row shows no thumbnail.
    expect(upload?.file.width).toBeUndefined();
    expect(t.of('message')[0]?.file).toMatchObject({ name: 'passwd', image: false });
  });

  it('refuses a file above the host limit before anything is sent, naming the limit', () => {
    const t = setup();
    t.session.maxFileBytes = 1 * MB;
    const big = new Uint8Array(2 * MB);
    const attempt = () => send(t, { data: b64(big) });
    expect(attempt).toThrowError(ServiceError);
    expect(attempt).toThrowError(/up to 1 MB/);
    try {
      attempt();
    } catch (error) {
      expect((error as ServiceError).code).toBe('too-large');
    }
    expect(t.session.uploads).toEqual([]);
    expect(t.events).toEqual([]);
  });

  it('refuses data that is not base64, an empty file, a room not joined, a host without files', () => {
    const t = setup();
    expect(() => send(t, { data: 'abc' })).toThrowError(/not base64/);
    expect(() => send(t, { data: 'ab!=' })).toThrowError(/not base64/);
    expect(() => send(t, { data: '' })).toThrowError(/empty/);
    expect(() => send(t, { room: 'dev' })).toThrowError(/join #dev/);
    t.session.maxFileBytes = 0;
    expect(() => send(t)).toThrowError(/does not take files/);
    // Away, the limit reads 0 too: that is said as what it is.
    t.session.state = 'reconnecting';
    expect(() => send(t)).toThrowError(/Not connected/);
    expect(t.session.uploads).toEqual([]);
  });

  it('tells progress at most ten times a second', async () => {
    const t = setup();
    send(t);
    const onProgress = t.session.uploads[0]?.options.onProgress;
    for (let done = 1; done <= 100; done++) {
      t.tick(10); // 100 reports over one second
      onProgress?.(done * 1000, 100_000);
    }
    const sending = t.of('fileProgress').filter((p) => p.state === 'sending');
    // The first (0 of n) plus at most ten per second, the last one (all done) always.
    expect(sending.length).toBeLessThanOrEqual(12);
    expect(sending.length).toBeGreaterThanOrEqual(10);
    expect(sending.at(-1)).toMatchObject({ sent: 100_000, total: 100_000 });
  });

  it('cancels: the upload is stopped, nothing is kept, the UI hears "cancelled"', async () => {
    const t = setup();
    const { id } = send(t);
    expect(t.requests.cancelFile({ hostId: H, id })).toEqual({});
    expect(t.session.uploads[0]?.options.signal?.aborted).toBe(true);
    await settle();
    expect(t.of('fileProgress').at(-1)).toMatchObject({ id, state: 'cancelled' });
    expect(t.kept).toEqual([]);
    // Over: a second cancel is told so.
    expect(() => t.requests.cancelFile({ hostId: H, id })).toThrowError(/not under way/);
  });

  it('says in words why an upload failed, and keeps nothing', async () => {
    const t = setup();
    const { id } = send(t);
    t.session.uploads[0]?.reject('quota-exceeded');
    await settle();
    const last = t.of('fileProgress').at(-1);
    expect(last).toMatchObject({ id, state: 'failed' });
    expect(last?.error).toMatch(/full/);
    expect(t.kept).toEqual([]);
  });

  it('runs several uploads at once, each on its own', async () => {
    const t = setup();
    const a = send(t, { name: 'a.png' });
    const b = send(t, { name: 'b.png' });
    expect(a.id).not.toBe(b.id);
    t.requests.cancelFile({ hostId: H, id: a.id });
    t.session.uploads[1]?.resolve();
    await settle();
    const final = new Map(t.of('fileProgress').map((p) => [p.id, p.state]));
    expect(final.get(a.id)).toBe('cancelled');
    expect(final.get(b.id)).toBe('sent');
    expect(t.kept.map((v) => v.id)).toEqual([b.id]);
  });

  it('close() stops every upload', async () => {
    const t = setup();
    send(t);
    t.requests.close();
    expect(t.session.uploads[0]?.options.signal?.aborted).toBe(true);
  });
});

describe('getFile', () => {
  it('returns an image decrypted, with the type its bytes show and a sanitised name', async () => {
    const t = setup();
    // Sent as JPEG, but the bytes are a PNG: shown as what it is.
    t.files.set(5, ref('img', '.hidden\u0000.jpg', 'image/jpeg', PNG.length));
    t.session.files.set(ref('img', 'x', 'x/x', 0).id, PNG);
    const got = await t.requests.getFile({ hostId: H, room: 'lobby', seq: 5 });
    expect(got).toEqual({ data: b64(PNG), mime: 'image/png', name: 'hidden.jpg' });
  });

  it('keeps it in memory: shown again without asking the host, until the message is deleted', async () => {
    const t = setup();
    t.files.set(5, ref('img', 'cat.png', 'image/png', PNG.length));
    t.session.files.set(ref('img', 'x', 'x/x', 0).id, PNG);
    const input = { hostId: H, room: 'lobby', seq: 5 };
    await t.requests.getFile(input);
    await t.requests.getFile(input);
    expect(t.session.fetches).toBe(1);
    // Deleted: the history no longer has it, and the cached bytes go too.
    t.requests.messageDeleted(H, 'lobby', 5);
    t.files.delete(5);
    await expect(t.requests.getFile(input)).rejects.toMatchObject({ code: 'not-found' });
    expect(t.session.fetches).toBe(1);
  });

  it('refuses what is not shown inline: SVG, other types, large images, non-image bytes', async () => {
    const t = setup();
    t.files.set(1, ref('svg', 'x.svg', 'image/svg+xml', 10));
    t.files.set(2, ref('pdf', 'x.pdf', 'application/pdf', 10));
    t.files.set(3, ref('big', 'x.png', 'image/png', 11 * MB));
    t.files.set(4, ref('html', 'x.png', 'image/png', 20));
    t.session.files.set(
      ref('html', 'x', 'x/x', 0).id,
      new TextEncoder().encode('<script>x</script>'),
    );
    for (const seq of [1, 2, 3, 4]) {
      await expect(t.requests.getFile({ hostId: H, room: 'lobby', seq })).rejects.toMatchObject({
        code: 'refused',
      });
    }
    expect(t.session.fetches).toBe(1);
  });

  it('fails cleanly for a message without a file, a file the host dropped, a damaged file', async () => {
    const t = setup();
    await expect(t.requests.getFile({ hostId: H, room: 'lobby', seq: 9 })).rejects.toMatchObject({
      code: 'not-found',
    });
    t.files.set(5, ref('gone', 'cat.png', 'image/png', PNG.length));
    await expect(t.requests.getFile({ hostId: H, room: 'lobby', seq: 5 })).rejects.toMatchObject({
      code: 'not-found',
      message: expect.stringMatching(/no longer has/),
    });
    t.session.fetchError = 'file-failed';
    await expect(t.requests.getFile({ hostId: H, room: 'lobby', seq: 5 })).rejects.toMatchObject({
      code: 'refused',
      message: expect.stringMatching(/altered or cut short/),
    });
  });

  it('does not show or keep an image whose message was deleted while it downloaded', async () => {
    const t = setup();
    t.files.set(5, ref('img', 'cat.png', 'image/png', PNG.length));
    t.session.files.set(ref('img', 'x', 'x/x', 0).id, PNG);
    const pending = t.requests.getFile({ hostId: H, room: 'lobby', seq: 5 });
    t.files.delete(5);
    await expect(pending).rejects.toMatchObject({ code: 'not-found' });
  });
});

describe('saveFile', () => {
  it('writes the decrypted file where the user chose, offering the sanitised name', async () => {
    const dir = cleanups.tempDir('parley-save-');
    const asked: string[] = [];
    const t = setup({
      choose: (name) => {
        asked.push(name);
        return Promise.resolve(join(dir, 'chosen.bin'));
      },
    });
    const data = new TextEncoder().encode('a report');
    t.files.set(7, ref('doc', 'C:\\Users\\x\\report.pdf', 'application/pdf', data.length));
    t.session.files.set(ref('doc', 'x', 'x/x', 0).id, data);
    expect(await t.requests.saveFile({ hostId: H, room: 'lobby', seq: 7 })).toEqual({
      saved: true,
    });
    expect(asked).toEqual(['report.pdf']);
    expect(readFileSync(join(dir, 'chosen.bin'), 'utf8')).toBe('a report');
    // Nothing else was left in the folder (no partial file).
    expect(readdirSync(dir)).toEqual(['chosen.bin']);
  });

  it('replaces a file the dialog asked about as a whole', async () => {
    const dir = cleanups.tempDir('parley-save-');
    const path = join(dir, 'report.pdf');
    writeFileSync(path, 'an older, longer file');
    const t = setup({ choose: () => Promise.resolve(path) });
    t.files.set(7, ref('doc', 'report.pdf', 'application/pdf', 3));
    t.session.files.set(ref('doc', 'x', 'x/x', 0).id, new TextEncoder().encode('new'));
    await t.requests.saveFile({ hostId: H, room: 'lobby', seq: 7 });
    expect(readFileSync(path, 'utf8')).toBe('new');
  });

  it('writes nothing when the dialog is cancelled, or the folder cannot be written', async () => {
    const dir = cleanups.tempDir('parley-save-');
    let answer: string | undefined;
    const t = setup({ choose: () => Promise.resolve(answer) });
    t.files.set(7, ref('doc', 'report.pdf', 'application/pdf', 3));
    t.session.files.set(ref('doc', 'x', 'x/x', 0).id, new TextEncoder().encode('new'));
    const input = { hostId: H, room: 'lobby', seq: 7 };
    expect(await t.requests.saveFile(input)).toEqual({ saved: false });
    answer = join(dir, 'missing-folder', 'report.pdf');
    await expect(t.requests.saveFile(input)).rejects.toMatchObject({
      code: 'refused',
      message: expect.stringMatching(/folder is not there/),
    });
    answer = 'relative/report.pdf';
    await expect(t.requests.saveFile(input)).rejects.toMatchObject({ code: 'invalid-request' });
    expect(readdirSync(dir)).toEqual([]);
    expect(existsSync('relative/report.pdf')).toBe(false);
  });

  it('is refused where no save dialog exists, and for a file the host dropped', async () => {
    const t = setup();
    t.files.set(7, ref('doc', 'report.pdf', 'application/pdf', 3));
    await expect(t.requests.saveFile({ hostId: H, room: 'lobby', seq: 7 })).rejects.toMatchObject({
      code: 'refused',
    });
    const u = setup({ choose: () => Promise.resolve('/tmp/never') });
    u.files.set(7, ref('doc', 'report.pdf', 'application/pdf', 3));
    await expect(u.requests.saveFile({ hostId: H, room: 'lobby', seq: 7 })).rejects.toMatchObject({
      code: 'not-found',
    });
  });
});
