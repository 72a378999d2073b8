// Placeholder Electron main process: one secure window. Tray, IPC and the rest come later.
import { join } from 'node:path';
import { app, BrowserWindow } from 'electron';

// Resolved from the app root (the project folder in dev, app.asar when packaged), not from
// this module: the bundler turns this file into a hashed chunk beside out/main/index.js.
const outPath = (...parts: string[]): string => join(app.getAppPath(), 'out', ...parts);

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 960,
    height: 680,
    title: 'Parley',
    webPreferences: {
      preload: outPath('preload', 'preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
    },
  });
  // The renderer only ever shows our own page.
  win.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  win.webContents.on('will-navigate', (event) => event.preventDefault());

  const devUrl = process.env['ELECTRON_RENDERER_URL'];
  if (!app.isPackaged && devUrl) {
    void win.loadURL(devUrl);
  } else {
    void win.loadFile(outPath('renderer', 'index.html'));
  }
  return win;
}

await app.whenReady();
createWindow();
app.on('window-all-closed', () => app.quit());
