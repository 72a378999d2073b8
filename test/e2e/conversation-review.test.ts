// #17 as someone who lives in it (review): after ↑-editing the newest message its editor is in
// view and the focus comes back to the message box; a click on a reaction leaves the typing in
// the box; in a narrow window a search result is shown, not hidden under the search panel; Save
// on a file or in the image viewer keeps the focus where the keyboard can go on.
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Person, Rig, connectWithInvite, messageRow, screenshot, send } from './harness.ts';
import { rgbPng } from './png.ts';

const rig = new Rig();
let alice: Person;
let bob: Person;
const poll = { timeout: 10_000, interval: 50 };

beforeAll(async () => {
  const host = await rig.host({ rooms: ['lobby'] });
  [alice, bob] = await Promise.all([rig.person('alice'), rig.person('bob')]);
  const invite = host.running.invite('lobby');
  await connectWithInvite(alice, invite, 'alice');
  await connectWithInvite(bob, invite, 'bob');
  await alice.page.getByText('bob joined').waitFor();
  // A room with more than a window of messages, so "the bottom" means something.
  for (let i = 1; i <= 25; i++) await send(bob, `line ${i} about the deploy`);
  await messageRow(alice, 'line 25 about').waitFor();
});

afterAll(async () => {
  for (const person of [alice, bob]) expect(person?.problems ?? []).toEqual([]);
  await rig.dispose();
});

const box = (person: Person): Locator => person.page.getByRole('textbox', { name: /^Message / });

/** A small real PNG (a gradient), so Chromium shows it as the app will. */
const png = (width: number, height: number): Buffer =>
  rgbPng(width, height, (x, y) => [(x * 255) / width, (y * 255) / height, 160]);

/** Hands a file to the paperclip's input, as the system picker would, and sends it. */
async function sendFile(page: Page, name: string, mime: string, bytes: Buffer): Promise<void> {
  await page.evaluate(
    ([name, mime, bytes]) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([new Uint8Array(bytes)], name, { type: mime }));
      const input = document.querySelector<HTMLInputElement>('input[data-testid="attach-input"]');
      if (!input) throw new Error('no file input');
      input.files = transfer.files;
      input.dispatchEvent(new Event('change', { bubbles: true }));
    },
    [name, mime, [...bytes]] as const,
  );
  await page.getByRole('button', { name: 'Send file' }).click();
}

const focusedLabel = (page: Page): Promise<string | null> =>
  page.evaluate(() => document.activeElement?.getAttribute('aria-label') ?? null);

/** Whether all of `locator` lies inside the timeline's visible part. */
async function inView(person: Person, locator: Locator): Promise<boolean> {
  const view = await person.page.getByTestId('timeline').boundingBox();
  const it = await locator.boundingBox();
  if (!view || !it) return false;
  return it.y >= view.y - 1 && it.y + it.height <= view.y + view.height + 1;
}

