// The Timeline on its own, for the #17 row tests: rendered on #lobby at NOON, complete, with a
// spy for every message action; and a row found by its text.
import { render } from '@testing-library/svelte';
import { vi } from 'vitest';
import Timeline from '../../src-renderer/components/Timeline.svelte';
import type { TimelineActions } from '../../src-renderer/lib/message-actions.ts';
import type { Entry } from '../../src-renderer/lib/rows.ts';
import { NOON } from './fixtures.ts';

export function actionsSpy(): TimelineActions & {
  [K in keyof TimelineActions]: ReturnType<typeof vi.fn>;
} {
  return {
    react: vi.fn(),
    reply: vi.fn(),
    edit: vi.fn(async () => null),
    delete: vi.fn(),
    copy: vi.fn(),
    jump: vi.fn(),
  } as never;
}

export function renderTimeline(entries: Entry[], extra: Record<string, unknown> = {}) {
  const actions = actionsSpy();
  const result = render(Timeline, {
    room: 'lobby',
    entries,
    now: NOON,
    complete: true,
    actions,
    ...extra,
  });
  return { ...result, actions };
}

/** The message row whose text includes `text`; throws if there is none. */
export const article = (text: string): HTMLElement => {
  const found = Array.from(document.querySelectorAll<HTMLElement>('article.message')).find((a) =>
    a.textContent?.includes(text),
  );
  if (!found) throw new Error(`no row with ${text}`);
  return found;
};
