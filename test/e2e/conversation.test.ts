// #17 in Chromium, Alice and Bob through a real host: a reply and its jump (also far back, after
// a reload), reactions toggled with counts, an edit, a deletion (a tombstone on the other side),
// @ completion and the mention highlight, and search with its jump. Screenshots of each.
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectAccessible } from './axe.ts';
import {
  type Person,
  Rig,
  type TestHost,
  connectAll,
  messageRow,
  screenshot,
  send,
  shoot,
} from './harness.ts';

const rig = new Rig();
let host: TestHost;
let alice: Person;
let bob: Person;
const poll = { timeout: 10_000, interval: 50 };

beforeAll(async () => {
  // Bob's install sends 250 lines in a moment for the far-back jump: no flood limit here.
  host = await rig.host({
    rooms: ['lobby', 'random'],
    limits: { messagesPerSecond: 2000, messageBurst: 2000, floodStrikes: 1_000_000 },
  });
  [alice, bob] = await Promise.all([rig.person('alice'), rig.person('bob')]);
  await connectAll(host, [alice, bob]);
  await alice.page
    .getByRole('region', { name: 'Messages in #lobby' })
    .getByText('bob joined')
    .waitFor();
});

afterAll(async () => {
  for (const person of [alice, bob]) expect(person?.problems ?? []).toEqual([]);
  await rig.dispose();
});

/** The question's own row (replies quote its text too). */
const question = (person: Person): Locator =>
  person.page.locator('article.message[data-from="bob"]', {
    hasText: 'Where is the deploy checklist?',
  });

const box = (person: Person): Locator => person.page.getByRole('textbox', { name: /^Message / });

/** Hovers a row so its toolbar shows, and returns the row. */
async function hovered(person: Person, text: string): Promise<Locator> {
  const row = messageRow(person, text).last();
  await row.hover();
  await row.getByRole('toolbar', { name: 'Message actions' }).waitFor();
  return row;
}

async function dark(page: Page, name: string): Promise<void> {
  await page.emulateMedia({ colorScheme: 'dark' });
  await screenshot(page, name);
  await page.emulateMedia({ colorScheme: 'light' });
}

