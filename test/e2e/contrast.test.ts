// Text colours on the backgrounds they are drawn on, checked in both themes against WCAG AA
// (4.5:1 for normal text): the filled buttons (red confirm buttons such as Don't connect or
// Remove, the accent ones), the badges, notices and hints, and every text colour on every
// surface, so a token change cannot make text unreadable somewhere the eye did not check.
// Tokens are read from global.css itself. (axe in a11y.test.ts checks the rendered screens.)
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

// Text colours (member colours included) and the surfaces, panels and tints text sits on.
const TEXTS = ['text', 'text-2', 'text-3', 'accent-text', 'danger', 'warn', 'ok'];
const MEMBER_HUES = Array.from({ length: 8 }, (_, i) => `hue-${i}`);
const SURFACES = [
  'bg',
  'sidebar',
  'surface',
  'surface-2',
  'surface-3',
  'selected',
  'own',
  'accent-soft',
  'danger-soft',
  'warn-soft',
  'ok-soft',
];

describe('text colours on their backgrounds', () => {
  for (const scheme of ['light', 'dark'] as const) {
    it.each(PAIRS)(`${scheme}: --%s on --%s reads at 4.5:1 or more`, (text, background) => {
      expect(contrast(token(text, scheme), token(background, scheme))).toBeGreaterThanOrEqual(4.5);
    });

    it(`${scheme}: every text colour reads at 4.5:1 or more on every surface`, () => {
      const failing = [...TEXTS, ...MEMBER_HUES].flatMap((text) =>
        SURFACES.flatMap((background) => {
          const ratio = contrast(token(text, scheme), token(background, scheme));
          return ratio < 4.5 ? [`--${text} on --${background}: ${ratio.toFixed(2)}:1`] : [];
        }),
      );
      expect(failing).toEqual([]);
    });
  }
});
