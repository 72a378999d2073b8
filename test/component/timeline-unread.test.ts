import { fireEvent, render, screen } from '@testing-library/svelte';
import { tick } from 'svelte';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import Timeline from '../../src-renderer/components/Timeline.svelte';
import type { Entry } from '../../src-renderer/lib/rows.ts';
import { ScrollPositions } from '../../src-renderer/state/scroll-positions.svelte.ts';
import { NOON, message } from './fixtures.ts';

// Where you left off: the "New messages" line, opening at it, the pill that jumps to it, and
// the scroll position kept per room across a room switch. jsdom has no layout: row heights
// are the timeline's estimates, and the viewport's size is given by hand.

const VIEW = 600;

function history(count: number, from = 'bob'): Entry[] {
  return Array.from({ length: count }, (_, i) => message(from, `message ${i}`, NOON + i * 1000));
}

const seqOf = (entry: Entry | undefined): number =>
  entry?.kind === 'message' ? (entry.message.seq ?? -1) : -1;

/**
 * A little layout for the timeline's viewport, as a browser reports it: VIEW pixels tall,
 * as tall inside as its canvas, its scrollTop kept between 0 and the bottom.
 */
const scrolled = new WeakMap<Element, number>();
const isViewport = (element: Element) => element.matches('[data-testid="timeline"]');
const canvasHeight = (element: Element) =>
  parseFloat(element.querySelector<HTMLElement>('.canvas')?.style.height ?? '0') || 0;
const original = {
  clientHeight: Object.getOwnPropertyDescriptor(Element.prototype, 'clientHeight')!,
  scrollHeight: Object.getOwnPropertyDescriptor(Element.prototype, 'scrollHeight')!,
  scrollTop: Object.getOwnPropertyDescriptor(Element.prototype, 'scrollTop')!,
};
beforeAll(() => {
  Object.defineProperties(Element.prototype, {
    clientHeight: {
      configurable: true,
      get(this: Element) {
        return isViewport(this) ? VIEW : original.clientHeight.get!.call(this);
      },
    },
    scrollHeight: {
      configurable: true,
      get(this: Element) {
        return isViewport(this) ? canvasHeight(this) : original.scrollHeight.get!.call(this);
      },
    },
    scrollTop: {
      configurable: true,
      get(this: Element) {
        return isViewport(this) ? (scrolled.get(this) ?? 0) : original.scrollTop.get!.call(this);
      },
      set(this: Element, top: number) {
        if (!isViewport(this)) return original.scrollTop.set!.call(this, top);
        scrolled.set(this, Math.max(0, Math.min(top, canvasHeight(this) - VIEW)));
      },
    },
  });
});
afterAll(() => void Object.defineProperties(Element.prototype, original));

const viewportOf = (container: HTMLElement) =>
  container.querySelector<HTMLElement>('[data-testid="timeline"]')!;

async function scrollTo(viewport: HTMLElement, top: number): Promise<void> {
  viewport.scrollTop = top;
  await fireEvent.scroll(viewport);
  await tick();
}

const fromBottom = (viewport: HTMLElement) =>
  viewport.scrollHeight - viewport.scrollTop - viewport.clientHeight;

