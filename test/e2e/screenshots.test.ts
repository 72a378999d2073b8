// The main states at the four window sizes (harness `shoot`: 1280x800, 800x600, 400x800 and an
// 800x600 window at 200 % zoom), saved to test-results/screenshots/a11y-*.png to be looked at.
// Each shot also checks that nothing spills sideways: at 400 px and at 200 % zoom the page must
// reflow (WCAG 1.4.10), not scroll horizontally.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Person,
  Rig,
  SCREENSHOTS,
  SHOT_SIZES,
  type TestHost,
  connectWithInvite,
  messageRow,
  send,
  shoot,
} from './harness.ts';

const rig = new Rig();
let host: TestHost;
let ann: Person;
let bo: Person;

beforeAll(async () => {
  host = await rig.host({ rooms: ['lobby', 'random', 'design-reviews-and-long-names'] });
  [ann, bo] = await Promise.all([rig.person('ann'), rig.person('bo')]);
});

afterAll(() => rig.dispose());

const topDialog = (page: Page): Locator =>
  page.locator('[role="dialog"], [role="alertdialog"]').last();

/** Shoots the open dialog (or menu, sheet…) at every size, then closes it with Escape. */
async function shootOpened(page: Page, name: string, opened: Locator): Promise<void> {
  await opened.waitFor();
  expect(await shoot(page, name)).toEqual([]);
  await page.keyboard.press('Escape');
  await opened.waitFor({ state: 'hidden' });
}

describe('shoot', () => {
  it('reports the sizes at which the page scrolls sideways', async () => {
    const { page } = ann;
    await page.getByRole('button', { name: 'Connect', exact: true }).waitFor();
    await page.evaluate(`{
      const wide = document.createElement('div');
      wide.id = 'wide-probe';
      wide.style.width = '900px';
      wide.style.height = '1px';
      document.body.append(wide);
    }`);
    try {
      expect(await shoot(page, 'probe-wide')).toEqual(['400x800', 'zoom200', '800x600']);
    } finally {
      await page.evaluate(`document.getElementById('wide-probe').remove()`);
      for (const size of SHOT_SIZES) rmSync(join(SCREENSHOTS, `probe-wide-${size}.png`));
    }
  });
});

describe('connect screen', () => {
  it('empty', async () => {
    await ann.page.getByRole('button', { name: 'Connect', exact: true }).waitFor();
    expect(await shoot(ann.page, 'a11y-connect-empty')).toEqual([]);
  });

  it('with the fields in error', async () => {
    const { page } = ann;
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await page.locator('[aria-invalid="true"]').first().waitFor();
    expect(await shoot(page, 'a11y-connect-error')).toEqual([]);
  });

  it('the trust dialog', async () => {
    const { page } = ann;
    await page.getByRole('radio', { name: 'Host address' }).check();
    await page.getByRole('textbox', { name: 'Host' }).fill('127.0.0.1');
    await page.getByRole('textbox', { name: 'Port' }).fill(String(host.port));
    await page.getByRole('textbox', { name: 'Your nickname' }).fill('ann');
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: /Is this really/ });
    await dialog.waitFor();
    expect(await shoot(page, 'a11y-trust')).toEqual([]);
    await dialog.getByRole('button', { name: /trust and connect/ }).click();
    await page.getByRole('region', { name: /^Messages in #/ }).waitFor();
  });
});

describe('refusals', () => {
  let dee: Person;

  beforeAll(async () => {
    dee = await rig.person('dee');
  });

  it('an invite that does not match the host', async () => {
    const { page } = dee;
    const other = await rig.host();
    const invite = host.running.invite('lobby').replace(`:${host.port}`, `:${other.port}`);
    await page.getByRole('textbox', { name: 'Invite link' }).fill(invite);
    await page.getByLabel('Your nickname').fill('dee');
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await shootOpened(
      page,
      'a11y-key-changed-invite',
      page.getByRole('alertdialog', { name: 'The invite link does not match the host' }),
    );
  });

  it('a host that refuses', async () => {
    const { page } = dee;
    await page.getByRole('radio', { name: 'Host address' }).check();
    await page.getByRole('textbox', { name: 'Host' }).fill('127.0.0.1');
    await page.getByRole('textbox', { name: 'Port' }).fill('1');
    await page.getByRole('textbox', { name: 'Your nickname' }).fill('dee');
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await page
      .getByText(/refused/)
      .first()
      .waitFor();
    expect(await shoot(page, 'a11y-refused')).toEqual([]);
  });
});

