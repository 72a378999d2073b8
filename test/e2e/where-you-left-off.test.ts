// Where you left off, in real Chromium against a real host: a room with messages that came
// while you were elsewhere opens at a "New messages" line (not at the bottom), "Jump to first
// unread" brings the line back when it is out of view, and switching rooms and back returns
// to where you were reading.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { expectAccessible } from './axe.ts';
import {
  type Person,
  Rig,
  type TestHost,
  connectWithInvite,
  screenshot,
  shoot,
} from './harness.ts';
import { type WireMember, closeMembers, wireMember } from './wire-bob.ts';

const rig = new Rig();
let host: TestHost;
let alice: Person;
let page: Page;
let bob: WireMember;

const LIMITS = { messagesPerSecond: 1000, messageBurst: 1000 };

beforeAll(async () => {
  host = await rig.host({ rooms: ['lobby', 'random'], limits: LIMITS });
  bob = await wireMember(rig, host, 'bob', ['lobby']);
  alice = await rig.person('alice');
  page = alice.page;
  await connectWithInvite(alice, host.running.invite('lobby'), 'alice');
  // The timeline is what these screenshots are about: the members panel would lie over it
  // in a narrow window.
  await closeMembers(page);
});

afterAll(() => rig.dispose());

const timeline = () => page.getByTestId('timeline');
const rooms = () => page.getByRole('navigation', { name: 'Rooms' });
const divider = () => page.getByRole('separator', { name: 'New messages' });

async function openRoom(name: string): Promise<void> {
  await rooms()
    .getByRole('button', { name: new RegExp(`^${name}\\b`) })
    .click();
  await page.getByRole('region', { name: `Messages in #${name}` }).waitFor();
}

/** Where `locator` is, from the top of the timeline's viewport (negative: above it). */
async function topInView(locator: ReturnType<Page['locator']>): Promise<number> {
  const [box, view] = await Promise.all([locator.boundingBox(), timeline().boundingBox()]);
  if (!box || !view) throw new Error('not on screen');
  return box.y - view.y;
}

/** A message row in the page, as far as these tests read it. */
interface Row {
  getBoundingClientRect(): { top: number; bottom: number };
  querySelector(selector: string): { textContent: string | null } | null;
}

/** Whether the message with this text is drawn inside the viewport (rows away are not drawn). */
function shownInView(text: string): Promise<boolean> {
  return timeline().evaluate((viewport, text) => {
    const view = viewport.getBoundingClientRect();
    const rows = Array.from(viewport.querySelectorAll('article.message')) as Row[];
    return rows.some((article) => {
      if (article.querySelector('.text')?.textContent !== text) return false;
      const box = article.getBoundingClientRect();
      return box.bottom > view.top && box.top < view.bottom;
    });
  }, text);
}

/** The text of the first message whose row reaches into the viewport. */
function firstVisibleText(): Promise<string> {
  return timeline().evaluate((viewport) => {
    const top = viewport.getBoundingClientRect().top;
    for (const article of Array.from(viewport.querySelectorAll('article.message')) as Row[]) {
      if (article.getBoundingClientRect().bottom > top + 1) {
        return article.querySelector('.text')?.textContent ?? '';
      }
    }
    return '';
  });
}

const scrollTimelineTo = (top: number | 'bottom') =>
  timeline().evaluate((viewport, to) => {
    viewport.scrollTop = to === 'bottom' ? viewport.scrollHeight : to;
    viewport.dispatchEvent(new Event('scroll'));
  }, top);

