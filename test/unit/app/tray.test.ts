// The tray glue against a faked 'electron' (the real one throws under plain Node).
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { MenuItemConstructorOptions } from 'electron';

const fake = vi.hoisted(() => {
  const trays: FakeTray[] = [];
  class FakeTray {
    image: unknown;
    images: unknown[] = [];
    toolTips: string[] = [];
    menus: unknown[] = [];
    listeners = new Map<string, () => void>();
    destroyed = false;
    constructor(image: unknown) {
      this.image = image;
      trays.push(this);
    }
    setImage(image: unknown) {
      this.image = image;
      this.images.push(image);
    }
    setToolTip(text: string) {
      this.toolTips.push(text);
    }
    setContextMenu(menu: unknown) {
      this.menus.push(menu);
    }
    on(event: string, listener: () => void) {
      this.listeners.set(event, listener);
      return this;
    }
    destroy() {
      this.destroyed = true;
    }
  }
  return {
    trays,
    FakeTray,
    setBadgeCount: vi.fn((_count: number) => true),
    createFromBuffer: vi.fn((buffer: Buffer) => ({
      buffer,
      reps: [] as unknown[],
      addRepresentation(r: unknown) {
        this.reps.push(r);
      },
    })),
    buildFromTemplate: vi.fn((template: MenuItemConstructorOptions[]) => ({ template })),
  };
});

vi.mock('electron', () => ({
  Tray: fake.FakeTray,
  Menu: { buildFromTemplate: fake.buildFromTemplate },
  nativeImage: { createFromBuffer: fake.createFromBuffer },
  app: { setBadgeCount: fake.setBadgeCount },
}));

const { TrayService, electronTrayDeps, trayIcon } = await import('../../../src-main/app/tray.ts');

type FakeTray = InstanceType<typeof fake.FakeTray>;

function actions(visible = true) {
  return {
    isWindowVisible: vi.fn(() => visible),
    toggleWindow: vi.fn(),
    setMuted: vi.fn(),
    quit: vi.fn(),
  };
}

function lastMenu(tray: FakeTray): MenuItemConstructorOptions[] {
  return (tray.menus.at(-1) as { template: MenuItemConstructorOptions[] }).template;
}

beforeEach(() => {
  fake.trays.length = 0;
  vi.clearAllMocks();
});

