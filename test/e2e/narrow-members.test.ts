// The members panel in a narrow window (420 px: an 840 px window at 200 % zoom): it lies over
// the room, and each member's role stays readable instead of being cut off at the panel's edge.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Person, Rig, type TestHost, connectWithInvite } from './harness.ts';

const rig = new Rig();
let host: TestHost;
let alice: Person;

beforeAll(async () => {
  host = await rig.host({ rooms: ['lobby'] });
  alice = await rig.person('alice');
});

afterAll(() => rig.dispose());

it('shows the Owner badge and Close inside the panel at 420 px', async () => {
  await connectWithInvite(alice, host.running.invite('lobby', { role: 'owner' }), 'alice');
  const { page } = alice;
  const list = page.getByRole('list', { name: 'Members of #lobby' });
  await list.getByText('Owner').waitFor();
  await page.setViewportSize({ width: 420, height: 800 });
  // Narrowing closes it (it would cover the room); opened again, it lies over the room.
  const toggle = page.getByRole('button', { name: 'Members', exact: true });
  await expect.poll(() => toggle.getAttribute('aria-pressed')).toBe('false');
  await toggle.click();
  const panel = (await page.locator('aside', { has: list }).boundingBox())!;
  for (const target of [
    list.getByText('Owner'),
    page.getByRole('button', { name: 'Close members' }),
  ]) {
    const box = (await target.boundingBox())!;
    expect(box.x + box.width).toBeLessThanOrEqual(Math.min(panel.x + panel.width, 420));
  }
  expect(alice.problems).toEqual([]);
});
