// The main window: secure web preferences, no navigation, no new windows, no permissions.
// Links from messages go to the system browser after validation, never into our window.
import { BrowserWindow, type WebContents } from 'electron';
import { safeExternalUrl } from '../service/external-url.ts';
import { MIN_SIZE, type Rect } from '../service/window-bounds.ts';

export interface MainWindowOptions {
  readonly preload: string;
  readonly bounds: Rect | { readonly width: number; readonly height: number };
  readonly maximized: boolean;
  /** Opens a validated http(s) URL outside the app (shell.openExternal). */
  readonly openExternal: (url: string) => void;
  /** Navigation to allow (the dev server's reloads); everything else is prevented. */
  readonly allowNavigation?: (url: string) => boolean;
}

export function createMainWindow(options: MainWindowOptions): BrowserWindow {
  // The security preferences are spelled out here, at the constructor, on purpose: this is
  // where reviewers and static scanners (e.g. Electronegativity) look for them.
  const win = new BrowserWindow({
    ...options.bounds,
    minWidth: MIN_SIZE.width,
    minHeight: MIN_SIZE.height,
    title: 'Parley',
    show: false,
    webPreferences: {
      preload: options.preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      experimentalFeatures: false,
      navigateOnDragDrop: false,
      safeDialogs: true,
      // A middle click would otherwise fire `auxclick` and could open a link past our handlers.
      disableBlinkFeatures: 'Auxclick',
    },
  });
  win.once('ready-to-show', () => {
    if (options.maximized) win.maximize();
    win.show();
  });
  hardenContents(win.webContents, options);
  return win;
}

export function hardenContents(
  contents: WebContents,
  options: Pick<MainWindowOptions, 'openExternal' | 'allowNavigation'>,
): void {
  contents.setWindowOpenHandler(({ url }) => {
    const safe = safeExternalUrl(url);
    if (safe) options.openExternal(safe);
    return { action: 'deny' };
  });
  contents.on('will-navigate', (event) => {
    if (!options.allowNavigation?.(event.url)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  // Camera, microphone, geolocation, notifications from the page…: none are needed (desktop
  // notifications come from main), so none are granted.
  contents.session.setPermissionRequestHandler((_contents, _permission, callback) =>
    callback(false),
  );
  contents.session.setPermissionCheckHandler(() => false);
}
