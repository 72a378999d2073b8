import { fireEvent, render, screen } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import Timeline from '../../src-renderer/components/Timeline.svelte';
import { actionOf, spokenText } from '../../src-renderer/lib/action.ts';
import { FOLD_LINES, estimatedLines, mayFold } from '../../src-renderer/lib/fold.ts';
import { buildRows, estimateHeight } from '../../src-renderer/lib/rows.ts';
import type { Entry } from '../../src-renderer/lib/rows.ts';
import { ScrollPositions } from '../../src-renderer/state/scroll-positions.svelte.ts';
import { NOON, message, presence } from './fixtures.ts';

// Text for everyone: long messages folded, "/me" shown as an action, right-to-left text laid
// out right to left. (The layout itself is checked in Chromium: test/e2e/text.test.ts.)

function renderTimeline(entries: Entry[]) {
  return render(Timeline, {
    room: 'lobby',
    entries,
    now: NOON,
    complete: true,
    positions: new ScrollPositions(),
  });
}

const LONG = 'A sentence that goes on for a while. '.repeat(433).slice(0, 16_000);

describe('a long message', () => {
  it('is folded with "Show more", which unfolds it and becomes "Show less"', async () => {
    const { container } = renderTimeline([
      message('bob', LONG, NOON),
      message('bob', 'short', NOON),
    ]);
    const [long, short] = Array.from(container.querySelectorAll('article.message'));
    const text = long!.querySelector<HTMLElement>('.text')!;
    expect(text.classList.contains('folded')).toBe(true);
    expect(text.classList.contains('open')).toBe(false);
    // All of it is there for a screen reader and for copying; the fold only limits its height.
    expect(text.textContent).toBe(LONG);
    const more = screen.getByRole('button', { name: 'Show more' });
    expect(more.getAttribute('aria-expanded')).toBe('false');
    expect(more.getAttribute('aria-controls')).toBe(text.id);
    expect(short!.querySelector('.folded, button')).toBeNull();

    await fireEvent.click(more);
    expect(text.classList.contains('open')).toBe(true);
    const less = screen.getByRole('button', { name: 'Show less' });
    expect(less.getAttribute('aria-expanded')).toBe('true');
    await fireEvent.click(less);
    expect(text.classList.contains('open')).toBe(false);
    expect(screen.getByRole('button', { name: 'Show more' })).toBeTruthy();
  });

  it('counts as a few hundred pixels until measured, not as thousands', () => {
    const [row] = buildRows([message('bob', LONG, NOON)], NOON).filter((r) => r.kind === 'message');
    const height = estimateHeight(row!);
    expect(height).toBeLessThan(FOLD_LINES * 20 + 100);
    expect(height).toBeGreaterThan(FOLD_LINES * 20);
  });

  it('is told apart by its lines, wrapped in the narrowest column', () => {
    expect(mayFold('hello')).toBe(false);
    expect(mayFold('line\n'.repeat(FOLD_LINES - 1))).toBe(false);
    expect(mayFold('line\n'.repeat(FOLD_LINES + 1))).toBe(true);
    // 21 lines of 40 characters at 400 px.
    expect(mayFold('x'.repeat(40 * FOLD_LINES + 1))).toBe(true);
    expect(estimatedLines('ab\n\ncd', 1)).toBe(5);
  });
});

describe('"/me"', () => {
  it('shows a message starting with "/me " as an action: "* bob waves", in italics', () => {
    const { container } = renderTimeline([
      message('bob', '/me waves', NOON),
      message('bob', '/me', NOON + 1),
      message('bob', '/meow', NOON + 2),
    ]);
    const [action, bare, meow] = Array.from(container.querySelectorAll('article.message .text'));
    expect(action!.classList.contains('action')).toBe(true);
    expect(action!.textContent).toBe('* bob waves');
    expect(action!.querySelector('.actor bdi')?.textContent).toBe('bob');
    // Not actions: nothing after "/me", or no space after it.
    expect(bare!.textContent).toBe('/me');
    expect(meow!.textContent).toBe('/meow');
    expect(bare!.classList.contains('action') || meow!.classList.contains('action')).toBe(false);
  });

  it('is spoken as "bob waves"', () => {
    expect(actionOf('/me waves at @alice')).toBe('waves at @alice');
    expect(actionOf('/me   ')).toBeNull();
    expect(spokenText('bob', '/me waves')).toBe('bob waves');
    expect(spokenText('bob', 'hi')).toBe('bob: hi');
  });
});

describe('right-to-left text', () => {
  it('takes its direction from its first strong character: dir="auto", nothing that hides it', () => {
    const { container } = renderTimeline([message('bob', 'مرحبا بالجميع!', NOON)]);
    const text = container.querySelector('article.message .text')!;
    expect(text.getAttribute('dir')).toBe('auto');
    // dir="auto" skips <bdi> and elements with a dir of their own when it looks for the first
    // strong character: the words must not be inside one.
    const words = Array.from(text.querySelectorAll('*')).find((el) =>
      el.textContent?.includes('مرحبا'),
    );
    expect(words?.closest('bdi, [dir]:not(.text)')).toBeNull();
    expect(container.querySelector('.sender')?.getAttribute('dir')).toBe('auto');
  });
});

describe('presence lines', () => {
  it('read as one phrase, with single spaces, names isolated', () => {
    const renamed = presence('alice', 'renamed', NOON);
    if (renamed.kind !== 'presence') throw new Error('presence');
    const entries: Entry[] = [
      presence('bob', 'left', NOON),
      { ...renamed, presence: { ...renamed.presence, newNick: 'alexandra' } },
    ];
    const { container } = renderTimeline(entries);
    const words = Array.from(container.querySelectorAll('.presence .what'), (w) => w.textContent);
    expect(words).toEqual(['bob went offline', 'alice is now alexandra']);
    expect(container.querySelectorAll('.presence .what bdi[dir="auto"]')).toHaveLength(3);
  });
});

describe('a mention of us', () => {
  it('is highlighted where others write @our-nick, by the rule the service counts', () => {
    const { container } = render(Timeline, {
      room: 'lobby',
      entries: [
        message('bob', 'hi @Alice, see @alicia and me@alice.example', NOON),
        message('alice', 'I wrote @alice myself', NOON + 1),
      ],
      now: NOON,
      complete: true,
      me: 'alice',
      positions: new ScrollPositions(),
    });
    const [theirs, ours] = Array.from(container.querySelectorAll('article.message .text'));
    expect(Array.from(theirs!.querySelectorAll('mark.mention'), (m) => m.textContent)).toEqual([
      '@Alice',
    ]);
    expect(theirs!.textContent).toBe('hi @Alice, see @alicia and me@alice.example');
    expect(ours!.querySelector('mark')).toBeNull();
  });
});
