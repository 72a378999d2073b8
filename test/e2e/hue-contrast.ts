// The eight member/host colours (`hue-0` … `hue-7`) on one element, measured in the page in the
// light and the dark theme: its text against its own background, as the browser resolved them.
import type { Locator, Page } from 'playwright-core';

/**
 * Each hue and theme in which `element`'s text falls below 4.5:1 on its background, as
 * `hue-N light: 4.21:1`; none, `[]`. The colours are read back through a 1x1 canvas, so
 * color-mix() and light-dark() count as drawn. Puts the element's class and the light theme back.
 */
export async function lowHueContrasts(page: Page, element: Locator): Promise<string[]> {
  const original = await element.evaluate((node) => node.className);
  const ratios: string[] = [];
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    for (let hue = 0; hue < 8; hue++) {
      const ratio = await element.evaluate((node, n) => {
        node.setAttribute('class', node.className.replace(/\bhue-\d\b/, `hue-${n}`));
        const canvas = node.ownerDocument.createElement('canvas');
        canvas.width = canvas.height = 1;
        const context = canvas.getContext('2d', { willReadFrequently: true })!;
        const style = node.ownerDocument.defaultView!.getComputedStyle(node);
        const luminance = (css: string): number => {
          context.clearRect(0, 0, 1, 1);
          context.fillStyle = css;
          context.fillRect(0, 0, 1, 1);
          const [r = 0, g = 0, b = 0] = context.getImageData(0, 0, 1, 1).data;
          const lin = (c: number): number =>
            c / 255 <= 0.04045 ? c / 255 / 12.92 : ((c / 255 + 0.055) / 1.055) ** 2.4;
          return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
        };
        const [light = 0, dark = 0] = [
          luminance(style.color),
          luminance(style.backgroundColor),
        ].sort((x, y) => y - x);
        return (light + 0.05) / (dark + 0.05);
      }, hue);
      if (ratio < 4.5) ratios.push(`hue-${hue} ${colorScheme}: ${ratio.toFixed(2)}:1`);
    }
  }
  await page.emulateMedia({ colorScheme: 'light' });
  await element.evaluate((node, name) => node.setAttribute('class', name), original);
  return ratios;
}
