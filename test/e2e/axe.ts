// axe-core's WCAG 2.0/2.1 A and AA rules, run in the page as it is on screen, in the light and
// the dark theme. Critical and serious findings fail, and the page-structure rules in ALWAYS;
// the message names each rule and the elements it found, so a failure says what to fix without
// a rerun.
import { AxeBuilder } from '@axe-core/playwright';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';

const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
/**
 * Best-practice rules that fail at any impact (axe rates them moderate): headings that skip a
 * level, content outside any landmark, and landmarks doubled or missing — the structure a
 * screen-reader user navigates by.
 */
const ALWAYS = new Set([
  'heading-order',
  'region',
  'landmark-one-main',
  'landmark-unique',
  'landmark-no-duplicate-main',
  'page-has-heading-one',
]);
const SCHEMES = ['light', 'dark'] as const;

/** One line per violation: rule id, impact, and the selectors of the elements it found. */
export async function axeViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).withTags([...TAGS, 'best-practice']).analyze();
  return results.violations
    .filter(
      (violation) =>
        violation.impact === 'critical' ||
        violation.impact === 'serious' ||
        ALWAYS.has(violation.id),
    )
    .map(
      (violation) =>
        `${violation.id} (${violation.impact}): ${violation.help} — ` +
        violation.nodes
          .map((node) => {
            const why = node.any[0]?.message ?? node.all[0]?.message ?? '';
            return `${node.target.join(' ')}${why ? ` [${why}]` : ''}`;
          })
          .join('; '),
    );
}

/**
 * Expects no critical or serious violations on the page as it is, under the light and the dark
 * colour scheme (the theme setting is "system", so prefers-color-scheme picks the theme).
 * `state` names the screen in the failure message.
 */
export async function expectAccessible(page: Page, state: string): Promise<void> {
  const backgrounds = new Set<string>();
  try {
    for (const colorScheme of SCHEMES) {
      await page.emulateMedia({ colorScheme });
      backgrounds.add(await page.evaluate('getComputedStyle(document.body).backgroundColor'));
      expect.soft(await axeViolations(page), `${state}, ${colorScheme} theme`).toEqual([]);
    }
    // Both themes were really checked (a theme setting other than "system" would pin one).
    expect(backgrounds.size, `${state}: the page did not change theme`).toBe(2);
  } finally {
    await page.emulateMedia({ colorScheme: 'light' });
  }
}
