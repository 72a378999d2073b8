// Slash commands in the message box, against a real host: /nick, /join, /leave, /me, /help,
// //text sent as /text, an unknown command kept back, the completion list, and the byte counter.
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  type Person,
  Rig,
  type TestHost,
  connectWithInvite,
  messageRow,
  send,
  shoot,
} from './harness.ts';
import { expectAccessible } from './axe.ts';

const rig = new Rig();
let host: TestHost;
let alice: Person;
let bob: Person;

beforeAll(async () => {
  host = await rig.host({ rooms: ['lobby', 'random'] });
  alice = await rig.person('alice');
  bob = await rig.person('bob');
  await connectWithInvite(alice, host.running.invite('lobby', { role: 'owner' }), 'alice');
  await connectWithInvite(bob, host.running.invite('lobby'), 'bob');
  // The members panel would lie over the message box in the narrow screenshots.
  await alice.page.getByRole('button', { name: 'Close members' }).click();
});

afterAll(() => rig.dispose());

const box = (person: Person, room = 'lobby') =>
  person.page.getByRole('textbox', { name: `Message #${room}` });

it('sends //x as the text /x', async () => {
  await send(alice, '//shrug');
  await messageRow(bob, '/shrug').waitFor();
  expect(await box(alice).inputValue()).toBe('');
  expect(alice.problems).toEqual([]);
});

it('keeps an unknown command back and says how to send it as text', async () => {
  await send(alice, '/shrug now');
  const alert = alice.page.getByRole('alert').filter({ hasText: 'Unknown command /shrug' });
  await alert.waitFor();
  expect(await alert.textContent()).toContain('type //shrug to send it as text');
  expect(await box(alice).inputValue()).toBe('/shrug now');
  await alice.page.waitForTimeout(300);
  expect(await messageRow(bob, 'shrug now').count()).toBe(0);
  await box(alice).fill('');
  expect(alice.problems).toEqual([]);
});

it('changes the nickname with /nick, seen by others', async () => {
  await send(alice, '/nick alice_w');
  await alice.page.getByRole('button', { name: /^Change nickname: alice_w,/ }).waitFor();
  await bob.page.getByRole('list', { name: 'Members of #lobby' }).getByText('alice_w').waitFor();
  expect(await box(alice).inputValue()).toBe('');
  // A name the contract refuses is never sent: the reason shows and the draft stays.
  await send(alice, '/nick two words');
  await alice.page
    .getByRole('alert')
    .filter({ hasText: /1–32 letters/ })
    .waitFor();
  expect(await box(alice).inputValue()).toBe('/nick two words');
  await box(alice).fill('');
  expect(alice.problems).toEqual([]);
});

it('sends /me as an action', async () => {
  await send(alice, '/me waves');
  await messageRow(bob, 'waves').waitFor();
  expect(alice.problems).toEqual([]);
});

it('offers the commands while one is typed, and completes with Tab', async () => {
  const { page } = alice;
  await box(alice).fill('');
  await box(alice).pressSequentially('/');
  const list = page.getByRole('listbox', { name: 'Commands' });
  await list.waitFor();
  expect(await list.getByRole('option').count()).toBe(5);
  await page.keyboard.type('jo');
  await expect.poll(() => list.getByRole('option').count()).toBe(1);
  await shoot(page, 'slash-completion');
  await expectAccessible(page, 'the command completion list');
  await page.keyboard.press('Tab');
  expect(await box(alice).inputValue()).toBe('/join ');
  expect(await list.count()).toBe(0);
  await page.keyboard.press('Escape'); // nothing open: Escape does not clear the draft
  await box(alice).fill('');
  expect(alice.problems).toEqual([]);
});

it('joins a room with /join and goes there; /leave asks first', async () => {
  const { page } = alice;
  await send(alice, '/join #random');
  await page.getByRole('region', { name: 'Messages in #random' }).waitFor();
  const here = box(alice, 'random');
  await expect.poll(() => here.evaluate((el) => el === document.activeElement)).toBe(true);
  // A command half-typed here stays in #random's draft; coming back does not reopen the list.
  const list = page.getByRole('listbox', { name: 'Commands' });
  const rooms = page.locator('nav[aria-label="Rooms"]');
  await here.pressSequentially('/le');
  await list.waitFor();
  await rooms.locator('button[data-room="lobby"]').click();
  await page.getByRole('region', { name: 'Messages in #lobby' }).waitFor();
  await rooms.locator('button[data-room="random"]').click();
  await page.getByRole('region', { name: 'Messages in #random' }).waitFor();
  await expect.poll(() => here.evaluate((el) => el === document.activeElement)).toBe(true);
  expect(await here.inputValue()).toBe('/le');
  expect(await list.count()).toBe(0);
  // Typing goes on after the kept draft, not before it.
  await page.keyboard.type('a');
  expect(await here.inputValue()).toBe('/lea');
  await list.waitFor();
  await here.fill('');
  // A room that is not on the host (or is private) is not joined, and says why.
  await send(alice, '/join nowhere');
  await page.getByRole('alert').filter({ hasText: 'There is no open room #nowhere' }).waitFor();
  expect(await box(alice, 'random').inputValue()).toBe('/join nowhere');
  await box(alice, 'random').fill('');
  await send(alice, '/leave');
  const confirm = page.getByRole('alertdialog', { name: 'Leave #random?' });
  await confirm.waitFor();
  await confirm.getByRole('button', { name: 'Leave room' }).click();
  await page.getByRole('region', { name: 'Messages in #lobby' }).waitFor();
  await expect.poll(() => box(alice).evaluate((el) => el === document.activeElement)).toBe(true);
  expect(alice.problems).toEqual([]);
});

it('opens the commands with /help', async () => {
  const { page } = alice;
  await send(alice, '/help');
  const sheet = page.getByRole('dialog', { name: 'Keyboard shortcuts and commands' });
  await sheet.waitFor();
  await sheet.getByText('/join ROOM').waitFor();
  await page.keyboard.press('Escape');
  await sheet.waitFor({ state: 'detached' });
  expect(alice.problems).toEqual([]);
});

it('counts bytes near the 16 KiB limit and refuses to send over it', async () => {
  const { page } = alice;
  const counter = page.locator('#composer-count');
  await box(alice).fill('a'.repeat(14_000));
  expect(await counter.count()).toBe(0);
  await box(alice).fill('a'.repeat(15_800));
  await expect.poll(() => counter.textContent()).toContain('15\u00a0800 / 16\u00a0384 bytes');
  expect(
    await page.getByRole('status').filter({ hasText: 'Close to the message limit' }).count(),
  ).toBe(1);
  // 5 462 euro signs are 16 386 bytes of UTF-8, though only 5 462 characters.
  await box(alice).fill('€'.repeat(5462));
  await expect.poll(() => counter.textContent()).toContain('16\u00a0386 / 16\u00a0384 bytes');
  await shoot(page, 'slash-byte-counter-over');
  await box(alice).press('Enter');
  await page.getByRole('alert').filter({ hasText: 'Too long to send' }).waitFor();
  expect(await box(alice).inputValue()).toBe('€'.repeat(5462));
  expect(await page.getByRole('button', { name: 'Send' }).isDisabled()).toBe(true);
  await box(alice).fill('');
  expect(alice.problems).toEqual([]);
});
