// The host goes away and comes back: the banner counts down to the next attempt, messages
// written meanwhile are queued and shown as such, and once the host is back they go out.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Person,
  Rig,
  type TestHost,
  connectAll,
  messageRow,
  screenshot,
  send,
} from './harness.ts';

const rig = new Rig();
let host: TestHost;
let dave: Person;
let erin: Person;
const poll = { timeout: 15_000, interval: 50 };

beforeAll(async () => {
  host = await rig.host();
  [dave, erin] = await Promise.all([rig.person('dave'), rig.person('erin')]);
  await connectAll(host, [dave, erin]);
});

afterAll(() => rig.dispose());

describe('a host that goes down and comes back', () => {
  it('shows reconnecting with a countdown, and queues what is sent meanwhile', async () => {
    const { page } = dave;
    const { port, dataDir } = host;
    await host.stop();

    const banner = page.getByTestId('connection-banner');
    await banner.filter({ hasText: /Reconnecting in \d+ s/ }).waitFor();
    await page.getByText('You are offline.').waitFor();
    await send(dave, 'Sent while the host was away');
    const row = messageRow(dave, 'Sent while the host was away');
    expect(await row.getAttribute('data-status')).toBe('queued');
    await row.getByText('Queued').waitFor();
    await banner.filter({ hasText: /Reconnecting in \d+ s/ }).waitFor();
    await screenshot(page, 'reconnecting');

    host = await rig.host({ port, dataDir });
    await banner.waitFor({ state: 'detached', timeout: 15_000 });
    await expect.poll(() => row.getAttribute('data-status'), poll).toBe('sent');
    await messageRow(erin, 'Sent while the host was away').waitFor({ timeout: 15_000 });
  });

  it('keeps chatting both ways after the reconnect', async () => {
    await send(erin, 'Welcome back, dave');
    await messageRow(dave, 'Welcome back, dave').waitFor();
    await send(dave, 'Thanks!');
    await messageRow(erin, 'Thanks!').waitFor();
  });

  it('ran without console errors or CSP violations', () => {
    expect([...dave.problems, ...erin.problems]).toEqual([]);
  });
});