describe('the conversation (#17)', () => {
  it('replies to a message and jumps to it from the quote', async () => {
    await send(bob, 'Where is the deploy checklist?');
    await send(bob, 'Also: who has the release notes?');
    const asked = await hovered(alice, 'Where is the deploy checklist?');
    await asked.getByRole('button', { name: 'Reply' }).click();
    const bar = alice.page.getByTestId('reply-preview');
    await bar.waitFor();
    expect(await bar.textContent()).toContain('Replying to bob');
    // Focus went to the box: typing answers.
    await alice.page.keyboard.type('In the wiki, under Releases');
    await screenshot(alice.page, 'reply-composer');
    expect(await shoot(alice.page, 'reply-composer', { sizes: ['400x800'] })).toEqual([]);
    await alice.page.keyboard.press('Enter');
    await expect.poll(() => bar.count(), poll).toBe(0);

    const answer = messageRow(bob, 'In the wiki, under Releases');
    const quote = answer.getByRole('button', { name: /^Replying to bob: Where is the deploy/ });
    await quote.waitFor();
    await screenshot(bob.page, 'reply-quoted');
    await quote.click();
    const target = question(bob);
    await expect.poll(() => target.getAttribute('class'), poll).toContain('flash');
    await expect
      .poll(() => bob.page.evaluate('document.activeElement?.textContent ?? ""'), poll)
      .toContain('Where is the deploy checklist?');
  });

  it('toggles reactions with counts and who reacted', async () => {
    const row = await hovered(bob, 'In the wiki, under Releases');
    await row.getByRole('button', { name: 'React with thumbs up' }).click();
    const chipOnAlice = messageRow(alice, 'In the wiki').getByRole('button', {
      name: /^thumbs up: 1 — bob$/,
    });
    await chipOnAlice.waitFor();
    expect(await chipOnAlice.getAttribute('aria-pressed')).toBe('false');
    await chipOnAlice.click();
    const both = messageRow(alice, 'In the wiki').getByRole('button', {
      name: /^thumbs up: 2 — bob and alice \(you reacted\)$/,
    });
    await both.waitFor();
    expect(await both.getAttribute('aria-pressed')).toBe('true');
    // Any emoji, from the picker's search.
    await (
      await hovered(alice, 'In the wiki')
    )
      .getByRole('toolbar')
      .getByRole('button', { name: 'Add reaction' })
      .click();
    const search = alice.page.getByRole('combobox', { name: 'Search emoji' });
    await search.fill('tada');
    await screenshot(alice.page, 'reaction-picker');
    await expectAccessible(alice.page, 'the emoji picker');
    await search.press('Enter');
    await messageRow(bob, 'In the wiki')
      .getByRole('button', { name: /^party popper: 1 — alice$/ })
      .waitFor();
    await screenshot(bob.page, 'reactions');
    await dark(bob.page, 'reactions-dark');
    // Taken back: the count goes down on both sides.
    await both.click();
    await messageRow(bob, 'In the wiki')
      .getByRole('button', { name: /^thumbs up: 1 — bob \(you reacted\)$/ })
      .waitFor();
    await expectAccessible(alice.page, 'a message with reactions');
  });

  it('edits the last message with Up, and the other side sees "(edited)"', async () => {
    await send(alice, 'The meeting is at 3');
    await expect
      .poll(() => messageRow(alice, 'The meeting is at 3').getAttribute('data-status'), poll)
      .toBe('sent');
    await box(alice).press('ArrowUp');
    const editor = alice.page.getByRole('textbox', { name: 'Edit message' });
    await editor.waitFor();
    await screenshot(alice.page, 'edit-inline');
    await editor.fill('The meeting is at 4');
    await editor.press('Enter');
    const edited = messageRow(bob, 'The meeting is at 4');
    await edited.waitFor();
    expect(await edited.textContent()).toContain('(edited)');
    expect(await messageRow(bob, 'The meeting is at 3').count()).toBe(0);
    await screenshot(bob.page, 'edited');
  });

  it('deletes after asking; the other side keeps a tombstone', async () => {
    await send(bob, 'Oops, wrong room');
    const row = await hovered(bob, 'Oops, wrong room');
    await row.getByRole('button', { name: 'More actions' }).click();
    await bob.page.getByRole('menuitem', { name: /Delete message/ }).click();
    const dialog = bob.page.getByRole('alertdialog', { name: 'Delete your message?' });
    await dialog.waitFor();
    await screenshot(bob.page, 'delete-confirm');
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await expect.poll(() => messageRow(alice, 'Oops, wrong room').count(), poll).toBe(0);
    await alice.page.getByTestId('tombstone').first().waitFor();
    expect(await alice.page.getByTestId('tombstone').first().textContent()).toContain(
      'This message was deleted',
    );
    await screenshot(alice.page, 'deleted');
  });

  it('completes @ from the members and highlights the mention for the one named', async () => {
    await box(alice).click();
    await alice.page.keyboard.type('thanks @b');
    const list = alice.page.getByRole('listbox', { name: 'Members to mention' });
    await list.getByRole('option', { name: /@bob/ }).waitFor();
    await screenshot(alice.page, 'mention-completion');
    await alice.page.keyboard.press('Enter');
    expect(await box(alice).inputValue()).toBe('thanks @bob ');
    await alice.page.keyboard.type('for the notes');
    await alice.page.keyboard.press('Enter');
    const row = messageRow(bob, 'thanks @bob for the notes');
    await row.waitFor();
    expect(await row.getAttribute('class')).toContain('mentioned');
    expect(await row.locator('mark.mention').textContent()).toBe('@bob');
    expect(await messageRow(alice, 'thanks @bob').getAttribute('class')).not.toContain('mentioned');
    await screenshot(bob.page, 'mention');
    await dark(bob.page, 'mention-dark');
  });

  it('works from the keyboard: a message, its menu, and R to reply', async () => {
    const { page } = bob;
    await box(bob).click();
    // Back from the box to the message in the Tab order (one is; the reaction chips below it
    // are stops of their own). A click on a reaction does not move that stop, the focus does.
    for (let i = 0; i < 10; i++) {
      await page.keyboard.press('Shift+Tab');
      if ((await page.evaluate('document.activeElement?.tagName')) === 'ARTICLE') break;
    }
    // The last message focused (the question, jumped to); End goes to the newest.
    await page.keyboard.press('End');
    expect(await page.evaluate('document.activeElement?.textContent ?? ""')).toContain(
      'thanks @bob for the notes',
    );
    await page.keyboard.press('ArrowUp');
    expect(await page.evaluate('document.activeElement?.textContent ?? ""')).toContain(
      'This message was deleted',
    );
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Shift+F10');
    const menu = page.getByRole('menu', { name: 'Message actions' });
    await menu.waitFor();
    expect(await page.evaluate('document.activeElement?.textContent ?? ""')).toContain('Reply');
    await screenshot(page, 'message-menu');
    await expectAccessible(page, 'a message’s menu');
    await page.keyboard.press('Escape');
    await expect.poll(() => menu.count(), poll).toBe(0);
    await page.keyboard.press('r');
    await page.getByTestId('reply-preview').waitFor();
    expect(await page.evaluate('document.activeElement?.id')).toBe('composer-input');
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByTestId('reply-preview').count(), poll).toBe(0);
  });

  it('searches this room and all rooms, and jumps to a result', async () => {
    const { page } = alice;
    await box(alice).click();
    await page.keyboard.press('Control+f');
    const field = page.getByRole('combobox', { name: 'Search messages' });
    await field.waitFor();
    await field.fill('checkl');
    const results = page.getByRole('listbox', { name: 'Results' });
    await results.getByRole('option').first().waitFor();
    expect(await results.getByRole('option').first().locator('mark').first().textContent()).toMatch(
      /^checkl/i,
    );
    expect(await page.getByRole('radio', { name: '#lobby' }).isChecked()).toBe(true);
    await screenshot(page, 'search');
    // A narrow window and 200 % zoom: the panel lies over the room, nothing scrolls sideways.
    expect(await shoot(page, 'search', { sizes: ['400x800', 'zoom200'] })).toEqual([]);
    await dark(page, 'search-dark');
    await expectAccessible(page, 'the search panel with results');
    await field.press('Enter');
    const target = question(alice);
    await expect.poll(() => target.getAttribute('class'), poll).toContain('flash');
    // Every room: Ctrl+Shift+F.
    await page.keyboard.press('Control+Shift+f');
    await expect
      .poll(() => page.getByRole('radio', { name: 'All rooms' }).isChecked(), poll)
      .toBe(true);
    await page.keyboard.press('Escape');
    await expect
      .poll(() => page.getByRole('combobox', { name: 'Search messages' }).count(), poll)
      .toBe(0);
  });

  it('jumps to a reply’s message far back, loading it, and comes back to the latest', async () => {
    const hostId = alice.backend.service.getSnapshot({}).hosts[0]!.connection.hostId;
    const seq = Number(await question(alice).getAttribute('data-seq'));
    expect(seq).toBeGreaterThan(0);
    for (let i = 0; i < 250; i++) {
      bob.backend.service.send({ hostId, room: 'lobby', text: `filler line ${i}` });
    }
    // Alice's view stays where the search put her: ask her install, not her page.
    const newest = async (): Promise<string | undefined> =>
      (await alice.backend.service.loadHistory({ hostId, room: 'lobby', limit: 1 })).messages[0]
        ?.text;
    await expect.poll(newest, { timeout: 30_000, interval: 100 }).toBe('filler line 249');
    alice.backend.service.send({
      hostId,
      room: 'lobby',
      text: 'Back to the checklist',
      replyTo: seq,
    });
    await expect.poll(newest, { timeout: 10_000, interval: 100 }).toBe('Back to the checklist');
    // A fresh page: only the newest 200 are loaded, the question is not.
    await alice.page.reload();
    await messageRow(alice, 'Back to the checklist').waitFor();
    expect(await question(alice).count()).toBe(0);
    await messageRow(alice, 'Back to the checklist')
      .getByRole('button', { name: /^Replying to bob: Where is the deploy/ })
      .click();
    const target = question(alice);
    await expect.poll(() => target.getAttribute('class'), poll).toContain('flash');
    const latest = alice.page.getByRole('button', { name: 'Jump to latest' });
    await latest.waitFor();
    await screenshot(alice.page, 'reply-jump-far');
    await latest.click();
    await messageRow(alice, 'Back to the checklist').waitFor();
  });
});
