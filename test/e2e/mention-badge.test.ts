// Mentions in the room list (#17), in Chromium against a real host: alice sets #lobby to "Only
// @mentions" and goes to #random; bob's chatter there stays a quiet count, and his "@alice" puts
// an amber "@1" on the row, named "1 mention" — readable (WCAG AA) in both themes.
import type { Locator } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectAccessible } from './axe.ts';
import { type Person, Rig, type TestHost, connectWithInvite, screenshot } from './harness.ts';
import { type WireMember, wireMember } from './wire-bob.ts';

const rig = new Rig();
let host: TestHost;
let alice: Person;
let bob: WireMember;

beforeAll(async () => {
  host = await rig.host({ rooms: ['lobby', 'random'] });
  bob = await wireMember(rig, host, 'bob', ['lobby']);
  alice = await rig.person('alice');
  await connectWithInvite(alice, host.running.invite('lobby'), 'alice');
});

afterAll(async () => {
  expect(alice?.problems ?? []).toEqual([]);
  await rig.dispose();
});

const rooms = () => alice.page.getByRole('navigation', { name: 'Rooms' });

/** The badge's text against its own fill, as the page draws them (read back through a canvas). */
function contrastOf(badge: Locator): Promise<number> {
  return badge.evaluate((node) => {
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
    const [light = 0, dark = 0] = [luminance(style.color), luminance(style.backgroundColor)].sort(
      (x, y) => y - x,
    );
    return (light + 0.05) / (dark + 0.05);
  });
}

describe('a mention in the room list', () => {
  it('marks a room muted to mentions with "@1" when someone writes @alice', async () => {
    const { page } = alice;
    await page.getByRole('button', { name: 'Notifications for #lobby: All messages' }).click();
    await page.getByRole('menuitemradio', { name: /^Only @mentions/ }).click();
    await page.getByRole('button', { name: 'Notifications for #lobby: Only @mentions' }).waitFor();
    await rooms().getByRole('button', { name: 'Join random' }).click();
    await page.getByRole('region', { name: 'Messages in #random' }).waitFor();

    // Chatter: counted, quietly.
    bob.say('lobby', 'anyone seen the build logs?');
    const quiet = rooms().getByRole('button', {
      name: 'lobby, 1 unread, notifications for mentions only',
    });
    await quiet.waitFor();
    expect(await quiet.locator('.count').textContent()).toBe('1');
    expect(await quiet.locator('.count.mention').count()).toBe(0);

    bob.say('lobby', '@alice can you look at the failing deploy?');
    const row = rooms().getByRole('button', {
      name: 'lobby, 2 unread, 1 mention, notifications for mentions only',
    });
    await row.waitFor();
    const badge = row.locator('.count');
    expect(await badge.textContent()).toBe('@1');
    expect(await badge.getAttribute('class')).toContain('mention');
    // Set apart from a plain count by its colour too.
    const fill = await badge.evaluate((node) => getComputedStyle(node).backgroundColor);
    const accent = await page.evaluate(
      `getComputedStyle(document.documentElement).getPropertyValue('--accent')`,
    );
    expect(fill).not.toBe(accent);
    expect(await contrastOf(badge)).toBeGreaterThanOrEqual(4.5);
    await screenshot(page, 'mention-badge');
    await expectAccessible(page, 'a room list with a mention mark');
    await page.emulateMedia({ colorScheme: 'dark' });
    expect(await contrastOf(badge)).toBeGreaterThanOrEqual(4.5);
    await screenshot(page, 'mention-badge-dark');
    await page.emulateMedia({ colorScheme: 'light' });

    // Read: the mark goes with the count.
    await rooms()
      .getByRole('button', { name: /^lobby,/ })
      .click();
    await rooms()
      .getByRole('button', { name: 'lobby, notifications for mentions only', exact: true })
      .waitFor();
    expect(await rooms().locator('[data-room="lobby"] .count').count()).toBe(0);
  });
});
