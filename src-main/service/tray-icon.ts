import { encodePng } from './png.ts';
import type { BadgeVariant } from './unread-badge.ts';

/**
 * Draws the tray icon — Parley's speech bubble (the same drawing as build/icon.png) with a red
 * badge carrying the unread count — as PNG bytes. Drawn in code rather than shipped as files:
 * Electron's `nativeImage.createFromBuffer` takes the bytes, and nothing has to be located in
 * app.asar at run time. Pure and deterministic, so it is tested under plain Node.
 */
type Rgb = readonly [number, number, number];
const WHITE: Rgb = [255, 255, 255];
const TOP: Rgb = [59, 130, 246];
const BOTTOM: Rgb = [30, 64, 175];
const BADGE: Rgb = [220, 38, 38];
/**
 * A badge that counts a mention: amber with a dark count, told apart from the red one at a
 * glance (also by people who do not see red well: it differs in lightness, not only in hue).
 */
const MENTION_BADGE: Rgb = [250, 204, 21];
const MENTION_GLYPH: Rgb = [31, 41, 55];
const SAMPLES = 4; // 4×4 supersampling per pixel

/** 3×5 pixel glyphs for the badge. */
const GLYPHS: Record<string, readonly string[]> = {
  '1': ['.#.', '##.', '.#.', '.#.', '###'],
  '2': ['##.', '..#', '.#.', '#..', '###'],
  '3': ['##.', '..#', '.#.', '..#', '##.'],
  '4': ['#.#', '#.#', '###', '..#', '..#'],
  '5': ['###', '#..', '##.', '..#', '##.'],
  '6': ['.##', '#..', '###', '#.#', '###'],
  '7': ['###', '..#', '.#.', '.#.', '.#.'],
  '8': ['###', '#.#', '###', '#.#', '###'],
  '9': ['###', '#.#', '###', '..#', '##.'],
  '+': ['...', '.#.', '###', '.#.', '...'],
};

function inRoundedRect(
  x: number,
  y: number,
  [x0, y0, x1, y1]: readonly [number, number, number, number],
  r: number,
): boolean {
  const dx = Math.max(x0 + r - x, 0, x - (x1 - r));
  const dy = Math.max(y0 + r - y, 0, y - (y1 - r));
  return x >= x0 && x <= x1 && y >= y0 && y <= y1 && dx * dx + dy * dy <= r * r;
}

type Point = readonly [number, number];

function inTriangle(x: number, y: number, a: Point, b: Point, c: Point): boolean {
  const side = (p: Point, q: Point): number =>
    (q[0] - p[0]) * (y - p[1]) - (q[1] - p[1]) * (x - p[0]);
  const s1 = side(a, b);
  const s2 = side(b, c);
  const s3 = side(c, a);
  return (s1 >= 0 && s2 >= 0 && s3 >= 0) || (s1 <= 0 && s2 <= 0 && s3 <= 0);
}

/** The app icon at unit scale (coordinates of the 512 px master divided by 512). */
function baseColor(u: number, v: number): Rgb | null {
  const s = (n: number): number => n / 512;
  if (!inRoundedRect(u, v, [s(16), s(16), s(496), s(496)], s(112))) return null;
  const t = (v - s(16)) / s(480);
  const mix = (i: 0 | 1 | 2): number => Math.round(TOP[i] + (BOTTOM[i] - TOP[i]) * t);
  const background: Rgb = [mix(0), mix(1), mix(2)];
  for (const cx of [184, 256, 328]) {
    if ((u - s(cx)) ** 2 + (v - s(236)) ** 2 <= s(24) ** 2) return background;
  }
  const inBubble =
    inRoundedRect(u, v, [s(104), s(128), s(408), s(344)], s(64)) ||
    inTriangle(u, v, [s(150), s(320)], [s(230), s(320)], [s(132), s(408)]);
  return inBubble ? WHITE : background;
}

interface Badge {
  readonly cx: number;
  readonly cy: number;
  readonly r: number;
  /** Glyph pixels (integer pixel cells) drawn in white. */
  readonly cells: ReadonlySet<string>;
}

function layoutBadge(text: string, size: number): Badge {
  const r = size * 0.3;
  const cx = size - r;
  const cy = r;
  const scale = Math.max(1, Math.round(size / 16));
  const glyphs = [...text].map((c) => GLYPHS[c] ?? []);
  const width = (glyphs.length * 4 - 1) * scale;
  const height = 5 * scale;
  const left = Math.round(cx - width / 2);
  const top = Math.round(cy - height / 2);
  const cells = new Set<string>();
  glyphs.forEach((rows, g) => {
    rows.forEach((row, gy) => {
      [...row].forEach((cell, gx) => {
        if (cell !== '#') return;
        for (let dy = 0; dy < scale; dy++) {
          for (let dx = 0; dx < scale; dx++) {
            cells.add(`${left + (g * 4 + gx) * scale + dx},${top + gy * scale + dy}`);
          }
        }
      });
    });
  });
  return { cx, cy, r, cells };
}

/**
 * RGBA pixels of the tray icon for `variant` at `size`×`size`; `mention`: the badge is the
 * mention badge (something unread names us).
 */
export function drawTrayIcon(variant: BadgeVariant, size: number, mention = false): Uint8Array {
  if (!Number.isInteger(size) || size < 8 || size > 512) throw new RangeError('icon size');
  const badge = variant === 'none' ? undefined : layoutBadge(variant, size);
  const fill = mention ? MENTION_BADGE : BADGE;
  const ink = mention ? MENTION_GLYPH : WHITE;
  const pixels = new Uint8Array(size * size * 4);
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let covered = 0;
      const glyph = badge?.cells.has(`${px},${py}`) ?? false;
      for (let sy = 0; sy < SAMPLES; sy++) {
        for (let sx = 0; sx < SAMPLES; sx++) {
          const x = px + (sx + 0.5) / SAMPLES;
          const y = py + (sy + 0.5) / SAMPLES;
          let color: Rgb | null;
          if (badge && (x - badge.cx) ** 2 + (y - badge.cy) ** 2 <= badge.r ** 2) {
            color = glyph ? ink : fill;
          } else if (
            badge &&
            (x - badge.cx) ** 2 + (y - badge.cy) ** 2 <= (badge.r + size / 16) ** 2
          ) {
            color = null; // a transparent ring separates the badge from the bubble
          } else {
            color = baseColor(x / size, y / size);
          }
          if (!color) continue;
          r += color[0];
          g += color[1];
          b += color[2];
          covered++;
        }
      }
      if (covered === 0) continue;
      const at = (py * size + px) * 4;
      pixels[at] = Math.round(r / covered);
      pixels[at + 1] = Math.round(g / covered);
      pixels[at + 2] = Math.round(b / covered);
      pixels[at + 3] = Math.round((255 * covered) / (SAMPLES * SAMPLES));
    }
  }
  return pixels;
}

/** PNG bytes of the tray icon, memoized: the tray asks for the same few images again and again. */
const cache = new Map<string, Buffer>();
export function trayIconPng(variant: BadgeVariant, size = 32, mention = false): Buffer {
  const key = `${variant}@${size}${mention ? '@mention' : ''}`;
  let png = cache.get(key);
  if (!png) {
    png = encodePng({ width: size, height: size, pixels: drawTrayIcon(variant, size, mention) });
    cache.set(key, png);
  }
  return png;
}
