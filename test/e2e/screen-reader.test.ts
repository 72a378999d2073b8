// What a screen reader hears, in real Chromium: everything read out goes through one hidden
// log (role="log"), and a screen reader reads what is added to it. The test records every
// addition, so it sees exactly what would be spoken: each message from someone else once
// (identical ones too), a burst as one summary, another room as an unread count, and never
// typing or our own messages.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { type Person, Rig, connectWithInvite, send, shoot } from './harness.ts';
import { type WireMember, closeMembers, wireMember } from './wire-bob.ts';

/** The log element, with every announcement added to it recorded, in order. */
type RecordedLog = { spoken: string[] };
/** What the callback of a MutationObserver gets, as far as this test reads it. */
type Added = { addedNodes: ArrayLike<{ textContent: string | null }> };

const rig = new Rig();
let alice: Person;
let page: Page;
let bob: WireMember;

beforeAll(async () => {
  const host = await rig.host({ rooms: ['lobby', 'random'] });
  bob = await wireMember(rig, host, 'bob', ['lobby', 'random']);
  alice = await rig.person('alice');
  page = alice.page;
  await connectWithInvite(alice, host.running.invite('lobby'), 'alice');
  await closeMembers(page);
  // Alice is in #random too, but reading #lobby.
  await page.getByRole('button', { name: 'Join random' }).click();
  await page.getByRole('region', { name: 'Messages in #random' }).waitFor();
  await page
    .getByRole('navigation', { name: 'Rooms' })
    .getByRole('button', { name: /^lobby\b/ })
    .click();
  await page.getByRole('region', { name: 'Messages in #lobby' }).waitFor();
  // Records what the log adds, as a screen reader would read it.
  await page.getByTestId('announcer').evaluate((log) => {
    const recorded = log as unknown as RecordedLog;
    recorded.spoken = [];
    const view = log.ownerDocument.defaultView!;
    new view.MutationObserver((records: Added[]) => {
      for (const record of records) {
        for (const node of Array.from(record.addedNodes))
          recorded.spoken.push(node.textContent?.trim() ?? '');
      }
    }).observe(log, { childList: true, subtree: true });
  });
});

afterAll(() => rig.dispose());

const spoken = () =>
  page
    .getByTestId('announcer')
    .evaluate((log) => (log as unknown as RecordedLog).spoken.filter((text) => text !== ''));

/** What is added to the log from now on. */
async function from(): Promise<() => Promise<string[]>> {
  const before = (await spoken()).length;
  return async () => (await spoken()).slice(before);
}

describe('what a screen reader hears', () => {
  it('is a polite log, and the typing indicator is not a live region', async () => {
    const log = page.getByTestId('announcer');
    expect(await log.getAttribute('role')).toBe('log');
    expect(await log.getAttribute('aria-relevant')).toBe('additions');
    // Neither the typing indicator nor anything around it is live.
    const typing = page.getByTestId('typing');
    expect(await typing.getAttribute('aria-live')).toBeNull();
    expect(
      await typing.evaluate((el) => el.closest('[aria-live], [role="status"], [role="log"]')),
    ).toBeNull();
  });

  it('reads a message from someone else once', async () => {
    const added = await from();
    bob.say('lobby', 'hello alice');
    await expect.poll(added).toEqual(['bob: hello alice']);
    await page.waitForTimeout(1500);
    expect(await added()).toEqual(['bob: hello alice']);
  });

  it('reads two identical messages twice', async () => {
    const added = await from();
    bob.say('lobby', 'ping');
    await expect.poll(added).toEqual(['bob: ping']);
    await page.waitForTimeout(1200);
    bob.say('lobby', 'ping');
    await expect.poll(added).toEqual(['bob: ping', 'bob: ping']);
  });

  it('reads a burst of five as one summary', async () => {
    const added = await from();
    for (let i = 1; i <= 5; i++) bob.say('lobby', `burst ${i}`);
    await expect.poll(added, { timeout: 5000 }).toEqual(['5 new messages in #lobby from bob']);
    await page.waitForTimeout(1500);
    expect(await added()).toEqual(['5 new messages in #lobby from bob']);
  });

  it('sums up another room as its unread count, and never reads typing or our own messages', async () => {
    const added = await from();
    bob.client.send({ t: 'typing', room: 'lobby' });
    await page
      .getByTestId('typing')
      .getByText(/bob\s+is typing/)
      .waitFor();
    await send(alice, 'my own words');
    bob.say('random', 'over in random');
    bob.say('random', 'still in random');
    await expect.poll(added, { timeout: 5000 }).toEqual(['2 unread in #random']);
    await page.waitForTimeout(1500);
    expect(await added()).toEqual(['2 unread in #random']);
    expect(await shoot(page, 'screen-reader-chat')).toEqual([]);
    expect(alice.problems).toEqual([]);
  });
});
