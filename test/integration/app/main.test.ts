// The Electron main process (src-main/app/main.ts) against a faked 'electron', at the call
// level: single-instance lock, invite scheme, secure window, IPC, invites from the OS, close
// to tray, and a clean shutdown. The real service runs underneath, on a temp data folder.
import { afterAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from '../../support/lifecycle.ts';

type Listener = (...args: unknown[]) => unknown;

const fake = vi.hoisted(() => {
  class Emitter {
    listeners = new Map<string, Listener[]>();
    on(event: string, listener: Listener) {
      this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
      return this;
    }
    once(event: string, listener: Listener) {
      return this.on(event, listener);
    }
    emit(event: string, ...args: unknown[]) {
      for (const listener of this.listeners.get(event) ?? []) listener(...args);
    }
  }
  const calls: string[] = [];
  const windows: FakeWindow[] = [];
  const handlers = new Map<string, Listener>();
  class FakeContents extends Emitter {
    mainFrame = { url: 'file:///app/out/renderer/index.html' };
    sent: [string, unknown][] = [];
    session = {
      setPermissionRequestHandler: () => undefined,
      setPermissionCheckHandler: () => undefined,
    };
    setWindowOpenHandler() {}
    isDestroyed() {
      return false;
    }
    send(channel: string, payload: unknown) {
      this.sent.push([channel, payload]);
    }
  }
  class FakeWindow extends Emitter {
    options: Record<string, unknown>;
    webContents = new FakeContents();
    visible = true;
    minimized = false;
    loaded: string | undefined;
    constructor(options: Record<string, unknown>) {
      super();
      this.options = options;
      windows.push(this);
    }
    isDestroyed = () => false;
    isVisible = () => this.visible;
    isMinimized = () => this.minimized;
    isFocused = () => true;
    isMaximized = () => false;
    getNormalBounds = () => ({ x: 10, y: 20, width: 900, height: 700 });
    hide = () => {
      calls.push('window.hide');
      this.visible = false;
    };
    show = () => {
      calls.push('window.show');
      this.visible = true;
    };
    focus = () => calls.push('window.focus');
    restore = () => {
      calls.push('window.restore');
      this.minimized = false;
    };
    maximize = () => undefined;
    loadFile = async (path: string) => {
      this.loaded = path;
    };
    loadURL = async (url: string) => {
      this.loaded = url;
    };
  }
  const app = Object.assign(new Emitter(), {
    lock: true,
    isPackaged: true,
    userData: '',
    requestSingleInstanceLock: vi.fn(() => app.lock),
    setAsDefaultProtocolClient: vi.fn(() => true),
    setAppUserModelId: vi.fn(),
    setBadgeCount: vi.fn(() => true),
    whenReady: () => Promise.resolve(),
    getPath: (name: string) => (name === 'userData' ? app.userData : '/tmp'),
    getAppPath: () => '/app',
    quit: vi.fn(() => {
      calls.push('app.quit');
      const event = {
        defaultPrevented: false,
        preventDefault: () => (event.defaultPrevented = true),
      };
      app.emit('before-quit', event);
    }),
    exit: vi.fn(),
  });
  return { calls, windows, handlers, app, FakeWindow, Emitter };
});

vi.mock('electron', () => {
  const display = { id: 1, workArea: { x: 0, y: 0, width: 1920, height: 1080 } };
  class Tray extends fake.Emitter {
    setImage() {}
    setToolTip() {}
    setContextMenu() {}
    destroy() {
      fake.calls.push('tray.destroy');
    }
  }
  class Notification extends fake.Emitter {
    static isSupported = () => true;
    show() {}
    close() {}
  }
  return {
    app: fake.app,
    BrowserWindow: fake.FakeWindow,
    ipcMain: {
      handle: (channel: string, handler: Listener) => fake.handlers.set(channel, handler),
      removeHandler: (channel: string) => fake.handlers.delete(channel),
    },
    dialog: {
      showErrorBox: vi.fn(),
      showMessageBox: vi.fn(() => {
        fake.calls.push('dialog.showMessageBox');
        return Promise.resolve({ response: 0 });
      }),
    },
    screen: { getPrimaryDisplay: () => display, getAllDisplays: () => [display] },
    shell: { openExternal: vi.fn(() => Promise.resolve()) },
    safeStorage: {
      isAsyncEncryptionAvailable: () => Promise.resolve(false),
      getSelectedStorageBackend: () => 'basic_text',
    },
    Tray,
    Menu: { buildFromTemplate: (template: unknown) => ({ template }) },
    nativeImage: {
      createFromBuffer: () => ({ addRepresentation: () => undefined }),
    },
    Notification,
    // Waking from sleep: main retries waiting hosts (src-main/app/wake.ts).
    powerMonitor: new fake.Emitter(),
  };
});

const { eventChannel, requestChannel, REQUEST_NAMES } =
  await import('../../../src-shared/ipc/contract.ts');
const { formatInvite } = await import('../../../src-shared/invite.ts');

const userData = mkdtempSync(join(tmpdir(), 'parley-electron-'));
afterAll(async () => {
  await new Promise((r) => setTimeout(r, 100)); // let the last bounds write land
  rmSync(userData, { recursive: true, force: true });
});
fake.app.userData = userData;

const invite = formatInvite({
  host: '127.0.0.1',
  port: 7878,
  room: 'lobby',
  hostKey: new Uint8Array(32).fill(7),
});
const request = (name: string, input: unknown) =>
  fake.handlers.get(requestChannel(name as never))!(
    { sender: win().webContents, senderFrame: win().webContents.mainFrame },
    input,
  );
const win = () => fake.windows[0]!;
const sentOn = (name: string) =>
  win()
    .webContents.sent.filter(([channel]) => channel === eventChannel(name as never))
    .map(([, p]) => p);

// The first launch carries an invite (the OS started the app from a clicked link).
process.argv.push(invite);
await import('../../../src-main/app/main.ts');
await until(() => fake.windows[0]?.loaded !== undefined, 'the window to load');
process.argv.pop();

describe('the Electron main process', () => {
  it('takes the single-instance lock and registers the parley:// scheme', () => {
    expect(fake.app.requestSingleInstanceLock).toHaveBeenCalledOnce();
    expect(fake.app.setAsDefaultProtocolClient).toHaveBeenCalledWith(
      'parley',
      ...(process.defaultApp ? [expect.anything(), expect.anything()] : []),
    );
    // Only on Windows: the AppUserModelID that notifications are attributed to.
    expect(fake.app.setAppUserModelId).toHaveBeenCalledTimes(process.platform === 'win32' ? 1 : 0);
  });

  it('opens one secure window with the preload and the built renderer', () => {
    expect(fake.windows).toHaveLength(1);
    expect(win().options['webPreferences']).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      preload: join('/app', 'out', 'preload', 'preload.cjs'),
    });
    expect(win().loaded).toBe(join('/app', 'out', 'renderer', 'index.html'));
  });

  it('answers every request of the contract over IPC, validated', async () => {
    expect([...fake.handlers.keys()].sort()).toEqual(REQUEST_NAMES.map(requestChannel).sort());
    const snapshot = (await request('getSnapshot', {})) as {
      ok: boolean;
      value: { keyStorageWarning?: string };
    };
    expect(snapshot.ok).toBe(true);
    // This fake keychain is 'basic_text': no real protection, so the app says so.
    expect(snapshot.value.keyStorageWarning).toMatch(/unencrypted/);
    expect(await request('send', { room: 'lobby' })).toMatchObject({
      ok: false,
      error: { code: 'invalid-request' },
    });
  });

  it('hands the launch invite to the renderer once the page has loaded', () => {
    expect(sentOn('openInvite')).toEqual([]);
    win().webContents.emit('did-finish-load');
    expect(sentOn('openInvite')).toEqual([{ invite }]);
  });

  it('on a second launch with an invite: focuses the window and emits openInvite', () => {
    win().minimized = true;
    fake.calls.length = 0;
    const other = invite.replace('lobby', 'dev');
    fake.app.emit('second-instance', {}, ['/opt/Parley/parley', '--no-sandbox', other], '/home');
    expect(fake.calls).toEqual(['window.restore', 'window.show', 'window.focus']);
    expect(sentOn('openInvite').at(-1)).toEqual({ invite: other });
  });

  it('ignores a second launch with a malformed invite, but still focuses', () => {
    const before = sentOn('openInvite').length;
    fake.calls.length = 0;
    fake.app.emit('second-instance', {}, ['/opt/Parley/parley', 'parley://not-an-invite'], '/home');
    expect(fake.calls).toContain('window.focus');
    expect(sentOn('openInvite')).toHaveLength(before);
  });

  it('accepts invites from macOS open-url', () => {
    let prevented = false;
    fake.app.emit('open-url', { preventDefault: () => (prevented = true) }, invite);
    expect(prevented).toBe(true);
    expect(sentOn('openInvite').at(-1)).toEqual({ invite });
  });

  it('closes normally by default, and hides to the tray once that is the setting, explaining it once', async () => {
    const close = () => {
      let prevented = false;
      win().emit('close', { preventDefault: () => (prevented = true) });
      return prevented;
    };
    expect(close()).toBe(false);
    expect(await request('updateSettings', { closeToTray: true })).toMatchObject({ ok: true });
    fake.calls.length = 0;
    expect(close()).toBe(true);
    expect(close()).toBe(true);
    expect(fake.calls.filter((c) => c === 'window.hide')).toHaveLength(2);
    expect(fake.calls.filter((c) => c === 'dialog.showMessageBox')).toHaveLength(1);
  });

  it('forwards service events to the window (settings changes, for one)', () => {
    expect(sentOn('settings').at(-1)).toMatchObject({ closeToTray: true });
  });

  it('shuts the service down before quitting, then really quits', async () => {
    fake.calls.length = 0;
    fake.app.quit();
    await until(() => fake.calls.filter((c) => c === 'app.quit').length === 2, 'the second quit');
    expect(fake.calls).toContain('tray.destroy');
    // Quitting: closing the window is no longer turned into hiding it.
    let prevented = false;
    win().emit('close', { preventDefault: () => (prevented = true) });
    expect(prevented).toBe(false);
    // The service is closed: requests are refused, not crashed.
    expect(await request('send', { room: 'lobby', text: 'late' })).toMatchObject({ ok: false });
  });
});
