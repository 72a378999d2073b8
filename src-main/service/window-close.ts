/**
 * What closing the main window does. Close-to-tray is a setting, and it only applies when a
 * tray icon exists: hiding the window where there is no tray (GNOME without AppIndicator)
 * would leave the user with an invisible app. The first time it happens the app explains it.
 * On macOS closing a window never quits an app; it stays in the Dock, whose icon shows the
 * window again, so there it is always hidden.
 */
export type CloseAction = 'close' | 'hide' | 'hide-and-explain';

export function closeAction(state: {
  /** The app is quitting (tray menu, Cmd+Q, the OS logging out): never stand in the way. */
  readonly quitting: boolean;
  readonly closeToTray: boolean;
  readonly trayAvailable: boolean;
  readonly explained: boolean;
  readonly platform: string;
}): CloseAction {
  if (state.quitting) return 'close';
  if (state.platform === 'darwin') return 'hide';
  if (!state.closeToTray || !state.trayAvailable) return 'close';
  return state.explained ? 'hide' : 'hide-and-explain';
}