describe('the conversation, lived in (#17 review)', () => {
  it('↑ edits the newest message in view, and Enter gives the typing back to the box', async () => {
    const { page } = alice;
    // As it happens: an answer to Bob (a quote) that he reacts to, then the line we get wrong.
    const asked = messageRow(alice, 'line 25 about');
    await asked.hover();
    await asked.getByRole('button', { name: 'Reply' }).click();
    await page.keyboard.type('Release notes are in the wiki');
    await page.keyboard.press('Enter');
    const notes = messageRow(bob, 'Release notes are in the wiki');
    await notes.hover();
    await notes.getByRole('button', { name: 'React with thumbs up' }).click();
    await messageRow(alice, 'Release notes')
      .getByRole('button', { name: /^thumbs up: 1/ })
      .waitFor();
    await send(alice, 'teh release is at 5');
    await expect
      .poll(() => messageRow(alice, 'teh release is at 5').getAttribute('data-status'), poll)
      .toBe('sent');
    await box(alice).press('ArrowUp');
    const editor = page.getByRole('textbox', { name: 'Edit message' });
    await editor.waitFor();
    const save = page.getByRole('button', { name: 'Save', exact: true });
    await expect.poll(() => inView(alice, save), poll).toBe(true);
    expect(await page.getByRole('button', { name: 'Jump to latest' }).count()).toBe(0);
    await screenshot(page, 'edit-inline-newest');
    await editor.fill('the release is at 5');
    await editor.press('Enter');
    await messageRow(bob, 'the release is at 5').waitFor();
    await page.keyboard.type('next thought');
    expect(await box(alice).inputValue()).toBe('next thought');
    await box(alice).fill('');
  });

  it('a click on a reaction leaves the typing in the message box', async () => {
    const { page } = alice;
    await box(alice).click();
    const row = messageRow(alice, 'line 24 about');
    await row.hover();
    await row.getByRole('button', { name: 'React with thumbs up' }).click();
    await row.getByRole('button', { name: /^thumbs up: 1/ }).waitFor();
    await page.keyboard.type('typed on');
    expect(await box(alice).inputValue()).toBe('typed on');
    await row.getByRole('button', { name: /^thumbs up: 1/ }).click();
    await expect.poll(() => row.getByRole('button', { name: /^thumbs up/ }).count(), poll).toBe(0);
    await page.keyboard.type(' and on');
    expect(await box(alice).inputValue()).toBe('typed on and on');
    await box(alice).fill('');
  });

  it('in a narrow window a search result is shown, not hidden under the panel', async () => {
    const { page } = alice;
    await page.setViewportSize({ width: 400, height: 800 });
    try {
      await box(alice).click();
      await page.keyboard.press('Control+f');
      const field = page.getByRole('combobox', { name: 'Search messages' });
      await field.fill('line 3 about');
      const results = page.getByRole('listbox', { name: 'Results' });
      await results.getByRole('option').first().waitFor();
      await results.getByRole('option').first().click();
      await expect.poll(() => field.count(), poll).toBe(0);
      const target = messageRow(alice, 'line 3 about');
      await expect.poll(() => target.getAttribute('class'), poll).toContain('flash');
      await expect.poll(() => inView(alice, target), poll).toBe(true);
      await screenshot(page, 'search-jump-narrow');
      // Open again over the room: Escape closes it even with the focus on a message.
      await target.focus();
      await page.keyboard.press('Control+f');
      await field.waitFor();
      await target.focus();
      await page.keyboard.press('Escape');
      await expect.poll(() => field.count(), poll).toBe(0);
    } finally {
      await page.setViewportSize({ width: 1280, height: 800 });
    }
  });

  it('Save on a file card or in the image viewer keeps the focus for the keyboard', async () => {
    const { page } = bob;
    await sendFile(alice.page, 'notes.txt', 'text/plain', Buffer.from('notes\n'.repeat(50)));
    const card = page.getByTestId('file-card').filter({ hasText: 'notes.txt' });
    const save = card.getByRole('button', { name: 'Save notes.txt' });
    await save.waitFor();
    bob.backend.saveDialog.answerNext({ name: 'notes from alice.txt' });
    await save.focus();
    await page.keyboard.press('Enter');
    await page.getByText('Saved notes.txt.').waitFor({ state: 'attached' });
    expect(await focusedLabel(page)).toBe('Save notes.txt');

    await sendFile(alice.page, 'plan.png', 'image/png', png(320, 200));
    await page.getByRole('button', { name: /^Open image plan\.png/ }).click();
    const viewer = page.getByRole('dialog', { name: 'plan.png' });
    await viewer.getByRole('img', { name: 'plan.png' }).waitFor();
    const dialog = bob.backend.saveDialog;
    const before = dialog.chosen.length;
    dialog.answerNext({ name: 'the plan.png' });
    await viewer.getByRole('button', { name: /Save/ }).focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => dialog.chosen.length, poll).toBe(before + 1);
    // Still in the viewer: Escape leaves it (with the focus dropped to the page it did not).
    await expect
      .poll(() => viewer.evaluate((el) => el.contains(document.activeElement)), poll)
      .toBe(true);
    await page.keyboard.press('Escape');
    await viewer.waitFor({ state: 'detached' });
  });
});
