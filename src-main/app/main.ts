// The Electron main process: lifecycle and wiring only. Everything with logic lives in
// src-main/service (tested under plain Node); this file connects it to Electron's objects.
import { join, resolve } from 'node:path';
import { type BrowserWindow, app, dialog, screen, shell } from 'electron';
import { DesktopService, type ServiceLog } from '../service/desktop-service.ts';
import { INVITE_SCHEME, findInviteArg } from '../service/invite-args.ts';
import { ShellStateStore } from '../service/shell-state.ts';
import { closeAction } from '../service/window-close.ts';
import { restoreBounds } from '../service/window-bounds.ts';
import { isFromMainFrame, forwardEvents, registerIpcHandlers } from './ipc.ts';
import { DesktopNotifier, bringToFront } from './notifications.ts';
import { electronSavePath } from './save-dialog.ts';
import { electronSecretStorage } from './secret-storage.ts';
import { TrayService, electronTrayDeps } from './tray.ts';
import { retryOnWake } from './wake.ts';
import { createMainWindow } from './window.ts';

const APP_USER_MODEL_ID = 'org.parley.desktop'; // = appId in electron-builder.yml
const SHUTDOWN_TIMEOUT_MS = 3000;

// Resolved from the app root (the project folder in dev, app.asar when packaged), not from
// this module: the bundler turns this file into a hashed chunk beside out/main/index.js.
const outPath = (...parts: string[]): string => join(app.getAppPath(), 'out', ...parts);

const log: ServiceLog = (level, event, fields = {}) => {
  // Events and codes only: never message text or keys (see CONTRIBUTING.md).
  const line = `[parley] ${level} ${event} ${JSON.stringify(fields)}`;
  if (level === 'error' || level === 'warn') console.error(line);
  else if (!app.isPackaged) console.log(line);
};

function registerInviteScheme(): void {
  // In development Electron runs as `electron path/to/app`: the handler must say so.
  if (process.defaultApp && process.argv[1]) {
    app.setAsDefaultProtocolClient(INVITE_SCHEME, process.execPath, [resolve(process.argv[1])]);
  } else {
    app.setAsDefaultProtocolClient(INVITE_SCHEME);
  }
}

