// Writes build/icon.png (512x512 RGBA), the source of every packaged icon. It is the tray
// icon's drawing without a badge, so the app icon and the tray always match.
// Run `node scripts/make-icon.ts` after changing the drawing in src-main/service/tray-icon.ts;
// the PNG is committed, so packaging needs neither this script nor an image tool.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { encodePng } from '../src-main/service/png.ts';
import { drawTrayIcon } from '../src-main/service/tray-icon.ts';

const SIZE = 512;
const png = encodePng({ width: SIZE, height: SIZE, pixels: drawTrayIcon('none', SIZE) });
const target = resolve(import.meta.dirname, '../build/icon.png');
writeFileSync(target, png);
console.log(`wrote ${target} (${png.length} bytes)`);
