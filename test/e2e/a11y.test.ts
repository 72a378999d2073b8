// axe-core on every screen and dialog, in the light and the dark theme: no critical or serious
// WCAG 2.1 A/AA violation (missing names, roles, contrast, focusable things hidden from
// screen readers…). The states are reached as a person would: typing, clicking, pressing keys.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations, expectAccessible } from './axe.ts';
import { type Person, Rig, type TestHost } from './harness.ts';

const rig = new Rig();
let host: TestHost;
let ann: Person;

beforeAll(async () => {
  host = await rig.host();
  ann = await rig.person('ann');
});

afterAll(() => rig.dispose());

describe('the checker', () => {
  it('finds a button without a name, and text that cannot be read', async () => {
    const { page } = ann;
    await page.evaluate(`{
      const probe = document.createElement('div');
      probe.id = 'axe-probe';
      probe.innerHTML = '<button></button><p>faint</p>';
      // Through CSSOM: the page's CSP blocks style attributes.
      probe.lastChild.style.color = '#999';
      probe.lastChild.style.background = '#aaa';
      document.body.append(probe);
    }`);
    const found = (await axeViolations(page)).join('\n');
    await page.evaluate(`document.getElementById('axe-probe').remove()`);
    expect(found).toMatch(/^button-name \(critical\).*#axe-probe > button/m);
    expect(found).toMatch(/^color-contrast \(serious\).*#axe-probe > p/m);
  });
});

describe('the connect screen', () => {
  it('is accessible empty', async () => {
    await ann.page.getByRole('button', { name: 'Connect', exact: true }).waitFor();
    await expectAccessible(ann.page, 'connect screen');
  });

  it('is accessible with an error shown', async () => {
    const { page } = ann;
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await page.locator('[aria-invalid="true"]').first().waitFor();
    await expectAccessible(ann.page, 'connect screen, nothing filled in');
  });

  it('is accessible by address, with a host that refuses', async () => {
    const { page } = ann;
    await page.getByRole('radio', { name: 'Host address' }).check();
    await page.getByRole('textbox', { name: 'Host' }).fill('127.0.0.1');
    await page.getByRole('textbox', { name: 'Port' }).fill('1');
    await page.getByRole('textbox', { name: 'Your nickname' }).fill('ann');
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await page
      .getByText(/refused|can't reach/i)
      .first()
      .waitFor();
    await expectAccessible(ann.page, 'connect screen, host refused');
    void host;
  });
});