describe('where you left off', () => {
  it('opens a room at the "New messages" line above what came while you were away', async () => {
    for (let i = 0; i < 40; i++) bob.say('lobby', `earlier ${i}`);
    await page.locator('article.message', { hasText: 'earlier 39' }).waitFor();

    await page.getByRole('button', { name: 'Join random' }).click();
    await page.getByRole('region', { name: 'Messages in #random' }).waitFor();
    for (let i = 0; i < 60; i++) bob.say('lobby', `unread ${i}`);
    await rooms().getByRole('button', { name: 'lobby, 60 unread' }).waitFor();

    await openRoom('lobby');
    await divider().waitFor();
    // The line is near the top of the view, with a little of what was read above it…
    const lineAt = await topInView(divider());
    expect(lineAt).toBeGreaterThanOrEqual(0);
    expect(lineAt).toBeLessThan(120);
    // …and right above the first unread message.
    const next = page.locator('li.row:has([role="separator"]) + li.row');
    expect(await next.locator('.text').textContent()).toBe('unread 0');
    // Not at the bottom: the newest is below the view.
    expect(await shownInView('unread 59')).toBe(false);
    expect(await shownInView('unread 0')).toBe(true);
    expect(
      await page.getByRole('button', { name: 'Jump to first unread', exact: true }).count(),
    ).toBe(0);
    expect(await shoot(page, 'where-you-left-off-divider')).toEqual([]);
    await expectAccessible(page, 'a room opened at the New messages line');
    await page.emulateMedia({ colorScheme: 'dark' });
    await screenshot(page, 'where-you-left-off-divider-dark-1280x800');
    await page.emulateMedia({ colorScheme: 'light' });
  });

  it('offers "Jump to first unread" while the line is out of view, and goes back to it', async () => {
    await scrollTimelineTo('bottom');
    const jump = page.getByRole('button', { name: 'Jump to first unread', exact: true });
    await jump.waitFor();
    expect(await shoot(page, 'where-you-left-off-jump')).toEqual([]);
    await expectAccessible(page, 'a room with the Jump to first unread pill');
    await page.emulateMedia({ colorScheme: 'dark' });
    await screenshot(page, 'where-you-left-off-jump-dark-1280x800');
    await page.emulateMedia({ colorScheme: 'light' });
    await scrollTimelineTo('bottom');
    await jump.click();
    await expect.poll(() => topInView(divider())).toBeLessThan(120);
    expect(await topInView(divider())).toBeGreaterThanOrEqual(0);
    await jump.waitFor({ state: 'detached' });
    // The button is gone; focus stays on the messages.
    expect(await timeline().evaluate((el) => el === el.ownerDocument.activeElement)).toBe(true);
  });

  it('keeps the scroll position of each room across a room switch', async () => {
    await scrollTimelineTo(500);
    await page.waitForTimeout(100);
    const reading = await firstVisibleText();
    const offset = await topInView(page.locator('article.message', { hasText: reading }).first());
    expect(reading).toMatch(/^(earlier|unread) \d+$/);

    await openRoom('random');
    await openRoom('lobby');
    await expect.poll(firstVisibleText).toBe(reading);
    const back = await topInView(page.locator('article.message', { hasText: reading }).first());
    expect(Math.abs(back - offset)).toBeLessThan(4);
  });

  it('keeps two hosts’ #lobby apart: each comes back where it was', async () => {
    const reading = await firstVisibleText();
    const other = await rig.host({ rooms: ['lobby'], limits: LIMITS });
    const carol = await wireMember(rig, other, 'carol', ['lobby']);
    for (let i = 0; i < 60; i++) carol.say('lobby', `elsewhere ${i}`);
    const rail = page.getByRole('navigation', { name: 'Hosts' });
    await rail.getByRole('button', { name: 'Add a host' }).click();
    await connectWithInvite(alice, other.running.invite('lobby'), 'alice');
    await page.locator('article.message', { hasText: 'elsewhere 59' }).waitFor();
    await scrollTimelineTo(300);
    await page.waitForTimeout(100);
    const there = await firstVisibleText();
    expect(there).toMatch(/^elsewhere \d+$/);

    const hostButton = (port: number) =>
      rail.getByRole('button', { name: new RegExp(`\\(127\\.0\\.0\\.1:${port}\\)`) });
    await hostButton(host.port).click();
    await expect.poll(firstVisibleText).toBe(reading);
    await hostButton(other.port).click();
    await expect.poll(firstVisibleText).toBe(there);
    expect(alice.problems).toEqual([]);
  });
});
