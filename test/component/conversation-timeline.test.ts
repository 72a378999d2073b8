// #17 in the timeline: the actions a row offers (and to whom), reactions, quotes, editing in the
// row, tombstones, the mention highlight and the jump to a message.
import { fireEvent, screen, within } from '@testing-library/svelte';
import { tick } from 'svelte';
import { describe, expect, it, vi } from 'vitest';
import { NOON, message } from './fixtures.ts';
import { article, renderTimeline } from './timeline-render.ts';

const MIN = 60_000;

async function hover(text: string): Promise<HTMLElement> {
  const row = article(text);
  await fireEvent.mouseEnter(row);
  return row;
}

describe('message actions', () => {
  it('shows the toolbar on hover: reactions, reply, edit on our own message only', async () => {
    renderTimeline([message('bob', 'from bob', NOON), message('alice', 'mine', NOON + MIN)]);
    const bob = await hover('from bob');
    const bar = within(bob).getByRole('toolbar', { name: 'Message actions' });
    expect(within(bar).getByRole('button', { name: 'Reply' })).toBeTruthy();
    expect(within(bar).getByRole('button', { name: 'React with thumbs up' })).toBeTruthy();
    expect(within(bar).queryByRole('button', { name: 'Edit' })).toBeNull();
    const mine = await hover('mine');
    expect(within(mine).getByRole('button', { name: 'Edit' })).toBeTruthy();
    // Only the hovered row has one.
    expect(document.querySelectorAll('[role="toolbar"]')).toHaveLength(1);
  });

  it('offers nothing on a queued message, and nothing but a tombstone for a deleted one', async () => {
    renderTimeline([
      message('alice', 'waiting', NOON, { status: 'queued', seq: undefined }),
      message('bob', '', NOON + MIN, { deleted: true }),
    ]);
    await hover('waiting');
    expect(screen.queryByRole('toolbar')).toBeNull();
    const tomb = screen.getByTestId('tombstone');
    expect(tomb.textContent).toContain('This message was deleted');
    await fireEvent.mouseEnter(tomb.closest('article')!);
    expect(screen.queryByRole('toolbar')).toBeNull();
  });

  it('lets owners and admins delete anyone’s message, members only their own', async () => {
    const { actions, rerender } = renderTimeline([message('bob', 'from bob', NOON)], {
      role: 'member',
    });
    await hover('from bob');
    await fireEvent.click(screen.getByRole('button', { name: 'More actions' }));
    let menu = screen.getByRole('menu', { name: 'Message actions' });
    expect(within(menu).queryByRole('menuitem', { name: /Delete/ })).toBeNull();
    expect(within(menu).getByRole('menuitem', { name: /Copy text/ })).toBeTruthy();
    await fireEvent.keyDown(menu, { key: 'Escape' });
    await rerender({ role: 'admin' });
    await hover('from bob');
    await fireEvent.click(screen.getByRole('button', { name: 'More actions' }));
    menu = screen.getByRole('menu', { name: 'Message actions' });
    await fireEvent.click(within(menu).getByRole('menuitem', { name: /Delete message/ }));
    expect(actions.delete).toHaveBeenCalledWith(expect.objectContaining({ text: 'from bob' }));
  });

  it('opens the same menu with a right click and with Shift+F10 on a focused message', async () => {
    renderTimeline([message('bob', 'context', NOON)]);
    await fireEvent.contextMenu(article('context'), { clientX: 50, clientY: 60 });
    expect(screen.getByRole('menu', { name: 'Message actions' })).toBeTruthy();
    await fireEvent.keyDown(screen.getByRole('menu'), { key: 'Escape' });
    expect(screen.queryByRole('menu')).toBeNull();
    const row = article('context');
    row.focus();
    await fireEvent.keyDown(row, { key: 'F10', shiftKey: true });
    expect(screen.getByRole('menu', { name: 'Message actions' })).toBeTruthy();
  });

  it('keeps one message in the Tab order and moves between them with the arrow keys', async () => {
    const { actions } = renderTimeline([
      message('bob', 'first', NOON),
      message('bob', 'second', NOON + MIN),
    ]);
    const first = article('first');
    const second = article('second');
    expect(second.tabIndex).toBe(0);
    expect(first.tabIndex).toBe(-1);
    second.focus();
    await fireEvent.keyDown(second, { key: 'ArrowUp' });
    expect(document.activeElement).toBe(first);
    await fireEvent.keyDown(first, { key: 'r' });
    expect(actions.reply).toHaveBeenCalledWith(expect.objectContaining({ text: 'first' }));
  });
});

