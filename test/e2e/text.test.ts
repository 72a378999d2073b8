// Text for everyone, in real Chromium: a right-to-left message is laid out right to left (it
// aligns right and its punctuation ends up on the left), "/me" reads as an action, and a
// 16 000-character message is folded to a few hundred pixels with "Show more".
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { expectAccessible } from './axe.ts';
import { lowHueContrasts } from './hue-contrast.ts';
import {
  type Person,
  Rig,
  type TestHost,
  connectWithInvite,
  messageRow,
  shoot,
} from './harness.ts';
import { type WireMember, closeMembers, wireMember } from './wire-bob.ts';

const rig = new Rig();
let alice: Person;
let page: Page;
let bob: WireMember;

let host: TestHost;

beforeAll(async () => {
  host = await rig.host({ rooms: ['lobby'] });
  bob = await wireMember(rig, host, 'bob', ['lobby']);
  alice = await rig.person('alice');
  page = alice.page;
  await connectWithInvite(alice, host.running.invite('lobby'), 'alice');
  await closeMembers(page);
});

afterAll(() => rig.dispose());

const ARABIC = 'مرحبا بالجميع!';
const LONG = Array.from({ length: 400 }, (_, i) => `Line of a very long message, part ${i}.`)
  .join(' ')
  .slice(0, 16_000);

describe('message text', () => {
  it('lays out a right-to-left message right to left, punctuation included', async () => {
    bob.say('lobby', ARABIC);
    bob.say('lobby', 'and an English one after it.');
    const row = messageRow(alice, 'مرحبا');
    await row.waitFor();
    await messageRow(alice, 'English one').waitFor();
    const text = row.locator('.text');
    expect(await text.getAttribute('dir')).toBe('auto');
    expect(
      await text.evaluate((el) => el.ownerDocument.defaultView!.getComputedStyle(el).direction),
    ).toBe('rtl');
    // Aligned to the right of its column…
    const layout = await text.evaluate((el) => {
      const doc = el.ownerDocument;
      const range = doc.createRange();
      range.selectNodeContents(el);
      const words = range.getBoundingClientRect();
      const box = el.getBoundingClientRect();
      // …and the "!" that ends it is drawn at its left end, where an Arabic sentence ends.
      const walker = doc.createTreeWalker(el, 4 /* NodeFilter.SHOW_TEXT */);
      let bang = 0;
      let first = 0;
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const value = node.nodeValue ?? '';
        const at = value.indexOf('!');
        if (at < 0) continue;
        const r = doc.createRange();
        r.setStart(node, at);
        r.setEnd(node, at + 1);
        bang = r.getBoundingClientRect().left;
        r.setStart(node, 0);
        r.setEnd(node, 1);
        first = r.getBoundingClientRect().left;
      }
      return { right: box.right - words.right, left: words.left - box.left, bang, first };
    });
    expect(layout.right).toBeLessThan(2);
    expect(layout.left).toBeGreaterThan(100);
    expect(layout.bang).toBeLessThan(layout.first);
    // The next message is left to right again.
    expect(
      await messageRow(alice, 'English one')
        .locator('.text')
        .evaluate((el) => el.ownerDocument.defaultView!.getComputedStyle(el).direction),
    ).toBe('ltr');
    expect(await shoot(page, 'text-rtl')).toEqual([]);
  });

  it('gives a right-to-left nickname its own direction, without moving the time after it', async () => {
    const dana = await wireMember(rig, host, 'דנה-2', ['lobby']);
    dana.say('lobby', 'shalom 123');
    const row = messageRow(alice, 'shalom 123');
    await row.waitFor();
    const sender = row.locator('.sender');
    expect(await sender.textContent()).toBe('דנה-2');
    expect(await sender.getAttribute('dir')).toBe('auto');
    expect(
      await sender.evaluate((el) => el.ownerDocument.defaultView!.getComputedStyle(el).direction),
    ).toBe('rtl');
    const [name, time] = await Promise.all([
      sender.boundingBox(),
      row.locator('header time').boundingBox(),
    ]);
    expect(name!.x + name!.width).toBeLessThanOrEqual(time!.x);
    // Everything said before is still there, in order.
    expect(await messageRow(alice, 'مرحبا').count()).toBe(1);
  });

  it('draws every avatar colour with a readable initial, in both themes', async () => {
    // A person's colour comes from their key (random here): measure all eight.
    const avatar = page.locator('article.message .avatar').first();
    expect(await lowHueContrasts(page, avatar)).toEqual([]);
  });

  it('highlights an @ of our nickname in others’ messages', async () => {
    bob.say('lobby', 'hey @alice, look at this');
    const mark = messageRow(alice, 'look at this').locator('mark.mention');
    await mark.waitFor();
    expect(await mark.textContent()).toBe('@alice');
    await expectAccessible(page, 'a message that mentions us');
  });

  it('shows "/me waves" as an action: "* bob waves", in italics', async () => {
    bob.say('lobby', '/me waves at everyone');
    const text = messageRow(alice, 'waves at everyone').locator('.text');
    await text.waitFor();
    expect(await text.textContent()).toBe('* bob waves at everyone');
    expect(
      await text.evaluate((el) => el.ownerDocument.defaultView!.getComputedStyle(el).fontStyle),
    ).toBe('italic');
    expect(await shoot(page, 'text-me-action')).toEqual([]);
  });

  it('folds a 16 000-character message to about 20 lines, with Show more and Show less', async () => {
    bob.say('lobby', LONG);
    const row = messageRow(alice, 'part 0.');
    await row.waitFor();
    const more = row.getByRole('button', { name: 'Show more' });
    await more.waitFor();
    expect(await more.getAttribute('aria-expanded')).toBe('false');
    const folded = (await row.boundingBox())!.height;
    expect(folded).toBeGreaterThan(300);
    expect(folded).toBeLessThan(560);
    expect(await shoot(page, 'text-long-folded')).toEqual([]);
    await expectAccessible(page, 'a folded long message, an action and a right-to-left message');

    const top = (await row.boundingBox())!.y;
    await more.click();
    const less = row.getByRole('button', { name: 'Show less' });
    await less.waitFor();
    expect(await less.getAttribute('aria-expanded')).toBe('true');
    await expect.poll(async () => (await row.boundingBox())!.height).toBeGreaterThan(2000);
    // Unfolding keeps the message's top where it was: the reader goes on reading down.
    expect(Math.abs((await row.boundingBox())!.y - top)).toBeLessThan(2);
    await less.click();
    await more.waitFor();
    await expect.poll(async () => (await row.boundingBox())!.height).toBeLessThan(560);
    expect(alice.problems).toEqual([]);
  });
});
