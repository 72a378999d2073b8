// The main states at the four window sizes (harness `shoot`: 1280x800, 800x600, 400x800 and an
// 800x600 window at 200 % zoom), saved to test-results/screenshots/ to be looked at. Each shot
// also checks that nothing spills sideways out of the window: at 400 px and at 200 % zoom the
// page must reflow (WCAG 1.4.10), not scroll horizontally.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Person, Rig, type TestHost, shoot } from './harness.ts';

const rig = new Rig();
let host: TestHost;
let ann: Person;

beforeAll(async () => {
  host = await rig.host();
  ann = await rig.person('ann');
});

afterAll(() => rig.dispose());

describe('connect screen', () => {
  it('empty', async () => {
    await ann.page.getByRole('button', { name: 'Connect', exact: true }).waitFor();
    expect(await shoot(ann.page, 'a11y-connect-empty')).toEqual([]);
    void host;
  });
});
