// The Electron glue as it ships: the BUILT bundle (out/main, out/preload), not the sources.
// app-main and app-preload test the sources; a bundling mistake (a preload path that the build
// does not produce, a renderer entry under another name, a handler or a name lost in a chunk)
// shows up only here. out/main is loaded with a recording fake of 'electron' (vi.mock: the
// bundle keeps 'electron' external); the CommonJS preload is run with a `require` that hands
// it the fake. The build runs first whenever a source is newer than out/ (about 3–10 s).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runInNewContext } from 'node:vm';
import { afterAll, describe, expect, it, vi } from 'vitest';
import {
  EVENT_NAMES,
  REQUEST_NAMES,
  listenerName,
  requestChannel,
} from '../../../src-shared/ipc/contract.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const OUT = join(ROOT, 'out');
const BUILT = [
  join(OUT, 'main', 'index.js'),
  join(OUT, 'preload', 'preload.cjs'),
  join(OUT, 'renderer', 'index.html'),
];

/** The newest modification time under `path` (a file or a folder, recursively). */
function newest(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(path).reduce((max, name) => Math.max(max, newest(join(path, name))), 0);
}

function buildIfStale(): void {
  const sources = ['src-main', 'src-shared', 'src-renderer', 'electron.vite.config.ts'];
  const sourceTime = Math.max(...sources.map((source) => newest(join(ROOT, source))));
  const builtTime = BUILT.every(existsSync)
    ? Math.min(...BUILT.map((file) => statSync(file).mtimeMs))
    : 0;
  if (builtTime >= sourceTime) return;
  execFileSync(join(ROOT, 'node_modules/.bin/electron-vite'), ['build'], {
    cwd: ROOT,
    stdio: 'pipe',
    timeout: 120_000,
  });
}

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
  const windows: FakeWindow[] = [];
  const handlers = new Map<string, Listener>();
  class FakeContents extends Emitter {
    mainFrame = { url: '' };
    session = {
      setPermissionRequestHandler: () => undefined,
      setPermissionCheckHandler: () => undefined,
    };
    setWindowOpenHandler() {}
    isDestroyed() {
      return false;
    }
    send() {}
  }
  class FakeWindow extends Emitter {
    options: Record<string, unknown>;
    webContents = new FakeContents();
    loaded: string | undefined;
    constructor(options: Record<string, unknown>) {
      super();
      this.options = options;
      windows.push(this);
    }
    isDestroyed = () => false;
    isVisible = () => true;
    isMinimized = () => false;
    isFocused = () => true;
    isMaximized = () => false;
    getNormalBounds = () => ({ x: 10, y: 20, width: 900, height: 700 });
    hide = () => undefined;
    show = () => undefined;
    focus = () => undefined;
    restore = () => undefined;
    maximize = () => undefined;
    destroy = () => undefined;
    loadFile = async (path: string) => {
      this.loaded = path;
    };
    loadURL = async (url: string) => {
      this.loaded = url;
    };
  }
  const app = Object.assign(new Emitter(), {
    appPath: '',
    userData: '',
    isPackaged: true,
    requestSingleInstanceLock: () => true,
    setAsDefaultProtocolClient: () => true,
    setAppUserModelId: () => undefined,
    setBadgeCount: () => true,
    whenReady: () => Promise.resolve(),
    getPath: (name: string) => (name === 'userData' ? app.userData : tmpdir()),
    getAppPath: () => app.appPath,
    quit: () => undefined,
    exit: () => undefined,
  });
  return { windows, handlers, app, FakeWindow, Emitter };
});

vi.mock('electron', () => {
  const display = { id: 1, workArea: { x: 0, y: 0, width: 1920, height: 1080 } };
  class Tray extends fake.Emitter {
    setImage() {}
    setToolTip() {}
    setContextMenu() {}
    destroy() {}
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
      showErrorBox: () => undefined,
      showMessageBox: () => Promise.resolve({ response: 0 }),
    },
    screen: { getPrimaryDisplay: () => display, getAllDisplays: () => [display] },
    shell: { openExternal: () => Promise.resolve() },
    safeStorage: {
      isAsyncEncryptionAvailable: () => Promise.resolve(false),
      getSelectedStorageBackend: () => 'basic_text',
    },
    Tray,
    Menu: { buildFromTemplate: (template: unknown) => ({ template }) },
    nativeImage: { createFromBuffer: () => ({ addRepresentation: () => undefined }) },
    Notification,
    powerMonitor: new fake.Emitter(),
  };
});