describe('TrayService with Electron', () => {
  it('changes the icon once per changed count, ignoring repeated identical counts', () => {
    const tray = new TrayService(electronTrayDeps(), actions());
    expect(tray.start({ unread: 0, muted: false })).toBe(true);
    const icon = fake.trays[0]!;
    expect(fake.createFromBuffer).toHaveBeenCalledTimes(1);

    for (const count of [1, 1, 1, 2, 2, 0, 0]) tray.setUnread(count);
    // 0 → 1 → 2 → 0: three changes, three new images; the repeats did nothing.
    expect(icon.images).toHaveLength(3);
    expect(icon.toolTips).toEqual([
      'Parley — no unread messages',
      'Parley — 1 unread message',
      'Parley — 2 unread messages',
      'Parley — no unread messages',
    ]);
    expect(fake.setBadgeCount.mock.calls.map(([n]) => n)).toEqual([0, 1, 2, 0]);
  });

  it('redraws the image only when the badge changes ("9+" for 12 and 13), the tooltip every time', () => {
    const tray = new TrayService(electronTrayDeps(), actions());
    tray.start({ unread: 0, muted: false });
    const icon = fake.trays[0]!;
    for (const count of [9, 12, 13, 13]) tray.setUnread(count);
    expect(icon.images).toHaveLength(2); // "9", then "9+"
    expect(icon.toolTips.slice(1)).toEqual([
      'Parley — 9 unread messages',
      'Parley — 12 unread messages',
      'Parley — 13 unread messages',
    ]);
    expect(fake.setBadgeCount.mock.calls.map(([n]) => n)).toEqual([0, 9, 12, 13]);
  });

  it('shows an unread mention apart: a new badge image and the tooltip says it', () => {
    const tray = new TrayService(electronTrayDeps(), actions());
    tray.start({ unread: 0, muted: false });
    const icon = fake.trays[0]!;
    tray.setUnread(3, 0);
    tray.setUnread(3, 1);
    tray.setUnread(3, 1);
    tray.setUnread(2, 0);
    // "3", "3" as a mention badge, then "2": the repeat did nothing.
    expect(icon.images).toHaveLength(3);
    expect(icon.toolTips.slice(1)).toEqual([
      'Parley — 3 unread messages',
      'Parley — 3 unread messages, 1 mention',
      'Parley — 2 unread messages',
    ]);
    expect(fake.setBadgeCount.mock.calls.map(([n]) => n)).toEqual([0, 3, 2]);
  });

  it('draws each icon as a 1x and 2x PNG', () => {
    const image = trayIcon('3') as unknown as {
      buffer: Buffer;
      reps: { scaleFactor: number; buffer: Buffer }[];
    };
    expect(image.buffer.subarray(1, 4).toString('ascii')).toBe('PNG');
    expect(image.reps).toEqual([expect.objectContaining({ scaleFactor: 2 })]);
    expect(image.reps[0]!.buffer.readUInt32BE(16)).toBe(64);
  });

  it('has a menu with Show/Hide, Mute (checkbox) and Quit, wired to the actions', () => {
    const act = actions(false);
    const tray = new TrayService(electronTrayDeps(), act);
    tray.start({ unread: 0, muted: true });
    const menu = lastMenu(fake.trays[0]!);
    expect(menu.map((item) => item.label ?? item.type)).toEqual([
      'Show Parley',
      'Mute notifications',
      'separator',
      'Quit Parley',
    ]);
    const [toggle, mute, , quit] = menu;
    expect(mute).toMatchObject({ type: 'checkbox', checked: true });
    toggle!.click!({} as never, undefined, {} as never);
    mute!.click!({ checked: false } as never, undefined, {} as never);
    quit!.click!({} as never, undefined, {} as never);
    expect(act.toggleWindow).toHaveBeenCalledOnce();
    expect(act.setMuted).toHaveBeenCalledWith(false);
    expect(act.quit).toHaveBeenCalledOnce();
    // Clicking the icon itself toggles the window too (where clicks arrive at all).
    fake.trays[0]!.listeners.get('click')!();
    expect(act.toggleWindow).toHaveBeenCalledTimes(2);
  });

  it('follows the window and the mute setting in its menu and tooltip', () => {
    const act = actions(true);
    const tray = new TrayService(electronTrayDeps(), act);
    tray.start({ unread: 0, muted: false });
    const icon = fake.trays[0]!;
    expect(lastMenu(icon)[0]!.label).toBe('Hide Parley');
    act.isWindowVisible.mockReturnValue(false);
    tray.refreshMenu();
    expect(lastMenu(icon)[0]!.label).toBe('Show Parley');
    tray.setMuted(true);
    expect(lastMenu(icon)[1]).toMatchObject({ checked: true });
    expect(icon.toolTips.at(-1)).toBe('Parley — no unread messages (notifications muted)');
    const menus = icon.menus.length;
    tray.setMuted(true); // no change, no rebuild
    expect(icon.menus).toHaveLength(menus);
  });

  it('destroys the tray icon on the way out', () => {
    const tray = new TrayService(electronTrayDeps(), actions());
    tray.start({ unread: 0, muted: false });
    tray.destroy();
    expect(fake.trays[0]!.destroyed).toBe(true);
    expect(tray.available).toBe(false);
  });
});

describe('TrayService where the desktop has no tray', () => {
  it.each([
    [
      'throws',
      () => {
        throw new Error('StatusNotifier not available');
      },
    ],
    ['returns null', () => null],
  ])('keeps working when the factory %s', (_how, createTray) => {
    const log = vi.fn();
    const deps = { ...electronTrayDeps(), createTray };
    const tray = new TrayService(deps, actions(), log);
    expect(tray.start({ unread: 2, muted: false })).toBe(false);
    expect(tray.available).toBe(false);
    // Everything else is a no-op for the tray, but the launcher badge still counts.
    expect(() => {
      tray.setUnread(5);
      tray.setMuted(true);
      tray.refreshMenu();
      tray.destroy();
    }).not.toThrow();
    expect(fake.setBadgeCount.mock.calls.map(([n]) => n)).toEqual([2, 5]);
  });

  it('survives a tray that fails later (the icon host went away)', () => {
    const log = vi.fn();
    const tray = new TrayService(electronTrayDeps(), actions(), log);
    tray.start({ unread: 0, muted: false });
    fake.trays[0]!.setToolTip = () => {
      throw new Error('gone');
    };
    expect(() => tray.setUnread(3)).not.toThrow();
    expect(log).toHaveBeenCalledWith(expect.stringContaining('gone'));
  });
});
