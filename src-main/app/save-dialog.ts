import { join } from 'node:path';
import { type BrowserWindow, app, dialog } from 'electron';
import type { ChooseSavePath } from '../service/file-requests.ts';

/**
 * The save dialog a received file is saved through (saveFile): it opens in the Downloads folder
 * with the file's sanitised name, and the OS dialog asks before replacing a file (on Linux
 * Electron has to be told to). Attached to the window, so it cannot get lost behind it. Parley
 * only writes the file there: it never opens or runs it.
 */
export function electronSavePath(window: () => BrowserWindow | undefined): ChooseSavePath {
  return async (suggestedName) => {
    const options: Electron.SaveDialogOptions = {
      title: 'Save file',
      defaultPath: join(app.getPath('downloads'), suggestedName),
      properties: ['createDirectory', 'showOverwriteConfirmation'],
    };
    const parent = window();
    const result =
      parent && !parent.isDestroyed()
        ? await dialog.showSaveDialog(parent, options)
        : await dialog.showSaveDialog(options);
    return result.canceled || !result.filePath ? undefined : result.filePath;
  };
}
