// Desktop notifications. What to show (and whether) is decided by the pure notification
// policy in the service; this shows it with Electron's Notification and, on a click, brings
// the window back and opens the room.
import { type BrowserWindow, Notification } from 'electron';
import type { ShownNotification } from '../service/notification-policy.ts';

export interface NotificationLike {
  show(): void;
  close(): void;
  on(event: 'click' | 'close', listener: () => void): unknown;
}

export interface NotifierOptions {
  readonly getWindow: () => BrowserWindow | undefined;
  /** Tells the UI which room to show (the service's `openRoom` event). */
  readonly openRoom: (room: string) => void;
  readonly create?: (options: { title: string; body: string }) => NotificationLike;
  readonly isSupported?: () => boolean;
}

export class DesktopNotifier {
  readonly #options: NotifierOptions;
  /** The notification currently shown per room: a coalesced one replaces it (and keeps it alive). */
  readonly #shown = new Map<string, NotificationLike>();

  constructor(options: NotifierOptions) {
    this.#options = options;
  }

  show(decision: ShownNotification): void {
    if (!(this.#options.isSupported ?? (() => Notification.isSupported()))()) return;
    const create =
      this.#options.create ??
      ((o: { title: string; body: string }) => new Notification({ ...o, silent: false }));
    const notification = create({ title: decision.title, body: decision.body });
    this.#shown.get(decision.room)?.close();
    this.#shown.set(decision.room, notification);
    notification.on('click', () => {
      const win = this.#options.getWindow();
      if (win && !win.isDestroyed()) bringToFront(win);
      this.#options.openRoom(decision.room);
    });
    notification.on('close', () => {
      if (this.#shown.get(decision.room) === notification) this.#shown.delete(decision.room);
    });
    notification.show();
  }

  /** The room is on screen now: its notification has nothing left to say. */
  dismiss(room: string): void {
    const shown = this.#shown.get(room);
    this.#shown.delete(room);
    shown?.close();
  }
}

/** Restore (if minimized), show (if hidden to the tray) and focus. */
export function bringToFront(win: BrowserWindow): void {
  if (win.isMinimized()) win.restore();
  win.show();
  win.focus();
}
