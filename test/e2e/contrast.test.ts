// The colour pairs the private-room UI puts text on, checked in both themes against WCAG AA
// (4.5:1 for normal text): the red confirm buttons (Remove, Ban, Leave room), the Owner and Admin
// badges, the notices and the hints. Tokens are read from global.css itself.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// Here rather than in test/component: it reads the stylesheet from disk (no browser needed), and
// the component tests are typed for the page, without Node's modules.
const css = readFileSync(
  resolve(import.meta.dirname, '../../src-renderer/styles/global.css'),
  'utf8',
);

function token(name: string, scheme: 'light' | 'dark'): string {
  const match = new RegExp(`--${name}:\\s*([^;]+);`).exec(css);
  if (!match) throw new Error(`no --${name}`);
  const value = match[1]!.trim();
  const pair = /^light-dark\(\s*(#[0-9a-f]{6}),\s*(#[0-9a-f]{6})\s*\)$/i.exec(value);
  if (pair) return scheme === 'light' ? pair[1]! : pair[2]!;
  if (/^#[0-9a-f]{6}$/i.test(value)) return value;
  throw new Error(`--${name} is not a plain colour: ${value}`);
}

function luminance(hex: string): number {
  const channel = (i: number): number => {
    const v = Number.parseInt(hex.slice(1 + 2 * i, 3 + 2 * i), 16) / 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(0) + 0.7152 * channel(1) + 0.0722 * channel(2);
}

function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

const PAIRS: [text: string, background: string][] = [
  ['on-danger', 'danger-strong'],
  ['on-accent', 'accent'],
  ['warn', 'warn-soft'],
  ['accent-text', 'surface'],
  ['text-2', 'warn-soft'],
  ['text-2', 'surface-2'],
  ['danger', 'surface'],
];

describe('text colours on their backgrounds', () => {
  for (const scheme of ['light', 'dark'] as const) {
    it.each(PAIRS)(`${scheme}: --%s on --%s reads at 4.5:1 or more`, (text, background) => {
      expect(contrast(token(text, scheme), token(background, scheme))).toBeGreaterThanOrEqual(4.5);
    });
  }
});
