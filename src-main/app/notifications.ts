// Desktop notifications. What to show (and whether) is decided by the pure notification
// policy in the service; this shows it with Electron's Notification and, on a click, brings
// the window back and opens the room.
import { type BrowserWindow, Notification } from 'electron';
import type { HostNotification } from '../service/service-events.ts';

export interface NotificationLike {
  show(): void;
  close(): void;
  on(event: 'click' | 'close', listener: () => void): unknown;
}

export interface NotifierOptions {
  readonly getWindow: () => BrowserWindow | undefined;
  /** Tells the UI which room to show, on which host (the service's `openRoom` event). */
  readonly openRoom: (target: { hostId: string; room: string }) => void;
  readonly create?: (options: { title: string; body: string }) => NotificationLike;
  readonly isSupported?: () => boolean;
}

export class DesktopNotifier {
  readonly #options: NotifierOptions;
  /**
   * The notification currently shown per room (of a host: two hosts can each have a #lobby): a
   * coalesced one replaces it (and keeps it alive).
   */
  readonly #shown = new Map<string, NotificationLike>();

  constructor(options: NotifierOptions) {
    this.#options = options;
  }

  show(decision: HostNotification): void {
    if (!(this.#options.isSupported ?? (() => Notification.isSupported()))()) return;
    const create =
      this.#options.create ??
      ((o: { title: string; body: string }) => new Notification({ ...o, silent: false }));
    const notification = create({ title: decision.title, body: decision.body });
    const key = roomKey(decision.hostId, decision.room);
    this.#shown.get(key)?.close();
    this.#shown.set(key, notification);
    notification.on('click', () => {
      const win = this.#options.getWindow();
      if (win && !win.isDestroyed()) bringToFront(win);
      this.#options.openRoom({ hostId: decision.hostId, room: decision.room });
    });
    notification.on('close', () => {
      if (this.#shown.get(key) === notification) this.#shown.delete(key);
    });
    notification.show();
  }

  /** The room is on screen now: its notification has nothing left to say. */
  dismiss(hostId: string, room: string): void {
    const key = roomKey(hostId, room);
    const shown = this.#shown.get(key);
    this.#shown.delete(key);
    shown?.close();
  }
}

/** Host ids never contain a space; room names neither. */
const roomKey = (hostId: string, room: string): string => `${hostId} ${room}`;

/** Restore (if minimized), show (if hidden to the tray) and focus. */
export function bringToFront(win: BrowserWindow): void {
  if (win.isMinimized()) win.restore();
  win.show();
  win.focus();
}
