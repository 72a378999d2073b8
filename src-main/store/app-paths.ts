import { homedir } from 'node:os';
import { posix, win32 } from 'node:path';

/**
 * The per-user folder for Parley's keys, known hosts and settings, where each OS expects an
 * application's data: `$XDG_CONFIG_HOME/parley` (or `~/.config/parley`) on Linux and other
 * Unixes, `~/Library/Application Support/Parley` on macOS, `%APPDATA%\Parley` on Windows.
 * Everything is passed in so the three layouts can be tested on any machine.
 */
export function defaultDataDir(
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform = process.platform,
  home: string = homedir(),
): string {
  if (platform === 'win32') {
    const appData = env.APPDATA || win32.join(home, 'AppData', 'Roaming');
    return win32.join(appData, 'Parley');
  }
  if (platform === 'darwin') return posix.join(home, 'Library', 'Application Support', 'Parley');
  // The XDG spec says to ignore a relative value.
  const config = env.XDG_CONFIG_HOME?.startsWith('/') ? env.XDG_CONFIG_HOME : undefined;
  return posix.join(config ?? posix.join(home, '.config'), 'parley');
}
