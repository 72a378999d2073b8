// Writes build/icon.png (512x512 RGBA), the source of every packaged icon.
// Run `node scripts/make-icon.ts` after changing the drawing; the PNG is committed, so
// packaging needs neither this script nor an image tool.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';

const SIZE = 512;
const SAMPLES = 4; // 4x4 supersampling per pixel for smooth edges

type Rgb = readonly [number, number, number];
const WHITE: Rgb = [255, 255, 255];
const TOP: Rgb = [59, 130, 246];
const BOTTOM: Rgb = [30, 64, 175];

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

function inTriangle(x: number, y: number, [a, b, c]: readonly [Point, Point, Point]): boolean {
  const side = (p: Point, q: Point): number =>
    (q[0] - p[0]) * (y - p[1]) - (q[1] - p[1]) * (x - p[0]);
  const s1 = side(a, b);
  const s2 = side(b, c);
  const s3 = side(c, a);
  return (s1 >= 0 && s2 >= 0 && s3 >= 0) || (s1 <= 0 && s2 <= 0 && s3 <= 0);
}

// A speech bubble with three "typing" dots on a blue rounded square.
function sample(x: number, y: number): Rgb | null {
  if (!inRoundedRect(x, y, [16, 16, 496, 496], 112)) return null;
  const t = (y - 16) / 480;
  const mix = (i: 0 | 1 | 2): number => Math.round(TOP[i] + (BOTTOM[i] - TOP[i]) * t);
  const background: Rgb = [mix(0), mix(1), mix(2)];
  for (const cx of [184, 256, 328]) {
    if ((x - cx) ** 2 + (y - 236) ** 2 <= 24 ** 2) return background;
  }
  const inBubble =
    inRoundedRect(x, y, [104, 128, 408, 344], 64) ||
    inTriangle(x, y, [
      [150, 320],
      [230, 320],
      [132, 408],
    ]);
  return inBubble ? WHITE : background;
}

function render(): Buffer {
  // Each row starts with PNG filter type 0 (none).
  const raw = Buffer.alloc(SIZE * (SIZE * 4 + 1));
  for (let py = 0; py < SIZE; py++) {
    const row = py * (SIZE * 4 + 1);
    for (let px = 0; px < SIZE; px++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let covered = 0;
      for (let sy = 0; sy < SAMPLES; sy++) {
        for (let sx = 0; sx < SAMPLES; sx++) {
          const color = sample(px + (sx + 0.5) / SAMPLES, py + (sy + 0.5) / SAMPLES);
          if (!color) continue;
          r += color[0];
          g += color[1];
          b += color[2];
          covered++;
        }
      }
      const at = row + 1 + px * 4;
      if (covered > 0) {
        raw[at] = Math.round(r / covered);
        raw[at + 1] = Math.round(g / covered);
        raw[at + 2] = Math.round(b / covered);
        raw[at + 3] = Math.round((255 * covered) / (SAMPLES * SAMPLES));
      }
    }
  }
  return raw;
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

const header = Buffer.alloc(13);
header.writeUInt32BE(SIZE, 0);
header.writeUInt32BE(SIZE, 4);
header[8] = 8; // bits per channel
header[9] = 6; // RGBA
const png = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  chunk('IHDR', header),
  chunk('IDAT', deflateSync(render(), { level: 9 })),
  chunk('IEND', Buffer.alloc(0)),
]);

const target = resolve(import.meta.dirname, '../build/icon.png');
writeFileSync(target, png);
console.log(`wrote ${target} (${png.length} bytes)`);