describe('the "New messages" line', () => {
  it('is a named separator above the first unread message, and the room opens at it', () => {
    const entries = history(300);
    const { container } = render(Timeline, {
      room: 'lobby',
      entries,
      now: NOON,
      firstUnreadSeq: seqOf(entries[150]),
      positions: new ScrollPositions(),
    });
    const separator = screen.getByRole('separator', { name: 'New messages' });
    // Right above "message 150", which shows its sender's name again.
    const next = separator.closest('li')!.nextElementSibling!;
    expect(next.querySelector('.text')?.textContent).toBe('message 150');
    expect(next.querySelector('.sender')?.textContent).toBe('bob');
    expect(container.querySelectorAll('[role="separator"]')).toHaveLength(1);
    // Opened at the line, not at the bottom: what was read before it is drawn, the newest not.
    const viewport = viewportOf(container);
    expect(fromBottom(viewport)).toBeGreaterThan(VIEW * 2);
    expect(screen.getByText('message 148')).toBeTruthy();
    expect(screen.queryByText('message 299')).toBeNull();
    // It is in view, so there is nothing to jump to.
    expect(screen.queryByRole('button', { name: 'Jump to first unread' })).toBeNull();
  });

  it('is not drawn without unread messages, and the room opens at the newest one', () => {
    render(Timeline, {
      room: 'lobby',
      entries: history(300),
      now: NOON,
      positions: new ScrollPositions(),
    });
    expect(screen.queryByRole('separator')).toBeNull();
    expect(screen.getByText('message 299')).toBeTruthy();
    expect(screen.queryByText('message 150')).toBeNull();
  });

  it('waits for older pages when the first unread is older than what is loaded', async () => {
    const all = history(400);
    const onloadolder = vi.fn();
    const { rerender } = render(Timeline, {
      room: 'lobby',
      entries: all.slice(200),
      more: true,
      complete: false,
      now: NOON,
      firstUnreadSeq: seqOf(all[100]),
      onloadolder,
      positions: new ScrollPositions(),
    });
    // The oldest loaded message is not the first unread: no line over it, and a page is asked for.
    expect(screen.queryByRole('separator')).toBeNull();
    expect(onloadolder).toHaveBeenCalled();
    await rerender({ entries: all.slice(0), more: false, complete: true });
    const separator = screen.getByRole('separator', { name: 'New messages' });
    expect(separator.closest('li')!.nextElementSibling!.textContent).toContain('message 100');
  });

  it('offers "Jump to first unread" while it is out of view, and jumps there', async () => {
    const entries = history(300);
    const { container } = render(Timeline, {
      room: 'lobby',
      entries,
      now: NOON,
      firstUnreadSeq: seqOf(entries[150]),
      positions: new ScrollPositions(),
    });
    const viewport = viewportOf(container);
    const atLine = viewport.scrollTop;
    await scrollTo(viewport, viewport.scrollHeight - VIEW);
    const jump = screen.getByRole('button', { name: 'Jump to first unread' });
    await fireEvent.click(jump);
    await tick();
    expect(Math.abs(viewport.scrollTop - atLine)).toBeLessThan(2);
    expect(screen.getByRole('separator', { name: 'New messages' })).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Jump to first unread' })).toBeNull();
    // The button that was pressed is gone: focus is on the messages, not on nothing.
    expect(document.activeElement).toBe(viewport);

    // Dismissed, the pill stays away.
    await scrollTo(viewport, viewport.scrollHeight - VIEW);
    await fireEvent.click(screen.getByRole('button', { name: 'Dismiss Jump to first unread' }));
    expect(screen.queryByRole('button', { name: 'Jump to first unread' })).toBeNull();
  });

  it('"Jump to latest" appears far from the bottom and goes back there', async () => {
    const { container } = render(Timeline, {
      room: 'lobby',
      entries: history(300),
      now: NOON,
      positions: new ScrollPositions(),
    });
    const viewport = viewportOf(container);
    await scrollTo(viewport, 1000);
    await fireEvent.click(screen.getByRole('button', { name: /Jump to latest/ }));
    await tick();
    expect(fromBottom(viewport)).toBe(0);
    expect(document.activeElement).toBe(viewport);
  });
});

describe('the scroll position of each room', () => {
  it('comes back after switching to another room and back', async () => {
    const positions = new ScrollPositions();
    const lobby = history(300);
    const first = render(Timeline, {
      room: 'lobby',
      entries: lobby,
      now: NOON,
      scrollKey: 'host-a\nlobby',
      positions,
    });
    const viewport = viewportOf(first.container);
    await scrollTo(viewport, 2600);
    const reading = Array.from(first.container.querySelectorAll('.text'), (t) => t.textContent);
    first.unmount();

    // Another room (and the same room name on another host) does not take its place.
    const other = render(Timeline, {
      room: 'lobby',
      entries: history(50, 'alice'),
      now: NOON,
      scrollKey: 'host-b\nlobby',
      positions,
    });
    expect(fromBottom(viewportOf(other.container))).toBe(0);
    other.unmount();

    const again = render(Timeline, {
      room: 'lobby',
      entries: lobby,
      now: NOON,
      scrollKey: 'host-a\nlobby',
      positions,
    });
    const back = viewportOf(again.container);
    expect(Math.abs(back.scrollTop - 2600)).toBeLessThan(2);
    expect(Array.from(again.container.querySelectorAll('.text'), (t) => t.textContent)).toEqual(
      reading,
    );
  });

  it('wins over the "New messages" line: the line is then offered by the pill', async () => {
    const positions = new ScrollPositions();
    const entries = history(300);
    const first = render(Timeline, { room: 'lobby', entries, now: NOON, positions });
    await scrollTo(viewportOf(first.container), 1000);
    first.unmount();
    render(Timeline, {
      room: 'lobby',
      entries,
      now: NOON,
      firstUnreadSeq: seqOf(entries[290]),
      positions,
    });
    expect(screen.getByRole('button', { name: 'Jump to first unread' })).toBeTruthy();
  });
});