describe('chat screen', () => {
  beforeAll(async () => {
    await connectWithInvite(bo, host.running.invite('lobby', { role: 'owner' }), 'bo');
    // By address, Ann landed in the first open room: she joins #lobby from the list.
    await ann.page.getByRole('navigation', { name: 'Rooms' }).getByText('lobby').click();
    await ann.page.getByRole('textbox', { name: 'Message #lobby' }).waitFor();
    await send(ann, 'Morning! Did the build pass? 🎉');
    await send(
      bo,
      'It did — and the long line check: ' +
        'a-very-long-word-without-any-spaces-that-must-wrap-rather-than-push-the-page-sideways ' +
        'https://example.org/a/rather/long/path/that/keeps/going/and/going?with=query&and=more',
    );
    await send(bo, 'مرحبا! هذه رسالة من اليمين إلى اليسار.');
    await send(ann, 'Great 👍🏽');
    await messageRow(bo, 'Great').waitFor();
  });

  it('a room with the members panel', async () => {
    const { page } = bo;
    await page.getByRole('complementary', { name: /Members/ }).waitFor();
    expect(await shoot(page, 'a11y-chat')).toEqual([]);
    await page.emulateMedia({ colorScheme: 'dark' });
    expect(await shoot(page, 'a11y-chat-dark')).toEqual([]);
    await page.getByRole('button', { name: 'Settings' }).click();
    await shootOpened(page, 'a11y-dialog-settings-dark', topDialog(page));
    await page.emulateMedia({ colorScheme: 'light' });
  });

  it('the member menu, whole inside the window at every size', async () => {
    const { page } = bo;
    const members = page.getByRole('complementary', { name: /Members/ });
    const menu = page.getByRole('menu', { name: 'Actions for ann' });
    const outside: string[] = [];
    // A menu closes when the window changes size: opened again at each size.
    const openMenu = async (): Promise<void> => {
      if (!(await menu.isVisible())) {
        if (!(await members.isVisible()))
          await page.getByRole('button', { name: 'Members', exact: true }).click();
        await page.getByRole('button', { name: 'Actions for ann' }).click();
        await menu.waitFor();
      }
      const box = await menu.boundingBox();
      const window = (await page.evaluate('[innerWidth, innerHeight]')) as [number, number];
      if (
        !box ||
        box.y < 0 ||
        box.x < 0 ||
        box.y + box.height > window[1] ||
        box.x + box.width > window[0]
      ) {
        outside.push(`${window.join('x')}: ${JSON.stringify(box)}`);
      }
    };
    expect(await shoot(page, 'a11y-member-menu', { prepare: openMenu })).toEqual([]);
    if (await menu.isVisible()) await page.keyboard.press('Escape');
    await menu.waitFor({ state: 'hidden' });
    expect(outside).toEqual([]);
  });

  it('the notifications menu', async () => {
    const { page } = bo;
    // The members panel would lie over the header's buttons in a narrow window.
    await page.getByRole('button', { name: 'Close members' }).click();
    await page.getByRole('complementary', { name: /Members/ }).waitFor({ state: 'hidden' });
    const menu = page.getByRole('menu', { name: /^Notifications for/ });
    const openMenu = async (): Promise<void> => {
      if (await menu.isVisible()) return;
      await page.getByRole('button', { name: /^Notifications/ }).click();
      await menu.waitFor();
    };
    expect(await shoot(page, 'a11y-mute-menu', { prepare: openMenu })).toEqual([]);
    if (await menu.isVisible()) await page.keyboard.press('Escape');
    await menu.waitFor({ state: 'hidden' });
  });

  it('dialogs: settings, invite, new room, topic, leave, nickname', async () => {
    const { page } = bo;
    const dialogs: [name: string, open: () => Promise<void>][] = [
      ['settings', () => page.getByRole('button', { name: 'Settings' }).click()],
      ['invite', () => page.getByRole('button', { name: 'Invite people' }).click()],
      ['new-room', () => page.getByRole('button', { name: 'New room' }).click()],
      ['topic', () => page.getByRole('button', { name: /Add a topic|Edit topic/ }).click()],
      ['confirm-leave', () => page.getByRole('button', { name: 'Leave room' }).click()],
      ['nick', () => page.getByRole('button', { name: /^Change nickname/ }).click()],
    ];
    for (const [name, open] of dialogs) {
      await open();
      await shootOpened(page, `a11y-dialog-${name}`, topDialog(page));
    }
  });

  it('the shortcuts sheet and the room switcher', async () => {
    const { page } = bo;
    const composer = page.getByRole('textbox', { name: 'Message #lobby' });
    await composer.focus();
    await page.keyboard.press('Control+/');
    await shootOpened(page, 'a11y-shortcuts', topDialog(page));
    await composer.focus();
    await page.keyboard.press('Control+k');
    await shootOpened(page, 'a11y-switcher', topDialog(page));
  });

  it('the rooms drawer, open', async () => {
    const { page } = bo;
    await page.setViewportSize({ width: 400, height: 800 });
    await page.getByRole('button', { name: 'Rooms and hosts' }).click();
    await page.locator('.drawer-scrim').waitFor();
    // The narrow sizes show the drawer; the wider ones, the sidebar it turns back into.
    expect(await shoot(page, 'a11y-drawer')).toEqual([]);
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('the connect screen as "Add a host"', async () => {
    const { page } = bo;
    await page.getByRole('button', { name: 'Add a host' }).click();
    const heading = page.getByRole('heading', { name: 'Add a host' });
    await heading.waitFor();
    expect(await shoot(page, 'a11y-add-host')).toEqual([]);
    await page.keyboard.press('Escape');
    await heading.waitFor({ state: 'detached' });
  });

  it('a direct message', async () => {
    const { page } = bo;
    await page.getByRole('button', { name: 'Actions for ann' }).click();
    await page.getByRole('menuitem', { name: 'Message' }).click();
    await page.getByRole('textbox', { name: /^Message ann/ }).waitFor();
    await send(bo, 'Just between us 🤫');
    await messageRow(bo, 'Just between us').waitFor();
    expect(await shoot(page, 'a11y-dm')).toEqual([]);
  });
});
