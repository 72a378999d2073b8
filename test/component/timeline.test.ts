import { fireEvent, render, screen, within } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import Timeline from '../../src-renderer/components/Timeline.svelte';
import type { Entry } from '../../src-renderer/lib/rows.ts';
import { NOON, message, presence } from './fixtures.ts';

const MIN = 60_000;

function renderTimeline(entries: Entry[], extra: Record<string, unknown> = {}) {
  return render(Timeline, { room: 'lobby', entries, now: NOON, complete: true, ...extra });
}

const rows = (container: HTMLElement) => Array.from(container.querySelectorAll('li.row'));

describe('Timeline', () => {
  it('groups runs of messages by sender and splits them by day and by long pauses', () => {
    const yesterday = NOON - 24 * 60 * MIN;
    const { container } = renderTimeline([
      message('bob', 'yesterday’s news', yesterday),
      message('bob', 'first', NOON),
      message('bob', 'second', NOON + MIN),
      message('alice', 'reply', NOON + 2 * MIN),
      message('alice', 'after a break', NOON + 20 * MIN),
      presence('carol', 'joined', NOON + 21 * MIN),
      message('alice', 'hi carol', NOON + 22 * MIN),
    ]);
    const articles = Array.from(container.querySelectorAll('article.message'));
    const heads = articles.map((a) => a.classList.contains('head'));
    // new day, same run, new sender, 18-minute pause, after a presence line
    expect(heads).toEqual([true, true, false, true, true, true]);
    expect(screen.getByText('Yesterday')).toBeTruthy();
    expect(screen.getByText('Today')).toBeTruthy();
    expect(container.querySelector('.presence')?.textContent).toMatch(/carol\s+came online/);
    expect(screen.getByText('This is the start of #lobby')).toBeTruthy();
    // A run shows its sender once; later rows name them for screen readers only.
    const second = articles[2]!;
    expect(second.querySelector('.sender')).toBeNull();
    expect(second.querySelector('.visually-hidden')?.textContent).toBe('bob:');
  });

  it('tells own messages apart and shows queued and failed ones', () => {
    const { container } = renderTimeline([
      message('bob', 'from bob', NOON),
      message('alice', 'mine, waiting', NOON + MIN, { status: 'queued', seq: undefined }),
      message('alice', 'mine, refused', NOON + 2 * MIN, { status: 'failed', seq: undefined }),
    ]);
    const [bob, queued, failed] = Array.from(container.querySelectorAll('article.message'));
    expect(bob!.classList.contains('own')).toBe(false);
    expect(queued!.classList.contains('own')).toBe(true);
    expect(within(queued as HTMLElement).getByText('you')).toBeTruthy();
    expect(within(queued as HTMLElement).getByText(/Queued/)).toBeTruthy();
    expect(within(failed as HTMLElement).getByText('Not sent')).toBeTruthy();
  });

  it('shows hostile text as text: no element, no handler, no script', () => {
    const hostile = '<img src=x onerror=alert(1)><script>alert(2)</script><b>bold</b>';
    const { container } = renderTimeline([message('bob', hostile, NOON)]);
    const text = container.querySelector('article.message .text');
    expect(text?.textContent?.trim()).toBe(hostile);
    expect(container.querySelector('img, script, b, [onerror]')).toBeNull();
  });

  it('turns http(s) URLs into links that ask the platform to open them', async () => {
    const onopenlink = vi.fn();
    renderTimeline(
      [message('bob', 'see https://example.com/a?b=1. and javascript:alert(1)', NOON)],
      { onopenlink },
    );
    const links = screen.getAllByRole('link');
    expect(links).toHaveLength(1);
    expect(links[0]!.getAttribute('href')).toBe('https://example.com/a?b=1');
    const click = new MouseEvent('click', { bubbles: true, cancelable: true });
    links[0]!.dispatchEvent(click);
    expect(click.defaultPrevented).toBe(true);
    expect(onopenlink).toHaveBeenCalledWith('https://example.com/a?b=1');
    expect(screen.getByText(/javascript:alert\(1\)/)).toBeTruthy();
  });

  it('renders only the rows near the viewport of a 10 000-message room', () => {
    const entries: Entry[] = [];
    for (let i = 0; i < 10_000; i++) {
      entries.push(message(i % 3 === 0 ? 'alice' : 'bob', `message ${i}`, NOON + i * 1000));
    }
    const started = performance.now();
    const { container } = renderTimeline(entries, { complete: false, more: false });
    const elapsed = performance.now() - started;
    const drawn = rows(container).length;
    expect(drawn).toBeGreaterThan(5);
    expect(drawn).toBeLessThan(150);
    // The canvas still has the height of all of them, so the scrollbar is honest.
    const canvas = container.querySelector<HTMLElement>('.canvas');
    expect(parseFloat(canvas!.style.height)).toBeGreaterThan(10_000 * 20);
    expect(elapsed).toBeLessThan(2000);
  });

  it('asks for older messages when scrolled near the top', async () => {
    const onloadolder = vi.fn();
    const entries = Array.from({ length: 50 }, (_, i) => message('bob', `m${i}`, NOON + i));
    const { container } = renderTimeline(entries, { more: true, complete: false, onloadolder });
    const viewport = container.querySelector<HTMLElement>('[data-testid="timeline"]')!;
    await fireEvent.scroll(viewport);
    expect(onloadolder).toHaveBeenCalled();
  });
});
