// The browser bridge's stand-in for the save dialog: what e2e tests and dev:web save through.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BridgeSaveDialog } from '../../../tools/web-bridge/save-dialog.ts';
import { cleanupsAfterEach } from '../../support/lifecycle.ts';

const cleanups = cleanupsAfterEach();

describe('BridgeSaveDialog', () => {
  it('saves under the suggested name in its folder, never over a file already there', async () => {
    const dir = join(cleanups.tempDir('parley-bridge-save-'), 'saved-files');
    const dialog = new BridgeSaveDialog(dir);
    expect(await dialog.choose('cat.png')).toBe(join(dir, 'cat.png'));
    writeFileSync(join(dir, 'cat.png'), 'x');
    expect(await dialog.choose('cat.png')).toBe(join(dir, 'cat (1).png'));
    expect(dialog.asked).toEqual(['cat.png', 'cat.png']);
  });

  it('answers as the test says: another (sanitised) name, or cancel', async () => {
    const dir = cleanups.tempDir('parley-bridge-save-');
    const dialog = new BridgeSaveDialog(dir);
    dialog.answerNext({ name: '../../outside.txt' });
    dialog.answerNext({ cancel: true });
    expect(await dialog.choose('a.txt')).toBe(join(dir, 'outside.txt'));
    expect(await dialog.choose('b.txt')).toBeUndefined();
    expect(dialog.chosen).toEqual([join(dir, 'outside.txt')]);
  });
});