describe('reactions', () => {
  it('shows chips with counts, who reacted, and toggles ours', async () => {
    const { actions } = renderTimeline([
      message('bob', 'party', NOON, {
        reactions: [
          { emoji: '🎉', count: 3, mine: true, by: ['alice', 'bob', 'carol'] },
          { emoji: '👍', count: 1, mine: false, by: ['bob'] },
        ],
      }),
    ]);
    const list = screen.getByRole('list', { name: 'Reactions' });
    const tada = within(list).getByRole('button', { name: /party popper: 3/ });
    expect(tada.getAttribute('aria-pressed')).toBe('true');
    expect(tada.getAttribute('aria-label')).toContain('alice, bob and carol');
    expect(tada.textContent).toContain('3');
    const thumbs = within(list).getByRole('button', { name: /thumbs up: 1/ });
    expect(thumbs.getAttribute('aria-pressed')).toBe('false');
    await fireEvent.click(tada);
    expect(actions.react).toHaveBeenLastCalledWith(expect.anything(), '🎉', false);
    await fireEvent.click(thumbs);
    expect(actions.react).toHaveBeenLastCalledWith(expect.anything(), '👍', true);
  });

  it('reacts from the picker: by name, or with any emoji typed in', async () => {
    const { actions } = renderTimeline([message('bob', 'pick one', NOON)]);
    await hover('pick one');
    await fireEvent.click(screen.getByRole('button', { name: 'Add reaction' }));
    const search = screen.getByRole('combobox', { name: 'Search emoji' });
    await fireEvent.input(search, { target: { value: 'tada' } });
    const options = screen.getAllByRole('option');
    expect(options).toHaveLength(1);
    expect(options[0]!.textContent?.trim()).toBe('🎉');
    await fireEvent.keyDown(search, { key: 'Enter' });
    expect(actions.react).toHaveBeenLastCalledWith(expect.anything(), '🎉', true);
    expect(screen.queryByRole('dialog', { name: 'Add a reaction' })).toBeNull();

    await hover('pick one');
    await fireEvent.click(screen.getByRole('button', { name: 'Add reaction' }));
    const again = screen.getByRole('combobox', { name: 'Search emoji' });
    await fireEvent.input(again, { target: { value: '🦩' } });
    await fireEvent.keyDown(again, { key: 'Enter' });
    expect(actions.react).toHaveBeenLastCalledWith(expect.anything(), '🦩', true);
    // Not an emoji: nothing to pick.
    await hover('pick one');
    await fireEvent.click(screen.getByRole('button', { name: 'Add reaction' }));
    const none = screen.getByRole('combobox', { name: 'Search emoji' });
    await fireEvent.input(none, { target: { value: 'qqqq' } });
    expect(screen.getByText(/No emoji match/)).toBeTruthy();
    await fireEvent.keyDown(none, { key: 'Escape' });
    expect(screen.queryByRole('dialog', { name: 'Add a reaction' })).toBeNull();
  });
});

