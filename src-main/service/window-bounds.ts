/**
 * Where to reopen the window: the saved bounds if they are still on a screen (monitors get
 * unplugged), else the default size centred on the primary work area. Pure, so Electron's
 * `screen` stays in the glue.
 */
export interface Rect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export const DEFAULT_SIZE = { width: 960, height: 680 } as const;
export const MIN_SIZE = { width: 480, height: 360 } as const;
/** How much of the title bar area must be on some screen for the saved position to count. */
const MIN_VISIBLE = 64;

export function restoreBounds(
  saved: Rect | undefined,
  workAreas: readonly Rect[],
): Rect | { readonly width: number; readonly height: number } {
  const primary = workAreas[0];
  if (saved && isUsable(saved) && workAreas.some((area) => overlap(saved, area) >= MIN_VISIBLE)) {
    const area = workAreas.find((a) => overlap(saved, a) >= MIN_VISIBLE) ?? primary;
    return {
      x: saved.x,
      y: saved.y,
      width: area ? Math.min(saved.width, area.width) : saved.width,
      height: area ? Math.min(saved.height, area.height) : saved.height,
    };
  }
  const width = primary ? Math.min(DEFAULT_SIZE.width, primary.width) : DEFAULT_SIZE.width;
  const height = primary ? Math.min(DEFAULT_SIZE.height, primary.height) : DEFAULT_SIZE.height;
  return { width, height };
}

function isUsable(rect: Rect): boolean {
  return (
    [rect.x, rect.y, rect.width, rect.height].every(Number.isFinite) &&
    rect.width >= MIN_SIZE.width &&
    rect.height >= MIN_SIZE.height
  );
}

/** Horizontal overlap of the window's top strip with `area`, in pixels (0 if the strip is off it). */
function overlap(window: Rect, area: Rect): number {
  const top = window.y;
  if (top < area.y || top > area.y + area.height - MIN_VISIBLE / 2) return 0;
  return Math.max(
    0,
    Math.min(window.x + window.width, area.x + area.width) - Math.max(window.x, area.x),
  );
}
