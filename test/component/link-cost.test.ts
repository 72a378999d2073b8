import { describe, expect, it } from 'vitest';
import { linkify } from '../../src-renderer/lib/linkify.ts';

// Message text comes from anyone in the room. Finding its links must cost time in proportion
// to its length: a text built to make that quadratic (a URL ending in thousands of brackets)
// would otherwise freeze the window for a fraction of a second per message shown, every time
// the room is drawn.

const hostile = [
  // Balanced brackets: each closing one was checked against all the text before it.
  `see http://example.org/${'('.repeat(8000)}${')'.repeat(8000)}`,
  // A long run of sentence punctuation that does not end the URL.
  `see http://example.org/${')'.repeat(16000)}a`,
];

describe('links in a hostile text', () => {
  it('are found in time proportional to the text', () => {
    const started = performance.now();
    for (let i = 0; i < 20; i++) linkify(hostile[i % hostile.length] as string);
    const elapsed = performance.now() - started;
    // Linear: a few ms each even on a loaded machine. Quadratic: ~200 ms each, 4 s in all.
    expect(elapsed).toBeLessThan(1500);
  });

  it('still keeps balanced brackets and drops sentence punctuation', () => {
    const links = (text: string) =>
      linkify(text).flatMap((s) => (s.kind === 'link' ? [s.text] : []));
    expect(links('(see https://x.org/a_(b)).')).toEqual(['https://x.org/a_(b)']);
    expect(links('go to https://x.org/a)).')).toEqual(['https://x.org/a']);
    expect(links('https://x.org/((a)))')).toEqual(['https://x.org/((a))']);
    expect(links('at https://x.org/path?q=1!?')).toEqual(['https://x.org/path?q=1']);
  });
});
