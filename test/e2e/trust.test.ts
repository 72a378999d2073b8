// Host trust in the UI: first contact without an invite asks (Cancel is the default and
// Escape means no); a host that comes back with a different key is refused with a warning,
// and the message queued meanwhile never reaches it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Person, Rig, type TestHost, messageRow, screenshot, send } from './harness.ts';

const rig = new Rig();
let host: TestHost;
let carol: Person;
const poll = { timeout: 10_000, interval: 50 };

beforeAll(async () => {
  host = await rig.host();
  carol = await rig.person('carol');
});

afterAll(() => rig.dispose());

async function connectByAddress(person: Person, port: number): Promise<void> {
  const { page } = person;
  await page.getByRole('radio', { name: 'Host address' }).check();
  await page.getByRole('textbox', { name: 'Host' }).fill('127.0.0.1');
  await page.getByRole('textbox', { name: 'Port' }).fill(String(port));
  await page.getByRole('textbox', { name: 'Your nickname' }).fill('carol');
  await page.getByRole('button', { name: 'Connect', exact: true }).click();
}

describe('trusting a host', () => {
  it('asks on first contact, with Cancel as the default and Escape as no', async () => {
    const { page } = carol;
    await connectByAddress(carol, host.port);
    const dialog = page.getByRole('dialog', { name: /Is this really 127\.0\.0\.1:\d+\?/ });
    await dialog.waitFor();
    const print = dialog.getByRole('group', { name: /Host fingerprint/ });
    expect(await print.getAttribute('aria-label')).toBe(
      `Host fingerprint: ${host.running.fingerprint}`,
    );
    expect(await page.locator(':focus').textContent()).toContain('Cancel');
    await screenshot(page, 'trust');

    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    await page.getByRole('alert').filter({ hasText: 'did not trust' }).waitFor();
    expect(host.events).not.toContain('client-joined');
  });

  it('connects once the fingerprint is trusted, and pins it', async () => {
    const { page } = carol;
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: /Is this really/ });
    await dialog.getByRole('button', { name: /trust and connect/ }).click();
    await page.getByRole('region', { name: 'Messages in #lobby' }).waitFor();
    await page.getByText('Trusted on first use').waitFor();
    // The dialog gone, the cursor is where the next thing is typed, not on <body>.
    await expect
      .poll(() => page.evaluate(() => document.activeElement?.id), poll)
      .toBe('composer-input');
    await send(carol, 'First message to the real host');
    await expect
      .poll(() => messageRow(carol, 'First message').getAttribute('data-status'), poll)
      .toBe('sent');
  });

  it('refuses the host when it comes back with another key, and sends nothing to it', async () => {
    const { page } = carol;
    const port = host.port;
    await host.stop();
    await page.getByTestId('connection-banner').filter({ hasText: 'Reconnecting' }).waitFor();

    // Written while the host is away: queued, and it must never reach an impostor.
    await send(carol, 'For the real host only');
    await expect
      .poll(() => messageRow(carol, 'For the real host only').getAttribute('data-status'), poll)
      .toBe('queued');

    const impostor = await rig.host({ port });
    const dialog = page.getByRole('alertdialog', { name: 'The host’s key has changed' });
    await dialog.waitFor();
    const groups = async (name: RegExp) =>
      (await dialog.getByRole('group', { name }).getAttribute('aria-label'))?.split(': ')[1];
    expect(await groups(/you trusted/)).toBe(host.running.fingerprint);
    expect(await groups(/presented now/)).toBe(impostor.running.fingerprint);
    expect(await page.locator(':focus').textContent()).toContain('Don’t connect');
    await screenshot(page, 'key-changed');

    // The handshake stopped before Carol's hello: the impostor never admitted her.
    expect(impostor.events).not.toContain('client-joined');
    await page.keyboard.press('Enter');
    await dialog.waitFor({ state: 'detached' });
    await page
      .getByTestId('connection-banner')
      .filter({ hasText: 'the host’s key has changed' })
      .waitFor();
    expect(impostor.events).not.toContain('client-joined');
    expect(impostor.running.clientCount).toBe(0);
    expect(await messageRow(carol, 'For the real host only').getAttribute('data-status')).toBe(
      'queued',
    );
  });

  it('goes back to the connect screen, which lists the recent host', async () => {
    const { page } = carol;
    await screenshot(page, 'key-refused');
    await page.getByRole('button', { name: 'Disconnect' }).click();
    await page.getByRole('heading', { name: 'Join a conversation' }).waitFor();
    // The last host gone, the cursor is in the connect form's first field.
    await expect
      .poll(() => page.evaluate(() => document.activeElement?.id), poll)
      .toMatch(/^(invite|host)$/);
    const recent = page.getByRole('region', { name: 'Recent hosts' });
    await recent.getByText(`127.0.0.1:${host.port}`).waitFor();
    await recent.getByText('as carol').waitFor();
    await screenshot(page, 'connect-recent');
  });

  it('ran without console errors or CSP violations', () => {
    expect(carol.problems).toEqual([]);
  });
});