describe('replies', () => {
  it('quotes the answered message and jumps to it; deleted and unknown ones say so', async () => {
    const { actions } = renderTimeline([
      message('bob', 'the answer', NOON, {
        replyTo: { seq: 41, from: 'alice', text: 'the question\nsecond line' },
      }),
      message('bob', 'to a gone one', NOON + MIN, {
        replyTo: { seq: 7, from: 'carol', text: '', deleted: true },
      }),
      message('bob', 'to an old one', NOON + 2 * MIN, {
        replyTo: { seq: 3, from: 'dave', text: '', missing: true },
      }),
    ]);
    const quote = within(article('the answer')).getByRole('button', {
      name: /Replying to alice: the question\. Go to the message/,
    });
    expect(quote.textContent).not.toContain('second line');
    await fireEvent.click(quote);
    expect(actions.jump).toHaveBeenCalledWith(41);
    expect(within(article('to a gone one')).getByTestId('quoted-reply').textContent).toContain(
      'deleted message',
    );
    expect(within(article('to an old one')).getByTestId('quoted-reply').textContent).toContain(
      'Message not loaded',
    );
  });

  it('scrolls to a jump’s message and highlights it for a moment', async () => {
    vi.useFakeTimers();
    try {
      const entries = Array.from({ length: 40 }, (_, i) =>
        message('bob', `line ${i}`, NOON + i * 1000),
      );
      const target = entries[3]!;
      const seq = target.kind === 'message' ? target.message.seq! : 0;
      const { rerender } = renderTimeline(entries);
      await rerender({ reveal: { seq, n: 1 } });
      await tick();
      const row = document.querySelector(`article[data-seq="${seq}"]`)!;
      expect(row.classList.contains('flash')).toBe(true);
      vi.advanceTimersByTime(2100);
      await tick();
      expect(row.classList.contains('flash')).toBe(false);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('editing and deleting', () => {
  it('edits in the row: E opens it, Enter saves, Escape cancels; "(edited)" marks it', async () => {
    const { actions } = renderTimeline([
      message('alice', 'tpyo here', NOON),
      message('alice', 'fixed', NOON + MIN, { edited: true }),
    ]);
    expect(article('fixed').textContent).toContain('(edited)');
    expect(article('tpyo here').textContent).not.toContain('(edited)');
    const row = article('tpyo here');
    row.focus();
    await fireEvent.keyDown(row, { key: 'e' });
    const box = screen.getByRole('textbox', { name: 'Edit message' }) as HTMLTextAreaElement;
    expect(box.value).toBe('tpyo here');
    await fireEvent.keyDown(box, { key: 'Escape' });
    expect(screen.queryByRole('textbox', { name: 'Edit message' })).toBeNull();
    expect(actions.edit).not.toHaveBeenCalled();

    await fireEvent.keyDown(row, { key: 'e' });
    const again = screen.getByRole('textbox', { name: 'Edit message' });
    await fireEvent.input(again, { target: { value: 'typo here' } });
    await fireEvent.keyDown(again, { key: 'Enter' });
    expect(actions.edit).toHaveBeenCalledWith(
      expect.objectContaining({ text: 'tpyo here' }),
      'typo here',
    );
    await tick();
    await tick();
    expect(screen.queryByRole('textbox', { name: 'Edit message' })).toBeNull();
  });

  it('keeps the editor open with the reason when the edit is refused', async () => {
    const { actions } = renderTimeline([message('alice', 'mine', NOON)]);
    actions.edit.mockResolvedValueOnce('The host refused it.');
    const row = article('mine');
    row.focus();
    await fireEvent.keyDown(row, { key: 'e' });
    const box = screen.getByRole('textbox', { name: 'Edit message' });
    await fireEvent.input(box, { target: { value: 'mine!' } });
    await fireEvent.keyDown(box, { key: 'Enter' });
    await tick();
    await tick();
    expect(screen.getByRole('alert').textContent).toContain('The host refused it.');
  });

  it('Delete on a focused own message asks to delete it', async () => {
    const { actions } = renderTimeline([message('alice', 'oops', NOON)]);
    const row = article('oops');
    row.focus();
    await fireEvent.keyDown(row, { key: 'Delete' });
    expect(actions.delete).toHaveBeenCalledWith(expect.objectContaining({ text: 'oops' }));
  });
});

describe('mentions', () => {
  it('sets a message that names us apart from the others', () => {
    renderTimeline(
      [
        message('bob', 'hey @alice look', NOON, { mentioned: true }),
        message('bob', 'nothing for you', NOON + MIN),
      ],
      { me: 'alice' },
    );
    expect(article('hey').classList.contains('mentioned')).toBe(true);
    expect(article('hey').querySelector('mark.mention')?.textContent).toBe('@alice');
    expect(article('nothing').classList.contains('mentioned')).toBe(false);
  });
});

describe('a stretch far back', () => {
  it('offers "Jump to latest", which asks for the newest page', async () => {
    const onlatest = vi.fn();
    renderTimeline([message('bob', 'long ago', NOON)], { newer: true, onlatest });
    await fireEvent.click(screen.getByRole('button', { name: 'Jump to latest' }));
    expect(onlatest).toHaveBeenCalledTimes(1);
  });
});
