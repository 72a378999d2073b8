import { describe, expect, it } from 'vitest';
import { defaultDataDir } from '../../../src-main/store/app-paths.ts';

describe('the app data folder', () => {
  it('follows XDG on Linux, with ~/.config as the fallback', () => {
    expect(defaultDataDir({ XDG_CONFIG_HOME: '/xdg' }, 'linux', '/home/a')).toBe('/xdg/parley');
    expect(defaultDataDir({}, 'linux', '/home/a')).toBe('/home/a/.config/parley');
    expect(defaultDataDir({ XDG_CONFIG_HOME: 'relative' }, 'freebsd', '/home/a')).toBe(
      '/home/a/.config/parley',
    );
  });

  it('uses Application Support on macOS and %APPDATA% on Windows', () => {
    expect(defaultDataDir({}, 'darwin', '/Users/a')).toBe(
      '/Users/a/Library/Application Support/Parley',
    );
    expect(
      defaultDataDir({ APPDATA: 'C:\\Users\\a\\AppData\\Roaming' }, 'win32', 'C:\\Users\\a'),
    ).toBe('C:\\Users\\a\\AppData\\Roaming\\Parley');
    expect(defaultDataDir({}, 'win32', 'C:\\Users\\a')).toBe(
      'C:\\Users\\a\\AppData\\Roaming\\Parley',
    );
  });
});
