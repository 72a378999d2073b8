// The save dialog glue against a faked 'electron' (the real one needs the binary).
import { describe, expect, it, vi } from 'vitest';

const fake = vi.hoisted(() => ({
  answer: { canceled: false, filePath: '/home/u/Downloads/cat.png' } as {
    canceled: boolean;
    filePath?: string;
  },
  calls: [] as unknown[][],
}));

vi.mock('electron', () => ({
  app: { getPath: (name: string) => `/home/u/${name === 'downloads' ? 'Downloads' : name}` },
  dialog: {
    showSaveDialog: (...args: unknown[]) => {
      fake.calls.push(args);
      return Promise.resolve(fake.answer);
    },
  },
}));

const { electronSavePath } = await import('../../../src-main/app/save-dialog.ts');

describe('electronSavePath', () => {
  it('offers the sanitised name in Downloads, confirms overwriting, attached to the window', async () => {
    const window = { isDestroyed: () => false };
    const choose = electronSavePath(() => window as never);
    expect(await choose('cat.png')).toBe('/home/u/Downloads/cat.png');
    const [parent, options] = fake.calls[0] ?? [];
    expect(parent).toBe(window);
    expect(options).toMatchObject({
      defaultPath: '/home/u/Downloads/cat.png',
      properties: expect.arrayContaining(['showOverwriteConfirmation']),
    });
  });

  it('answers undefined when the user cancels, and works without a window', async () => {
    fake.answer = { canceled: true };
    fake.calls.length = 0;
    const choose = electronSavePath(() => undefined);
    expect(await choose('report.pdf')).toBeUndefined();
    expect(fake.calls[0]).toHaveLength(1);
  });
});
