// The browser bridge carries the file requests (#17) as the page sends them: base64 through
// dispatchRequest, `fileProgress` back, getFile's image, and saveFile into the bridge's
// saved-files folder through the save dialog the test answers.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodePng } from '../../../src-main/service/png.ts';
import { cleanupsAfterEach, until } from '../../support/lifecycle.ts';
import { openBridge } from './bridge-harness.ts';
import { hostIdOf, startTestHost } from './harness.ts';

const cleanups = cleanupsAfterEach();

describe('the browser bridge and files', () => {
  it('sends an image, shows it, saves it where the dialog says, and refuses what the contract does not take', async () => {
    const h = await startTestHost(cleanups, { rooms: ['lobby'] });
    const hostId = hostIdOf(h);
    const { backend, dataDir, seen, ok } = await openBridge(cleanups, 'parley-bridge-files-');
    await ok('connect', { invite: h.invite('lobby', { role: 'owner' }), nick: 'alice' });
    await until(
      () =>
        seen.some(
          (e) =>
            e.name === 'connectionState' &&
            (e.payload as { status: string }).status === 'connected',
        ),
      'connected',
    );
    const png = encodePng({ width: 8, height: 8, pixels: new Uint8Array(8 * 8 * 4).fill(200) });
    const { id } = await ok('sendFile', {
      hostId,
      room: 'lobby',
      name: 'tile.png',
      mime: 'image/png',
      data: png.toString('base64'),
    });
    const progress = () =>
      seen
        .filter((e) => e.name === 'fileProgress')
        .map((e) => e.payload as { id: string; state: string })
        .filter((p) => p.id === id);
    await until(() => progress().some((p) => p.state === 'sent'), 'uploaded');
    const seqOf = () =>
      seen
        .filter((e) => e.name === 'messageStatus')
        .map((e) => e.payload as { id: string; seq?: number })
        .find((s) => s.id === id)?.seq;
    await until(() => seqOf() !== undefined, 'acknowledged');
    const seq = seqOf();

    const image = await ok('getFile', { hostId, room: 'lobby', seq });
    expect(image).toEqual({ data: png.toString('base64'), mime: 'image/png', name: 'tile.png' });

    expect(await ok('saveFile', { hostId, room: 'lobby', seq })).toEqual({ saved: true });
    expect(backend.saveDialog.asked).toEqual(['tile.png']);
    expect(readFileSync(join(dataDir, 'saved-files', 'tile.png')).equals(png)).toBe(true);
    backend.saveDialog.answerNext({ cancel: true });
    expect(await ok('saveFile', { hostId, room: 'lobby', seq })).toEqual({ saved: false });

    // What the page may not send: cancelling an upload that is over, a name that is empty.
    expect(await backend.request('cancelFile', { hostId, id })).toMatchObject({
      ok: false,
      error: { code: 'not-found' },
    });
    expect(
      await backend.request('sendFile', {
        hostId,
        room: 'lobby',
        name: '',
        mime: '',
        data: 'AA==',
      }),
    ).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
  }, 30_000);
});
