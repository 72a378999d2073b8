// The tray icon with the unread count, and the launcher badge. The tray is optional: on GNOME
// without the AppIndicator extension there is none, so the factory may throw or give null and
// the app stays fully usable (the window, notifications and the badge work without it). The
// menu always offers Show/Hide, Mute and Quit, because on Linux clicks on the icon itself may
// never arrive.
import {
  type Menu,
  type MenuItemConstructorOptions,
  type NativeImage,
  Menu as ElectronMenu,
  Tray,
  app,
  nativeImage,
} from 'electron';
import { trayIconPng } from '../service/tray-icon.ts';
import { type BadgeVariant, badgeLook, trayTooltip } from '../service/unread-badge.ts';

/** The part of Electron's Tray we use, so a test or another platform layer can stand in. */
export interface TrayLike {
  setImage(image: NativeImage): void;
  setToolTip(toolTip: string): void;
  setContextMenu(menu: Menu | null): void;
  on(event: 'click', listener: () => void): unknown;
  destroy(): void;
}

export interface TrayDeps {
  /** Creates the tray; may throw or return null where the desktop has none. */
  createTray(icon: NativeImage): TrayLike | null;
  /** `mention`: the badge marks that something unread names us. */
  createIcon(variant: BadgeVariant, mention?: boolean): NativeImage;
  buildMenu(template: MenuItemConstructorOptions[]): Menu;
  /** The launcher/dock badge (Unity launcher API on Linux, the dock on macOS). */
  setBadgeCount(count: number): void;
}

export interface TrayActions {
  isWindowVisible(): boolean;
  toggleWindow(): void;
  setMuted(muted: boolean): void;
  quit(): void;
}

export class TrayService {
  readonly #deps: TrayDeps;
  readonly #actions: TrayActions;
  readonly #log: (message: string) => void;
  #tray: TrayLike | null = null;
  #count = 0;
  #mentions = 0;
  #variant: BadgeVariant = 'none';
  #mention = false;
  #muted = false;

  constructor(
    deps: TrayDeps,
    actions: TrayActions,
    log: (message: string) => void = () => undefined,
  ) {
    this.#deps = deps;
    this.#actions = actions;
    this.#log = log;
  }

  /** Creates the tray icon. Returns whether there is one; without one the app works on. */
  start(initial: { unread: number; muted: boolean; mentions?: number }): boolean {
    this.#count = Math.max(0, initial.unread);
    this.#mentions = Math.max(0, initial.mentions ?? 0);
    const look = badgeLook(this.#count, this.#mentions);
    this.#variant = look.variant;
    this.#mention = look.mention;
    this.#muted = initial.muted;
    try {
      this.#tray = this.#deps.createTray(this.#deps.createIcon(this.#variant, this.#mention));
    } catch (error) {
      this.#log(
        `no tray on this desktop: ${error instanceof Error ? error.message : String(error)}`,
      );
      this.#tray = null;
    }
    if (this.#tray) {
      this.#tray.setToolTip(trayTooltip(this.#count, this.#muted, this.#mentions));
      this.#tray.on('click', () => this.#actions.toggleWindow());
      this.refreshMenu();
    }
    this.#setBadge();
    return this.#tray !== null;
  }

  get available(): boolean {
    return this.#tray !== null;
  }

  /**
   * The unread total changed, or the unread mentions among it (or both were reported again:
   * then nothing is redrawn). A mention shows as the mention badge and in the tooltip.
   */
  setUnread(total: number, mentions = 0): void {
    const count = Math.max(0, Math.floor(total));
    const named = Math.max(0, Math.floor(mentions));
    if (count === this.#count && named === this.#mentions) return;
    const countChanged = count !== this.#count;
    this.#count = count;
    this.#mentions = named;
    const { variant, mention } = badgeLook(count, named);
    if (this.#tray) {
      // Twelve and thirteen look the same ("9+"): only the tooltip changes then.
      if (variant !== this.#variant || mention !== this.#mention)
        this.#safely(() => this.#tray?.setImage(this.#deps.createIcon(variant, mention)));
      this.#safely(() => this.#tray?.setToolTip(trayTooltip(count, this.#muted, named)));
    }
    this.#variant = variant;
    this.#mention = mention;
    if (countChanged) this.#setBadge();
  }

  setMuted(muted: boolean): void {
    if (muted === this.#muted) return;
    this.#muted = muted;
    this.#safely(() => this.#tray?.setToolTip(trayTooltip(this.#count, muted, this.#mentions)));
    this.refreshMenu();
  }

  /** Rebuilds the menu (labels follow the window's visibility and the mute state). */
  refreshMenu(): void {
    const tray = this.#tray;
    if (!tray) return;
    const visible = this.#actions.isWindowVisible();
    const menu = this.#deps.buildMenu([
      {
        id: 'toggle',
        label: visible ? 'Hide Parley' : 'Show Parley',
        click: () => this.#actions.toggleWindow(),
      },
      {
        id: 'mute',
        label: 'Mute notifications',
        type: 'checkbox',
        checked: this.#muted,
        click: (item) => this.#actions.setMuted(item.checked),
      },
      { type: 'separator' },
      { id: 'quit', label: 'Quit Parley', click: () => this.#actions.quit() },
    ]);
    this.#safely(() => tray.setContextMenu(menu));
  }

  destroy(): void {
    const tray = this.#tray;
    this.#tray = null;
    if (tray) this.#safely(() => tray.destroy());
  }

  #setBadge(): void {
    this.#safely(() => this.#deps.setBadgeCount(this.#count));
  }

  /** A tray call failing (the icon host went away) must not take the app down. */
  #safely(call: () => void): void {
    try {
      call();
    } catch (error) {
      this.#log(`tray update failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

/** Tray icons drawn in code (src-main/service/tray-icon.ts): 1× and 2× representations. */
export function trayIcon(variant: BadgeVariant, mention = false): NativeImage {
  const image = nativeImage.createFromBuffer(trayIconPng(variant, 32, mention), {
    scaleFactor: 1,
  });
  image.addRepresentation({ scaleFactor: 2, buffer: trayIconPng(variant, 64, mention) });
  return image;
}

export function electronTrayDeps(): TrayDeps {
  return {
    createTray: (icon) => new Tray(icon),
    createIcon: trayIcon,
    buildMenu: (template) => ElectronMenu.buildFromTemplate(template),
    setBadgeCount: (count) => {
      app.setBadgeCount(count);
    },
  };
}
