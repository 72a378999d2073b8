import { join } from 'node:path';
import { z } from 'zod';
import { JsonFile } from './json-file.ts';
import type { Rect } from './window-bounds.ts';

/**
 * What the desktop shell remembers that is not a user setting: the window's bounds and
 * whether the close-to-tray behaviour has been explained already.
 */
export const SHELL_STATE_FILE = 'shell-state.json';

const RectSchema = z.object({
  x: z.number().int(),
  y: z.number().int(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
});
const Stored = z.object({
  version: z.literal(1),
  bounds: RectSchema.optional(),
  maximized: z.boolean(),
  closeToTrayExplained: z.boolean(),
});
export type ShellState = Omit<z.infer<typeof Stored>, 'version'>;

export class ShellStateStore {
  readonly #file: JsonFile<typeof Stored>;
  #state: ShellState;

  private constructor(file: JsonFile<typeof Stored>, state: ShellState) {
    this.#file = file;
    this.#state = state;
  }

  static async open(dataDir: string): Promise<ShellStateStore> {
    const file = new JsonFile(join(dataDir, SHELL_STATE_FILE), Stored);
    const { value } = await file.read({
      version: 1,
      maximized: false,
      closeToTrayExplained: false,
    });
    const { version: _version, ...state } = value;
    return new ShellStateStore(file, state);
  }

  get current(): ShellState {
    return { ...this.#state };
  }

  async update(change: {
    bounds?: Rect;
    maximized?: boolean;
    closeToTrayExplained?: boolean;
  }): Promise<void> {
    const next: ShellState = { ...this.#state, ...change };
    if (next.bounds) {
      const { x, y, width, height } = next.bounds;
      next.bounds = {
        x: Math.round(x),
        y: Math.round(y),
        width: Math.round(width),
        height: Math.round(height),
      };
    }
    this.#state = next;
    await this.#file.write({ version: 1, ...next });
  }
}
