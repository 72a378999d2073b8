// The e2e rig: a real host on loopback, and for each person a bridge (the real DesktopService
// with its own data folder, served over a WebSocket) and a page in Debian's Chromium showing
// the built renderer. Nothing is faked between the page and the host's socket.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Browser, type BrowserContext, type Page, chromium } from 'playwright-core';
import { inject } from 'vitest';
import { type RunningHost, startHost } from '../../src-main/server/host.ts';
import type { HostLimits } from '../../src-main/server/host-limits.ts';
import type { HostLog } from '../../src-main/server/host-log.ts';
import { type RunningBridge, startBridge } from '../../tools/web-bridge/server.ts';
import { type ServiceBackend, openServiceBackend } from '../../tools/web-bridge/service-backend.ts';

export const SCREENSHOTS = resolve(import.meta.dirname, '../../test-results/screenshots');
export const CHROMIUM = process.env['PARLEY_CHROMIUM'] ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
/** Quick reconnects, so a restarted host is found within a couple of seconds. */
const RECONNECT = { initialDelayMs: 300, maxDelayMs: 1500 };

/** Things to undo at the end of a test file, newest first. */
export class Rig {
  readonly #cleanups: (() => Promise<void> | void)[] = [];
  #browser: Promise<Browser> | undefined;

  defer(cleanup: () => Promise<void> | void): void {
    this.#cleanups.push(cleanup);
  }

  async dispose(): Promise<void> {
    for (const cleanup of this.#cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch (error) {
        console.error('e2e cleanup failed', error);
      }
    }
  }

  tempDir(prefix: string): string {
    const dir = mkdtempSync(join(tmpdir(), `parley-e2e-${prefix}-`));
    this.defer(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
  }

  /** One Chromium per test file (each person gets their own context in it). */
  browser(): Promise<Browser> {
    this.#browser ??= chromium
      .launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS })
      .then((browser) => {
        this.defer(() => browser.close());
        return browser;
      });
    return this.#browser;
  }

  /**
   * A host on 127.0.0.1; `events` records what it logs (never message text). A `dataDir` may
   * hold history seeded before the start (tools/web-bridge/seed-host.ts; raise `historyLimit`).
   * Its rooms are open (anyone who connects may join) unless `openRooms: false`: then they are
   * private, and `running.startInvites` holds the owner invites printed at a first start.
   */
  async host(
    options: {
      dataDir?: string;
      port?: number;
      rooms?: string[];
      openRooms?: boolean;
      /** Private rooms made end-to-end encrypted (MLS), as `parley --serve` makes them. */
      e2ee?: boolean;
      limits?: Partial<HostLimits>;
    } = {},
  ): Promise<TestHost> {
    const dataDir = options.dataDir ?? this.tempDir('host');
    const events: string[] = [];
    const log: HostLog = (_level, event) => void events.push(event);
    const running = await startHost({
      host: '127.0.0.1',
      port: options.port ?? 0,
      dataDir,
      rooms: options.rooms ?? ['lobby', 'random'],
      openRooms: options.openRooms ?? true,
      e2ee: options.e2ee ?? false,
      name: 'Parley e2e',
      publicHost: '127.0.0.1',
      log,
      ...(options.limits ? { limits: options.limits } : {}),
    });
    let stopped = false;
    this.defer(() => (stopped ? undefined : running.stop()));
    return {
      running,
      dataDir,
      events,
      port: running.address.port,
      async stop() {
        stopped = true;
        await running.stop('the host is restarting');
      },
    };
  }

  /** One person: their own install (data folder + service + bridge) and their own browser page. */
  async person(
    name: string,
    options: {
      colorScheme?: 'light' | 'dark';
      /** Default 'reduce': screenshots without transitions in flight. */
      reducedMotion?: 'reduce' | 'no-preference';
      /**
       * Where the install keeps its E2EE device and MLS secrets: 'file' (as the app: sealed in
       * its data folder; end-to-end encryption tests) or 'memory' (default: nothing written).
       */
      e2ee?: 'file' | 'memory';
      /** Writes files into the data folder before the install opens it (a test's own state). */
      prepare?: (dataDir: string) => void;
    } = {},
  ): Promise<Person> {
    const dataDir = this.tempDir(name);
    options.prepare?.(dataDir);
    const backend = await openServiceBackend({
      dataDir,
      sessionOptions: { reconnect: RECONNECT },
      e2ee: options.e2ee ?? 'memory',
    });
    this.defer(() => backend.close());
    // The page this run built (global-setup.ts).
    const bridge = await startBridge({
      backend,
      page: { kind: 'static', dir: inject('webBuild') },
    });
    this.defer(() => bridge.close());
    const context = await (
      await this.browser()
    ).newContext({
      viewport: { width: 1280, height: 800 },
      deviceScaleFactor: 1,
      colorScheme: options.colorScheme ?? 'light',
      reducedMotion: options.reducedMotion ?? 'reduce',
    });
    this.defer(() => context.close());
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    const problems: string[] = [];
    // CSP violations and uncaught errors surface here: the built page must run clean.
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') {
        problems.push(`${name} console.${message.type()}: ${message.text()}`);
      }
    });
    page.on('pageerror', (error) => problems.push(`${name} page error: ${error.message}`));
    await page.goto(bridge.url);
    return { name, page, context, bridge, backend, dataDir, problems };
  }
}