async function run(): Promise<void> {
  if (process.platform === 'win32') app.setAppUserModelId(APP_USER_MODEL_ID);
  registerInviteScheme();

  let service: DesktopService | undefined;
  const windowRef: { current?: BrowserWindow } = {};
  let rendererReady = false;
  let quitting = false;
  let shutDown = false;
  const pendingInvites: string[] = [];

  const showWindow = (): void => {
    const win = windowRef.current;
    if (win && !win.isDestroyed()) bringToFront(win);
  };
  // An invite is handed to the UI (which asks before connecting) once it can listen.
  const deliverInvite = (invite: string): void => {
    if (service && rendererReady) service.openInvite(invite);
    else pendingInvites.push(invite);
  };

  // Registered before `ready`: macOS delivers a launch's URL early.
  app.on('open-url', (event, url) => {
    event.preventDefault();
    deliverInvite(url);
    showWindow();
  });
  // A second launch (a clicked invite on Linux/Windows, or the launcher icon): focus this one.
  app.on('second-instance', (_event, argv) => {
    showWindow();
    const invite = findInviteArg(argv);
    if (invite) deliverInvite(invite);
  });
  const launchInvite = findInviteArg(process.argv);
  if (launchInvite) pendingInvites.push(launchInvite);

  await app.whenReady();
  const dataDir = join(app.getPath('userData'), 'desktop');
  try {
    service = await DesktopService.open({
      dataDir,
      secretStorage: electronSecretStorage(),
      platform: process.platform,
      openExternal: (url) => shell.openExternal(url),
      chooseSavePath: electronSavePath(() => windowRef.current),
      log,
    });
  } catch (error) {
    dialog.showErrorBox(
      'Parley cannot start',
      error instanceof Error ? error.message : String(error),
    );
    app.exit(1);
    return;
  }
  const svc = service;
  const shellState = await ShellStateStore.open(dataDir);

  registerIpcHandlers(svc, {
    isTrustedSender: (event) => isFromMainFrame(event, windowRef.current?.webContents),
    log: (level, event, fields) => log(level, event, fields),
  });

  const saved = shellState.current;
  // The primary display first: a window with no usable saved position is centred there.
  const primary = screen.getPrimaryDisplay();
  const displays = [primary, ...screen.getAllDisplays().filter((d) => d.id !== primary.id)];
  const workAreas = displays.map((d) => d.workArea);
  const devUrl = process.env['ELECTRON_RENDERER_URL'];
  const mainWindow = createMainWindow({
    preload: outPath('preload', 'preload.cjs'),
    bounds: restoreBounds(saved.bounds, workAreas),
    maximized: saved.maximized,
    openExternal: (url) => void shell.openExternal(url),
    allowNavigation: (url) => !app.isPackaged && devUrl !== undefined && url.startsWith(devUrl),
  });
  windowRef.current = mainWindow;
  forwardEvents(
    (name, listener) => svc.on(name, listener),
    () => (mainWindow.isDestroyed() ? undefined : mainWindow.webContents),
  );

  // The hosts that were in the sidebar at the last quit come back, once the page can show them.
  let restored = false;
  mainWindow.webContents.on('did-finish-load', () => {
    rendererReady = true;
    for (const invite of pendingInvites.splice(0)) svc.openInvite(invite);
    if (!restored) {
      restored = true;
      void svc
        .restoreHosts()
        .catch((error: unknown) => log('warn', 'restore-hosts-failed', { error: String(error) }));
    }
  });
  mainWindow.webContents.on('did-start-loading', () => {
    rendererReady = false;
  });

  // Tray and badge.
  const tray = new TrayService(
    electronTrayDeps(),
    {
      isWindowVisible: () => mainWindow.isVisible() && !mainWindow.isMinimized(),
      toggleWindow: () => {
        if (mainWindow.isVisible() && mainWindow.isFocused()) mainWindow.hide();
        else bringToFront(mainWindow);
      },
      setMuted: (muted) => void svc.updateSettings({ muted }),
      quit: () => app.quit(),
    },
    (message) => log('warn', 'tray', { message }),
  );
  tray.start({
    unread: svc.unreadTotal,
    mentions: svc.unreadMentions,
    muted: svc.getSettings({}).muted,
  });
  // The tray and the dock count every host's unread messages (muted rooms left out).
  // Mentions among them are shown apart (the badge's colour, the tooltip).
  svc.on('unread', ({ allHosts, allHostsMentions }) =>
    tray.setUnread(allHosts, allHostsMentions ?? 0),
  );
  svc.on('settings', (settings) => tray.setMuted(settings.muted));
  // The menu's Show/Hide label follows the window.
  const refreshMenu = (): void => tray.refreshMenu();
  mainWindow.on('show', refreshMenu);
  mainWindow.on('hide', refreshMenu);
  mainWindow.on('minimize', refreshMenu);
  mainWindow.on('restore', refreshMenu);

  // Notifications.
  const notifier = new DesktopNotifier({
    getWindow: () => mainWindow,
    openRoom: (target) => svc.openRoom(target),
  });
  svc.on('notify', (decision) => notifier.show(decision));
  svc.on('openRoom', ({ hostId, room }) => notifier.dismiss(hostId, room));

  // Waking up or unlocking: hosts waiting to reconnect try at once.
  retryOnWake(
    () => svc.networkChanged({}),
    (error) => log('warn', 'network-changed-failed', { error: String(error) }),
  );

  // Focus drives unread counts and notifications.
  svc.setWindowFocused(false);
  mainWindow.on('focus', () => svc.setWindowFocused(true));
  mainWindow.on('blur', () => svc.setWindowFocused(false));
  mainWindow.on('hide', () => svc.setWindowFocused(false));

  // Bounds, remembered across launches.
  let boundsTimer: NodeJS.Timeout | undefined;
  const saveBounds = (): void => {
    clearTimeout(boundsTimer);
    if (mainWindow.isDestroyed()) return;
    void shellState
      .update({ bounds: mainWindow.getNormalBounds(), maximized: mainWindow.isMaximized() })
      .catch((error: unknown) =>
        log('error', 'shell-state-write-failed', { error: String(error) }),
      );
  };
  const saveBoundsSoon = (): void => {
    clearTimeout(boundsTimer);
    boundsTimer = setTimeout(saveBounds, 500);
  };
  mainWindow.on('resize', saveBoundsSoon);
  mainWindow.on('move', saveBoundsSoon);

  // Close: to the tray if that is the setting and there is a tray; else really close.
  mainWindow.on('close', (event) => {
    saveBounds();
    const action = closeAction({
      quitting,
      closeToTray: svc.getSettings({}).closeToTray,
      trayAvailable: tray.available,
      explained: shellState.current.closeToTrayExplained,
      platform: process.platform,
    });
    if (action === 'close') return;
    event.preventDefault();
    mainWindow.hide();
    if (action === 'hide-and-explain') {
      void shellState.update({ closeToTrayExplained: true });
      void dialog.showMessageBox({
        type: 'info',
        title: 'Parley is still running',
        message: 'Parley keeps running in the tray',
        detail:
          'You will still get notifications. Click the tray icon (or start Parley again) to ' +
          'bring the window back, and choose "Quit Parley" in its menu to exit. You can turn ' +
          'this off in Settings.',
        buttons: ['OK'],
      });
    }
  });

  app.on('activate', showWindow); // macOS: the dock icon was clicked
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  // Say goodbye to the host and save the outbox before the process ends.
  app.on('before-quit', (event) => {
    quitting = true;
    if (shutDown) return;
    event.preventDefault();
    const timeout = new Promise((r) => setTimeout(r, SHUTDOWN_TIMEOUT_MS));
    void Promise.race([svc.close(), timeout])
      .catch((error: unknown) => log('error', 'shutdown-failed', { error: String(error) }))
      .finally(() => {
        shutDown = true;
        tray.destroy();
        app.quit();
      });
  });

  if (!app.isPackaged && devUrl) await mainWindow.loadURL(devUrl);
  else await mainWindow.loadFile(outPath('renderer', 'index.html'));
}

// One instance per user: a second launch hands its invite to this one and exits.
if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  run().catch((error: unknown) => {
    console.error('[parley] startup failed', error);
    app.exit(1);
  });
}
