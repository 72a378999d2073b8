import { render } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import MembersPanel from '../../src-renderer/components/MembersPanel.svelte';
import Timeline from '../../src-renderer/components/Timeline.svelte';
import TypingIndicator from '../../src-renderer/components/TypingIndicator.svelte';
import type { Entry } from '../../src-renderer/lib/rows.ts';
import { NOON, message, presence } from './fixtures.ts';

// Bidirectional and other invisible characters cannot disguise anything: every message, text
// run, link and nickname is bidi-isolated, the invisible characters are shown as markers, and
// a link shows where it really goes. (Layout itself is checked in Chromium: test/e2e/bidi.)

const RLO = '\u202e';
const LRI = '\u2066';
const PDF = '\u202c';

function renderTimeline(entries: Entry[], extra: Record<string, unknown> = {}) {
  return render(Timeline, { room: 'lobby', entries, now: NOON, complete: true, ...extra });
}

/** Every text node under `root` (what the browser lays out). */
function textNodes(root: Node): string[] {
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const found: string[] = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode())
    found.push(node.nodeValue ?? '');
  return found;
}

describe('message text', () => {
  it('is its own bidi paragraph, each run isolated, with bidi controls shown instead of obeyed', () => {
    const { container } = renderTimeline([
      message('bob', `reversed: ${RLO}gnirts terces${PDF} and ${LRI}isolated`, NOON),
      message('alice', 'the next message', NOON + 60_000),
    ]);
    const [bob, alice] = Array.from(container.querySelectorAll('article.message'));
    const text = bob!.querySelector('.text')!;
    expect(text.getAttribute('dir')).toBe('auto');
    // No bidi control reaches the layout: each became a visible, explained marker.
    expect(textNodes(text).join('')).not.toMatch(/[\u202a-\u202e\u2066-\u2069]/);
    const markers = Array.from(text.querySelectorAll('abbr.control'));
    expect(markers.map((m) => m.textContent)).toEqual(['RLO', 'PDF', 'LRI']);
    expect(markers[0]!.getAttribute('title')).toBe('U+202E right-to-left override');
    // The text around them reads as typed.
    expect(text.textContent).toBe('reversed: RLOgnirts tercesPDF and LRIisolated');
    // Text runs and the names around them are isolated.
    // (isolated by CSS, not <bdi>: dir="auto" skips <bdi> when it looks for the first strong
    // character, and would find none — an Arabic message would be laid out left to right).
    expect(text.querySelector(':scope > span.run')).not.toBeNull();
    expect(text.querySelector('bdi, [dir]:not(a, .real-host)')).toBeNull();
    expect(alice!.querySelector('.sender')?.tagName).toBe('BDI');
    expect(alice!.querySelector('.sender')?.textContent).toBe('alice');
    expect(alice!.querySelector('.text')?.textContent).toBe('the next message');
  });

  it('shows other invisible characters too (controls, tag characters), but keeps newlines and tabs', () => {
    const { container } = renderTimeline([
      message('bob', 'a\u0007b\u{e0041}\u{e0042}c\td\ne', NOON),
    ]);
    const text = container.querySelector('article.message .text')!;
    expect(Array.from(text.querySelectorAll('abbr.control')).map((m) => m.textContent)).toEqual([
      'U+0007',
      'U+E0041',
      'U+E0042',
    ]);
    const laidOut = textNodes(text).join('');
    for (const hidden of ['\u0007', '\u{e0041}', '\u{e0042}'])
      expect(laidOut).not.toContain(hidden);
    expect(laidOut).toBe('aU+0007bU+E0041U+E0042c\td\ne');
  });

  it('isolates nicknames in presence lines, the member list and the typing notice', () => {
    const nick = 'שלום-1';
    const { container } = renderTimeline([presence(nick, 'joined', NOON)]);
    const line = container.querySelector('.presence')!;
    expect(line.querySelector('bdi')?.textContent).toBe(nick);
    expect(line.textContent).toMatch(/שלום-1\s+came online/);

    const typing = render(TypingIndicator, { typists: [{ nick, fp: 'FP', until: NOON }] });
    expect(typing.container.querySelector('bdi')?.textContent).toBe(nick);
    expect(typing.container.textContent).toMatch(/שלום-1\s+is typing…/);

    const members = render(MembersPanel, {
      room: 'lobby',
      members: [
        { nick, key: 'C'.repeat(43), fp: 'FP', online: true, self: false, verified: false },
      ],
      onverify: () => {},
      onclose: () => {},
    });
    expect(members.container.querySelector('.nick bdi')?.textContent).toBe(nick);
  });
});

describe('links', () => {
  it('open their real, normalized URL, shown as their title', () => {
    const onopenlink = vi.fn();
    const { container } = renderTimeline([message('bob', 'see HTTPS://Example.com/a b', NOON)], {
      onopenlink,
    });
    const link = container.querySelector('a')!;
    expect(link.getAttribute('href')).toBe('https://example.com/a');
    expect(link.getAttribute('title')).toBe('https://example.com/a');
    expect(link.getAttribute('dir')).toBe('ltr');
    link.click();
    expect(onopenlink).toHaveBeenCalledWith('https://example.com/a');
    // The host is plainly in the text: nothing more to show.
    expect(container.querySelector('.real-host')).toBeNull();
  });

  it('show their real host when the text does not plainly show it (IDN, escapes)', () => {
    const { container } = renderTimeline([
      message('bob', 'log in at https://exаmple.com/login now', NOON), // Cyrillic "а"
      message('bob', 'or https://ex%61mple.org/', NOON + 1),
    ]);
    const [idn, escaped] = Array.from(container.querySelectorAll('article.message .text'));
    expect(idn!.querySelector('a')?.getAttribute('href')).toBe('https://xn--exmple-4nf.com/login');
    expect(idn!.querySelector('.real-host')?.textContent).toBe('→ xn--exmple-4nf.com');
    expect(escaped!.querySelector('.real-host')?.textContent).toBe('→ example.org');
  });

  it('end at a bidi control or invisible character, so none can disguise where they go', () => {
    // Displayed naively, this reads "https://evil.example/https://bank.example".
    const { container } = renderTimeline([
      message(
        'bob',
        `https://evil.example${RLO}/elpmaxe.knab//:sptth and https://a.example\u200b.b.example`,
        NOON,
      ),
    ]);
    const links = Array.from(container.querySelectorAll('a'));
    expect(links.map((a) => a.getAttribute('href'))).toEqual([
      'https://evil.example/',
      'https://a.example/',
    ]);
    expect(links.map((a) => a.textContent)).toEqual(['https://evil.example', 'https://a.example']);
    expect(container.querySelector('abbr.control')?.textContent).toBe('RLO');
  });

  it('are never made of user:pass@ URLs, which say one host and go to another', () => {
    const { container } = renderTimeline([
      message(
        'bob',
        'https://bank.example@evil.example/ and https://bank.example:x@evil.example/',
        NOON,
      ),
    ]);
    expect(container.querySelector('a')).toBeNull();
    expect(container.querySelector('.text')?.textContent).toContain(
      'https://bank.example@evil.example/',
    );
  });
});