export interface TestHost {
  readonly running: RunningHost;
  readonly dataDir: string;
  readonly port: number;
  /** Host log events, e.g. 'client-joined'. */
  readonly events: string[];
  stop(): Promise<void>;
}

export interface Person {
  readonly name: string;
  readonly page: Page;
  readonly context: BrowserContext;
  readonly bridge: RunningBridge;
  readonly backend: ServiceBackend;
  readonly dataDir: string;
  /** Console errors and page errors seen so far. */
  readonly problems: string[];
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  // Let transitions and the focus ring settle.
  await page.waitForTimeout(150);
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), animations: 'disabled' });
}

/** The window sizes `shoot` takes, by the name that ends the file name. */
export const SHOT_SIZES = ['400x800', 'zoom200', '800x600', '1280x800'] as const;
export type ShotSize = (typeof SHOT_SIZES)[number];

/**
 * Saves test-results/screenshots/<name>-<size>.png at each of SHOT_SIZES, then gives the page
 * its viewport back. The app reacts to each size as to a resized window (an open drawer closes
 * once the window is wide): the narrow sizes are taken first, so a state set up at 400 px is
 * shot before it can go away, and shots belong at the end of a state, not mid-flow.
 *
 * `options.sizes` takes fewer. A popup menu closes when the window changes size:
 * `options.prepare` opens it again at each size before the shot.
 *
 * Returns the sizes at which the page is wider than the window (it scrolls sideways instead of
 * reflowing, WCAG 1.4.10); [] when it fits at all four.
 *
 * `zoom200` is an 800x600 window at 200 % zoom. Browser zoom doubles the size of a CSS pixel:
 * the page lays out in a 400x300 CSS viewport (media queries see 400 px) drawn with 2 device
 * pixels per CSS pixel. Chromium's device metrics override does exactly that; Playwright
 * cannot change a page's scale factor, and its own screenshot would put its viewport back, so
 * that one is set and captured over CDP. (CSS `zoom: 2` would not do: media queries would
 * still see 800 px.)
 */
