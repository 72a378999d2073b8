// Notifications glue against a faked 'electron': shown as the policy decides, and a click
// brings the window back and tells the renderer which room to open.
import { beforeEach, describe, expect, it, vi } from 'vitest';

const fake = vi.hoisted(() => {
  const shown: FakeNotification[] = [];
  class FakeNotification {
    static isSupported = vi.fn(() => true);
    options: { title: string; body: string };
    listeners = new Map<string, () => void>();
    closed = false;
    constructor(options: { title: string; body: string }) {
      this.options = options;
    }
    on(event: string, listener: () => void) {
      this.listeners.set(event, listener);
      return this;
    }
    show() {
      shown.push(this);
    }
    close() {
      this.closed = true;
      this.listeners.get('close')?.();
    }
  }
  return { shown, FakeNotification };
});

vi.mock('electron', () => ({ Notification: fake.FakeNotification, ipcMain: {} }));

const { DesktopNotifier, bringToFront } = await import('../../../src-main/app/notifications.ts');
const { decideNotification } = await import('../../../src-main/service/notification-policy.ts');
const { forwardEvents } = await import('../../../src-main/app/ipc.ts');
const { eventChannel } = await import('../../../src-shared/ipc/contract.ts');

function fakeWindow(state: { minimized?: boolean } = {}) {
  const calls: string[] = [];
  const sent: [string, unknown][] = [];
  const win = {
    isDestroyed: () => false,
    isMinimized: () => state.minimized ?? false,
    restore: vi.fn(() => calls.push('restore')),
    show: vi.fn(() => calls.push('show')),
    focus: vi.fn(() => calls.push('focus')),
    webContents: {
      isDestroyed: () => false,
      send: vi.fn((channel: string, payload: unknown) => sent.push([channel, payload])),
    },
  };
  return { win, calls, sent };
}

/** Two hosts (`host:port`, as main keys them). */
const A = 'a.example:7878';
const B = 'b.example:7878';
const message = { room: 'lobby', from: 'alice', text: 'hi', own: false, history: false };
const context = {
  windowFocused: false,
  roomVisible: false,
  muted: false,
  privacy: 'sender' as const,
  recent: [],
  now: 0,
  platform: 'linux',
};

beforeEach(() => {
  fake.shown.length = 0;
  fake.FakeNotification.isSupported.mockReturnValue(true);
});

describe('DesktopNotifier', () => {
  it('shows a notification when the policy says so, and none when it does not', () => {
    const { win } = fakeWindow();
    const notifier = new DesktopNotifier({ getWindow: () => win as never, openRoom: vi.fn() });
    const show = (decision: ReturnType<typeof decideNotification>) => {
      if (decision.show) notifier.show({ ...decision, hostId: A });
    };
    show(decideNotification({ ...context, message }));
    show(decideNotification({ ...context, message: { ...message, own: true } }));
    show(decideNotification({ ...context, muted: true, message }));
    show(decideNotification({ ...context, windowFocused: true, roomVisible: true, message }));
    expect(fake.shown.map((n) => n.options)).toEqual([
      { title: 'alice in #lobby', body: 'New message', silent: false },
    ]);
  });

  it('on a click restores, shows and focuses the window, then opens the room', () => {
    const { win, calls, sent } = fakeWindow({ minimized: true });
    // The real wiring: openRoom goes through the service's event to the renderer.
    const listeners = new Map<string, (payload: unknown) => void>();
    const subscribe = (name: string, listener: (payload: unknown) => void) => {
      listeners.set(name, listener);
      return () => listeners.delete(name);
    };
    forwardEvents(subscribe as never, () => win.webContents as never);
    const notifier = new DesktopNotifier({
      getWindow: () => win as never,
      openRoom: (target) => listeners.get('openRoom')!(target),
    });
    const decision = decideNotification({ ...context, message: { ...message, room: 'dev' } });
    if (!decision.show) throw new Error('expected a notification');
    notifier.show({ ...decision, hostId: B });
    expect(calls).toEqual([]);

    fake.shown[0]!.listeners.get('click')!();
    expect(calls).toEqual(['restore', 'show', 'focus']);
    // The room on the host the message came from.
    expect(sent).toEqual([[eventChannel('openRoom'), { hostId: B, room: 'dev' }]]);
  });

  it('does not restore a window that is not minimized, but still shows and focuses it', () => {
    const { win, calls } = fakeWindow({ minimized: false });
    bringToFront(win as never);
    expect(calls).toEqual(['show', 'focus']);
  });

  it('replaces the notification of a room by its coalesced successor, on that host only', () => {
    const { win } = fakeWindow();
    const notifier = new DesktopNotifier({ getWindow: () => win as never, openRoom: vi.fn() });
    const lobby = { show: true, body: 'x', room: 'lobby' } as const;
    notifier.show({ ...lobby, hostId: A, title: 'a in #lobby', coalesced: 1 });
    // Another host's #lobby is another room: its notification stands beside the first.
    notifier.show({ ...lobby, hostId: B, title: 'z in #lobby', coalesced: 1 });
    notifier.show({
      ...lobby,
      hostId: A,
      title: '#lobby',
      body: '2 new messages from a, b',
      coalesced: 2,
    });
    notifier.show({
      show: true,
      hostId: A,
      title: 'c in #dev',
      body: 'y',
      room: 'dev',
      coalesced: 1,
    });
    expect(fake.shown.map((n) => n.closed)).toEqual([true, false, false, false]);
    notifier.dismiss(B, 'dev');
    expect(fake.shown[3]!.closed).toBe(false);
    notifier.dismiss(A, 'dev');
    expect(fake.shown[3]!.closed).toBe(true);
  });

  it('shows nothing where notifications are not supported', () => {
    fake.FakeNotification.isSupported.mockReturnValue(false);
    const notifier = new DesktopNotifier({ getWindow: () => undefined, openRoom: vi.fn() });
    notifier.show({ show: true, hostId: A, title: 't', body: 'b', room: 'lobby', coalesced: 1 });
    expect(fake.shown).toEqual([]);
  });

  it('still opens the room when the window is gone', () => {
    const openRoom = vi.fn();
    const notifier = new DesktopNotifier({ getWindow: () => undefined, openRoom });
    notifier.show({ show: true, hostId: A, title: 't', body: 'b', room: 'lobby', coalesced: 1 });
    fake.shown[0]!.listeners.get('click')!();
    expect(openRoom).toHaveBeenCalledWith({ hostId: A, room: 'lobby' });
  });
});
