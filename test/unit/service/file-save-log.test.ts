// Review of #17 (R1): a received file's name is what its sender wrote (in an encrypted room the
// host never sees it). A save that fails must not put it in the service log: Node's file system
// errors carry the path, and the path carries the name.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileRequests, type FileSession } from '../../../src-main/service/file-requests.ts';
import type { FileRef } from '../../../src-main/protocol/wire/chat-event.ts';
import { cleanupsAfterEach } from '../../support/lifecycle.ts';

const cleanups = cleanupsAfterEach();
const H = '127.0.0.1:7878';
const NAME = 'secret-merger-plan.pdf';
const ref: FileRef = {
  id: 'd'.repeat(22),
  name: NAME,
  mime: 'application/pdf',
  size: 3,
  chunks: 1,
  key: 'k'.repeat(43),
};

describe('saveFile: what a failed save logs', () => {
  it('says why, never the file name or the path', async () => {
    const dir = cleanups.tempDir('parley-save-log-');
    const logged: unknown[] = [];
    const session = {
      fetchFile: () => Promise.resolve(new TextEncoder().encode('abc')),
    } as unknown as FileSession;
    const requests = new FileRequests({
      session: () => session,
      fileOf: (_host, room, seq) => (room === 'lobby' && seq === 7 ? ref : undefined),
      keepQueued: () => undefined,
      emit: () => undefined,
      self: { key: 'k', fp: 'f' },
      now: () => 0,
      log: (...args: unknown[]) => logged.push(args),
      chooseSavePath: () => Promise.resolve(join(dir, 'no-such-folder', NAME)),
    });
    cleanups.push(() => requests.close());
    await expect(requests.saveFile({ hostId: H, room: 'lobby', seq: 7 })).rejects.toMatchObject({
      code: 'refused',
    });
    expect(logged).not.toEqual([]);
    const text = JSON.stringify(logged);
    expect(text).toContain('ENOENT');
    expect(text).not.toContain('secret-merger-plan');
    expect(text).not.toContain(dir);
  });
});
