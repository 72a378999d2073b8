import { describe, expect, it } from 'vitest';
import { inflateSync } from 'node:zlib';
import { drawTrayIcon, trayIconPng } from '../../../src-main/service/tray-icon.ts';
import {
  BADGE_VARIANTS,
  badgeLook,
  badgeVariant,
  trayTooltip,
} from '../../../src-main/service/unread-badge.ts';

/** Decodes what encodePng writes (8-bit RGBA, filter 0), checking every chunk's CRC layout. */
function decodePng(png: Buffer): { width: number; height: number; pixels: Buffer } {
  expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  let offset = 8;
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.subarray(offset + 4, offset + 8).toString('ascii');
    const data = png.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      expect([data[8], data[9]]).toEqual([8, 6]);
    }
    if (type === 'IDAT') idat.push(data);
    offset += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const pixels = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    expect(raw[y * (width * 4 + 1)]).toBe(0);
    raw.copy(pixels, y * width * 4, y * (width * 4 + 1) + 1, (y + 1) * (width * 4 + 1));
  }
  return { width, height, pixels };
}

describe('the unread badge', () => {
  it('has a variant for 0, each of 1–9, and 9+', () => {
    expect(badgeVariant(0)).toBe('none');
    expect(badgeVariant(-3)).toBe('none');
    expect(badgeVariant(NaN)).toBe('none');
    expect([1, 5, 9].map(badgeVariant)).toEqual(['1', '5', '9']);
    expect([10, 99, 12345].map(badgeVariant)).toEqual(['9+', '9+', '9+']);
  });

  it('says the exact count in the tooltip', () => {
    expect(trayTooltip(0)).toBe('Parley — no unread messages');
    expect(trayTooltip(1)).toBe('Parley — 1 unread message');
    expect(trayTooltip(42, true)).toBe('Parley — 42 unread messages (notifications muted)');
  });

  it('says unread mentions apart, and marks the badge when any is unread', () => {
    expect(trayTooltip(5, false, 2)).toBe('Parley — 5 unread messages, 2 mentions');
    expect(trayTooltip(1, true, 1)).toBe(
      'Parley — 1 unread message, 1 mention (notifications muted)',
    );
    expect(trayTooltip(3, false, 0)).toBe('Parley — 3 unread messages');
    expect(badgeLook(5, 2)).toEqual({ variant: '5', mention: true });
    expect(badgeLook(5, 0)).toEqual({ variant: '5', mention: false });
    expect(badgeLook(0, 0)).toEqual({ variant: 'none', mention: false });
    // A mention in a room muted to mentions is on the badge even if the count lags behind.
    expect(badgeLook(0, 1)).toEqual({ variant: '1', mention: true });
  });
});

describe('the tray icon', () => {
  it('is a valid PNG of the asked size for every variant, and each variant looks different', () => {
    const seen = new Set<string>();
    for (const variant of BADGE_VARIANTS) {
      const png = trayIconPng(variant, 32);
      const { width, height, pixels } = decodePng(png);
      expect([width, height]).toEqual([32, 32]);
      expect(pixels).toEqual(Buffer.from(drawTrayIcon(variant, 32)));
      seen.add(pixels.toString('base64'));
    }
    expect(seen.size).toBe(BADGE_VARIANTS.length);
  });

  it('has a red badge in the top right corner only when there is something unread', () => {
    const at = (pixels: Uint8Array, x: number, y: number) => [
      ...pixels.subarray((y * 32 + x) * 4, (y * 32 + x) * 4 + 4),
    ];
    const plain = drawTrayIcon('none', 32);
    const badged = drawTrayIcon('1', 32);
    // At the badge's edge, inside the circle but away from the glyph: red.
    expect(at(badged, 29, 6)).toEqual([220, 38, 38, 255]);
    expect(at(plain, 29, 6)).not.toEqual([220, 38, 38, 255]);
    // The bubble at the bottom left is the same in both.
    expect(at(badged, 6, 26)).toEqual(at(plain, 6, 26));
  });

  it('draws a mention badge unlike the red one, with the same count', () => {
    const at = (pixels: Uint8Array, x: number, y: number) => [
      ...pixels.subarray((y * 32 + x) * 4, (y * 32 + x) * 4 + 4),
    ];
    const red = drawTrayIcon('3', 32);
    const mention = drawTrayIcon('3', 32, true);
    expect(at(mention, 29, 6)).toEqual([250, 204, 21, 255]);
    expect(at(red, 29, 6)).toEqual([220, 38, 38, 255]);
    expect(at(mention, 6, 26)).toEqual(at(red, 6, 26));
    expect(trayIconPng('3', 32, true).equals(trayIconPng('3', 32))).toBe(false);
  });

  it('refuses silly sizes', () => {
    expect(() => drawTrayIcon('1', 4)).toThrow(RangeError);
    expect(() => drawTrayIcon('1', 16.5)).toThrow(RangeError);
  });
});
