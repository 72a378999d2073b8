// Bidirectional control characters in real Chromium: a message full of overrides and isolates
// cannot reverse its own text, the next sender's name or the next message, and a link whose
// text hides its host shows the real one. (jsdom has no layout: test/component/bidi-and-links.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Person, Rig, type TestHost, connectAll, messageRow, send } from './harness.ts';

const rig = new Rig();
let host: TestHost;
let alice: Person;
let bob: Person;

beforeAll(async () => {
  host = await rig.host({ rooms: ['lobby'] });
  [alice, bob] = await Promise.all([rig.person('alice'), rig.person('bob')]);
  await connectAll(host, [alice, bob]);
});

afterAll(() => rig.dispose());

/**
 * The left edge of each character of `needle` as Chromium laid it out, in the first message
 * row containing `row`. Increasing: shown in the order it was typed.
 */
function characterPositions(person: Person, row: string, needle: string): Promise<number[]> {
  return messageRow(person, row)
    .first()
    .evaluate((article, needle) => {
      const doc = article.ownerDocument;
      const walker = doc.createTreeWalker(article, 4 /* NodeFilter.SHOW_TEXT */);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const at = node.nodeValue?.indexOf(needle) ?? -1;
        if (at < 0) continue;
        return Array.from(needle, (_, i) => {
          const range = doc.createRange();
          range.setStart(node, at + i);
          range.setEnd(node, at + i + 1);
          return range.getBoundingClientRect().left;
        });
      }
      throw new Error(`no text node with ${needle}`);
    }, needle);
}

const increasing = (xs: readonly number[]) => xs.every((x, i) => i === 0 || x > (xs[i - 1] ?? 0));

describe('bidi controls in Chromium', () => {
  it('cannot reverse a message, the next sender’s name or the next message', async () => {
    // RLO never closed, RLI never closed: everything after them would be reordered.
    await send(bob, 'trust me \u202egro.elpmaxe.knab \u2067and so on');
    await messageRow(alice, 'trust me').waitFor();
    await send(alice, 'next message 12345');
    await messageRow(alice, 'next message').waitFor();

    // The text after the override reads as typed (without isolation and markers, reversed).
    expect(increasing(await characterPositions(alice, 'trust me', 'gro.elpmaxe.knab'))).toBe(true);
    expect(increasing(await characterPositions(alice, 'trust me', 'and so on'))).toBe(true);
    const markers = messageRow(alice, 'trust me').locator('abbr.control');
    expect(await markers.allTextContents()).toEqual(['RLO', 'RLI']);

    // The next message: its sender's name comes before its time, and its text reads as typed.
    const next = messageRow(alice, 'next message');
    const name = await next.locator('.sender').boundingBox();
    const time = await next.locator('header time').boundingBox();
    expect(name && time && name.x < time.x).toBe(true);
    expect(increasing(await characterPositions(alice, 'next message', 'next message 12345'))).toBe(
      true,
    );
  });

  it('shows the real host of a link whose text does not, and keeps the link in order', async () => {
    await send(bob, '\u202eplease log in: https://exаmple.com/login'); // Cyrillic "а"
    const row = messageRow(alice, 'please log in');
    const link = row.getByRole('link');
    await link.waitFor();
    expect(await link.getAttribute('href')).toBe('https://xn--exmple-4nf.com/login');
    expect(await row.locator('.real-host').textContent()).toBe('→ xn--exmple-4nf.com');
    expect(await row.locator('.real-host').isVisible()).toBe(true);
    // The link is left to right even though an override came before it.
    expect(increasing(await characterPositions(alice, 'please log in', 'https://ex'))).toBe(true);
    expect(alice.problems).toEqual([]);
    expect(bob.problems).toEqual([]);
  });
});
