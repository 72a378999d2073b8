import { join } from 'node:path';
import { z } from 'zod';
import { DEFAULT_SETTINGS, Settings } from '../../src-shared/ipc/domain.ts';
import { JsonFile } from './json-file.ts';

/**
 * The user's settings (contract `Settings`) in `settings.json`. Read field by field, so one
 * bad or unknown value (an older or newer version wrote it) falls back to its default without
 * losing the others.
 */
export const SETTINGS_FILE = 'settings.json';

const Stored = z.record(z.string(), z.unknown());

export class SettingsStore {
  readonly #file: JsonFile<typeof Stored>;
  #settings: Settings;

  private constructor(file: JsonFile<typeof Stored>, settings: Settings) {
    this.#file = file;
    this.#settings = settings;
  }

  static async open(dataDir: string): Promise<SettingsStore> {
    const file = new JsonFile(join(dataDir, SETTINGS_FILE), Stored);
    const { value } = await file.read({});
    return new SettingsStore(file, settingsFrom(value));
  }

  get current(): Settings {
    return { ...this.#settings };
  }

  /** Applies a validated partial update, writes it, and returns the full settings. */
  async update(change: Partial<Settings>): Promise<Settings> {
    const next = Settings.parse({ ...this.#settings, ...withoutUndefined(change) });
    this.#settings = next;
    await this.#file.write(next);
    return { ...next };
  }
}

export function settingsFrom(stored: Record<string, unknown>): Settings {
  const settings: Record<string, unknown> = { ...DEFAULT_SETTINGS };
  for (const [key, field] of Object.entries(Settings.shape)) {
    const parsed = (field as z.ZodType).safeParse(stored[key]);
    if (parsed.success) settings[key] = parsed.data;
  }
  return Settings.parse(settings);
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
