// Emoji in colour with no emoji font on the system (Debian's chromium has none): the bundled
// Noto Color Emoji face is fetched only once an emoji is drawn, and the message's emoji come out
// in colour — without it they are empty boxes or black-and-white DejaVu faces.
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Person, Rig, type TestHost, connectWithInvite, send, shoot } from './harness.ts';

const rig = new Rig();
let host: TestHost;
let ann: Person;
const TEXT = 'Party 🎉🚀😀👍🏽🇫🇷❤️';

beforeAll(async () => {
  host = await rig.host();
  ann = await rig.person('ann');
});

afterAll(() => rig.dispose());

/** The bundled face's load status: 'unloaded' until a character in its range is drawn. */
const emojiFontStatus = (page: Page): Promise<unknown> =>
  page.evaluate(
    `[...document.fonts].filter((face) => face.family.includes('Parley Emoji')).map((face) => face.status).join()`,
  );

/**
 * How many pixels of the element's screenshot are strongly coloured (the channels far apart):
 * text and its background here are greys, so only colour emoji count.
 */
async function colourfulPixels(page: Page, element: Locator): Promise<number> {
  const png = (await element.screenshot({ animations: 'disabled' })).toString('base64');
  // Decoded in the page (no PNG decoder on the Node side); a data: image never taints a canvas.
  return page.evaluate(`(async () => {
    const image = new Image();
    image.src = 'data:image/png;base64,${png}';
    await image.decode();
    const canvas = document.createElement('canvas');
    canvas.width = image.width;
    canvas.height = image.height;
    const context = canvas.getContext('2d');
    context.drawImage(image, 0, 0);
    const data = context.getImageData(0, 0, image.width, image.height).data;
    let count = 0;
    for (let i = 0; i < data.length; i += 4) {
      const r = data[i], g = data[i + 1], b = data[i + 2];
      if (Math.max(r, g, b) - Math.min(r, g, b) > 80) count++;
    }
    return count;
  })()`);
}

describe('emoji', () => {
  it('are not fetched while no emoji is on screen', async () => {
    await ann.page.getByRole('button', { name: 'Connect', exact: true }).waitFor();
    expect(await emojiFontStatus(ann.page)).toBe('unloaded');
  });

  it('show in colour in a message', async () => {
    const { page } = ann;
    await connectWithInvite(ann, host.running.invite('lobby'), 'ann');
    await send(ann, TEXT);
    const text = page.locator('article.message').getByText(TEXT);
    await text.waitFor();
    await expect.poll(() => emojiFontStatus(page)).toBe('loaded');
    await page.evaluate('document.fonts.ready');
    const withFont = await colourfulPixels(page, text);
    await text.screenshot({ path: 'test-results/screenshots/emoji-message-after.png' });

    // The same message with the bundled face left out of the stacks, as before it existed.
    await page.evaluate(`{
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(":root { --font-sans: system-ui, sans-serif; }");
      document.adoptedStyleSheets = [sheet];
    }`);
    const withoutFont = await colourfulPixels(page, text);
    await text.screenshot({ path: 'test-results/screenshots/emoji-message-before.png' });
    await page.evaluate('document.adoptedStyleSheets = []');

    expect(withoutFont).toBeLessThan(20);
    expect(withFont).toBeGreaterThan(500);
    // Without the members panel, which would lie over the message in a narrow window.
    await page.getByRole('button', { name: 'Close members' }).click();
    expect(await shoot(page, 'emoji-message')).toEqual([]);
  });

  it('ran without console errors or CSP violations', () => {
    expect(ann.problems).toEqual([]);
  });
});