buildIfStale();

const userData = mkdtempSync(join(tmpdir(), 'parley-bundle-'));
fake.app.appPath = ROOT;
fake.app.userData = userData;
afterAll(async () => {
  fake.app.emit('before-quit', { preventDefault: () => undefined });
  await new Promise((r) => setTimeout(r, 200)); // let the last settings write land
  rmSync(userData, { recursive: true, force: true });
});

// The bundle's entry starts the desktop app only inside Electron.
const versions = process.versions as Record<string, string | undefined>;
const hadElectron = versions['electron'];
Object.defineProperty(process.versions, 'electron', { value: '45.0.0', configurable: true });
try {
  await import(/* @vite-ignore */ join(OUT, 'main', 'index.js'));
  const started = Date.now();
  while (fake.windows[0]?.loaded === undefined) {
    if (Date.now() - started > 15_000) throw new Error('the built main never loaded a window');
    await new Promise((r) => setTimeout(r, 10));
  }
} finally {
  if (hadElectron === undefined) Reflect.deleteProperty(process.versions, 'electron');
}
const window = fake.windows[0];

/** Runs the built CommonJS preload as Electron's sandboxed loader would, with a fake 'electron'. */
function runBuiltPreload(): [string, Record<string, unknown>][] {
  const exposed: [string, Record<string, unknown>][] = [];
  const electron = {
    contextBridge: {
      exposeInMainWorld: (key: string, api: Record<string, unknown>) => exposed.push([key, api]),
    },
    ipcRenderer: {
      invoke: () => Promise.resolve({ ok: true, value: {} }),
      on: () => undefined,
      removeListener: () => undefined,
    },
  };
  const module = { exports: {} };
  const require = (name: string): unknown => {
    if (name === 'electron') return electron;
    throw new Error(`the sandboxed preload cannot require '${name}'`);
  };
  const code = readFileSync(join(OUT, 'preload', 'preload.cjs'), 'utf8');
  runInNewContext(`(function (exports, require, module) {${code}\n})`, { console })(
    module.exports,
    require,
    module,
  );
  return exposed;
}

describe('the built Electron bundle', () => {
  it('opens the window with the built preload and the built renderer entry', () => {
    expect(fake.windows).toHaveLength(1);
    const preferences = window?.options['webPreferences'] as Record<string, unknown>;
    expect(preferences).toMatchObject({ contextIsolation: true, sandbox: true });
    expect(preferences['preload']).toBe(join(OUT, 'preload', 'preload.cjs'));
    expect(existsSync(String(preferences['preload']))).toBe(true);
    expect(window?.loaded).toBe(join(OUT, 'renderer', 'index.html'));
    expect(existsSync(String(window?.loaded))).toBe(true);
  });

  it('has an ipcMain handler for every request of the contract, and no other', () => {
    expect([...fake.handlers.keys()].sort()).toEqual(REQUEST_NAMES.map(requestChannel).sort());
  });

  it('answers a request through the bundled service', async () => {
    const handler = fake.handlers.get(requestChannel('getSettings'));
    const answer = (await handler?.(
      { sender: window?.webContents, senderFrame: window?.webContents.mainFrame },
      {},
    )) as { ok: boolean };
    expect(answer.ok).toBe(true);
  });

  it('has a preload that exposes exactly the contract’s names on window.parley', () => {
    const exposed = runBuiltPreload();
    expect(exposed.map(([key]) => key)).toEqual(['parley']);
    const api = exposed[0]?.[1] ?? {};
    expect(Object.keys(api).sort()).toEqual(
      [...REQUEST_NAMES, ...EVENT_NAMES.map(listenerName)].sort(),
    );
    for (const name of Object.keys(api)) expect(typeof api[name]).toBe('function');
  });
});