export async function shoot(
  page: Page,
  name: string,
  options: {
    sizes?: readonly ShotSize[];
    /** Runs at each size once the window has it, before the shot (re-open a popup). */
    prepare?: () => Promise<void>;
  } = {},
): Promise<ShotSize[]> {
  const { sizes = SHOT_SIZES, prepare } = options;
  mkdirSync(SCREENSHOTS, { recursive: true });
  const overflowing: ShotSize[] = [];
  const original = page.viewportSize() ?? { width: 1280, height: 800 };
  const path = (size: ShotSize): string => join(SCREENSHOTS, `${name}-${size}.png`);
  try {
    for (const size of sizes) {
      let sideways: boolean;
      if (size === 'zoom200') {
        sideways = await shootZoomed(page, path(size), prepare);
      } else {
        const [width = 0, height = 0] = size.split('x').map(Number);
        await page.setViewportSize({ width, height });
        await settle(page);
        if (prepare) {
          await prepare();
          await settle(page);
        }
        await page.screenshot({ path: path(size), animations: 'disabled' });
        sideways = await scrollsSideways(page);
      }
      if (sideways) overflowing.push(size);
    }
  } finally {
    // Playwright puts its own emulation back (the context's viewport and scale factor).
    await page.setViewportSize(original);
    await settle(page);
  }
  return overflowing;
}

/**
 * An 800x600 window at 200 % zoom (see `shoot`), captured over CDP into `path`; whether the
 * page scrolls sideways at that zoom.
 */
async function shootZoomed(
  page: Page,
  path: string,
  prepare: (() => Promise<void>) | undefined,
): Promise<boolean> {
  const cdp = await page.context().newCDPSession(page);
  try {
    await cdp.send('Emulation.setDeviceMetricsOverride', {
      width: 400,
      height: 300,
      deviceScaleFactor: 2,
      mobile: false,
    });
    await settle(page);
    if (prepare) {
      await prepare();
      await settle(page);
    }
    // Playwright's own screenshot has a timeout; this raw CDP call gets one too.
    const { data } = await Promise.race([
      cdp.send('Page.captureScreenshot', { format: 'png' }),
      new Promise<never>((_, reject) =>
        setTimeout(
          () => reject(new Error(`no zoomed screenshot of ${path} in 15 s`)),
          15_000,
        ).unref(),
      ),
    ]);
    writeFileSync(path, Buffer.from(data, 'base64'));
    return await scrollsSideways(page);
  } finally {
    await cdp.send('Emulation.clearDeviceMetricsOverride');
    await cdp.detach();
  }
}

/** The page is wider than the window: it scrolls sideways instead of reflowing. */
async function scrollsSideways(page: Page): Promise<boolean> {
  return (await page.evaluate(
    'document.documentElement.scrollWidth > document.documentElement.clientWidth',
  )) as boolean;
}

/** Two frames for layout after a resize, the bundled fonts (emoji) loaded, the focus ring drawn. */
export async function settle(page: Page): Promise<void> {
  // A string: this file is type-checked for Node, without the DOM's names.
  // At most a second: a page that draws no frame (hidden, stalled) must not hang the test here.
  await page.evaluate(`Promise.race([
    document.fonts.ready.then(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))),
    new Promise((done) => setTimeout(done, 1000)),
  ])`);
  await page.waitForTimeout(100);
}

/** Fills the connect form with an invite and a nickname, and connects. */
export async function connectWithInvite(
  person: Person,
  invite: string,
  nick: string,
): Promise<void> {
  const { page } = person;
  await page.getByRole('textbox', { name: 'Invite link' }).fill(invite);
  await page.getByLabel('Your nickname').fill(nick);
  await page.getByRole('button', { name: 'Connect', exact: true }).click();
  await page.getByRole('region', { name: /^Messages in #/ }).waitFor();
}

/**
 * Each person connects to the host's #lobby with one invite, as nick = their name, in turn:
 * the later ones' joins then come after the earlier ones are in.
 */
export async function connectAll(host: TestHost, people: readonly Person[]): Promise<void> {
  const invite = host.running.invite('lobby');
  for (const person of people) await connectWithInvite(person, invite, person.name);
}

/** The composer of the room on screen. */
export async function send(person: Person, text: string): Promise<void> {
  const box = person.page.getByRole('textbox', { name: /^Message / });
  await box.fill(text);
  await box.press('Enter');
}

/** A message row by its text, in the timeline on screen. */
export function messageRow(person: Person, text: string) {
  return person.page.locator('article.message', { hasText: text });
}
