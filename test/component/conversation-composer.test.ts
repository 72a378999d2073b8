// #17 in the message box: the reply bar, `@` completion, Up to edit the last message; and the
// pure rules behind them.
import { fireEvent, render, screen } from '@testing-library/svelte';
import { tick } from 'svelte';
import { describe, expect, it, vi } from 'vitest';
import Composer from '../../src-renderer/components/Composer.svelte';
import { isEmoji, searchEmoji } from '../../src-renderer/lib/emoji.ts';
import {
  insertMention,
  mentionCandidates,
  mentionQuery,
} from '../../src-renderer/lib/mention-complete.ts';
import { abilitiesOf, firstLine } from '../../src-renderer/lib/message-actions.ts';
import { Draft } from '../../src-renderer/state/drafts.svelte.ts';
import { NOON, message } from './fixtures.ts';

const MEMBERS = [
  { nick: 'bob', key: 'B'.repeat(43) },
  { nick: 'bella', key: 'C'.repeat(43) },
  { nick: 'carol', key: 'D'.repeat(43) },
];

function setup(extra: Record<string, unknown> = {}) {
  const draft = new Draft();
  const onsend = vi.fn(async () => null as string | null);
  const oneditlast = vi.fn(() => true);
  render(Composer, {
    room: 'lobby',
    online: true,
    draft,
    onsend,
    members: MEMBERS,
    oneditlast,
    ...extra,
  });
  const box = screen.getByRole('textbox', { name: 'Message #lobby' }) as HTMLTextAreaElement;
  const type = async (value: string) => fireEvent.input(box, { target: { value } });
  return { draft, box, onsend, oneditlast, type };
}

describe('the reply bar', () => {
  it('shows whom the message answers, sends the reply with it, and goes', async () => {
    const { draft, box, onsend, type } = setup();
    draft.replyTo = { seq: 12, from: 'bob', text: 'lunch at noon?' };
    await tick();
    const bar = screen.getByTestId('reply-preview');
    expect(bar.textContent).toContain('Replying to bob');
    expect(bar.textContent).toContain('lunch at noon?');
    await type('yes!');
    await fireEvent.keyDown(box, { key: 'Enter' });
    expect(onsend).toHaveBeenCalledWith('yes!', { seq: 12, from: 'bob', text: 'lunch at noon?' });
    await tick();
    expect(screen.queryByTestId('reply-preview')).toBeNull();
  });

  it('comes back with the text when the send fails', async () => {
    const { draft, box, onsend, type } = setup();
    onsend.mockResolvedValueOnce('not connected');
    draft.replyTo = { seq: 3, from: 'bob', text: 'hi' };
    await type('answer');
    await fireEvent.keyDown(box, { key: 'Enter' });
    await tick();
    await tick();
    expect(draft.text).toBe('answer');
    expect(draft.replyTo).toEqual({ seq: 3, from: 'bob', text: 'hi' });
  });

  it('is cancelled by Escape (the text stays) and by its × button', async () => {
    const { draft, box, type } = setup();
    draft.replyTo = { seq: 1, from: 'bob', text: 'x' };
    await type('draft');
    const escape = await fireEvent.keyDown(box, { key: 'Escape' });
    expect(escape).toBe(false); // handled here: no dialog or panel closes with it
    expect(draft.replyTo).toBeNull();
    expect(draft.text).toBe('draft');
    draft.replyTo = { seq: 1, from: 'bob', text: 'x' };
    await tick();
    await fireEvent.click(screen.getByRole('button', { name: 'Cancel reply' }));
    expect(draft.replyTo).toBeNull();
  });
});

describe('@ completion', () => {
  it('lists matching members, moves with the arrows and inserts the pick with a space', async () => {
    const { box, type, draft } = setup();
    await type('hi @b');
    const list = screen.getByRole('listbox', { name: 'Members to mention' });
    const options = Array.from(list.querySelectorAll('[role="option"]'));
    expect(options.map((o) => o.querySelector('bdi')?.textContent)).toEqual(['@bob', '@bella']);
    expect(box.getAttribute('aria-activedescendant')).toBe(options[0]!.id);
    await fireEvent.keyDown(box, { key: 'ArrowDown' });
    expect(box.getAttribute('aria-activedescendant')).toBe(options[1]!.id);
    await fireEvent.keyDown(box, { key: 'Enter' });
    await tick();
    expect(draft.text).toBe('hi @bella ');
    expect(screen.queryByRole('listbox', { name: 'Members to mention' })).toBeNull();
  });

  it('picks with Tab, closes with Escape, and never sends while choosing', async () => {
    const { box, type, draft, onsend } = setup();
    await type('@ca');
    await fireEvent.keyDown(box, { key: 'Tab' });
    await tick();
    expect(draft.text).toBe('@carol ');
    await type('@carol and @b');
    await fireEvent.keyDown(box, { key: 'Escape' });
    expect(screen.queryByRole('listbox', { name: 'Members to mention' })).toBeNull();
    await fireEvent.keyDown(box, { key: 'Enter' });
    expect(onsend).toHaveBeenCalledWith('@carol and @b');
  });

  it('does not complete an e-mail address', async () => {
    const { type } = setup();
    await type('write to me@b');
    expect(screen.queryByRole('listbox', { name: 'Members to mention' })).toBeNull();
  });
});

describe('Up in an empty box', () => {
  it('edits the last message; with text in the box it is just the caret key', async () => {
    const { box, oneditlast, type } = setup();
    const up = await fireEvent.keyDown(box, { key: 'ArrowUp' });
    expect(oneditlast).toHaveBeenCalledTimes(1);
    expect(up).toBe(false);
    await type('some text');
    await fireEvent.keyDown(box, { key: 'ArrowUp' });
    expect(oneditlast).toHaveBeenCalledTimes(1);
  });
});

describe('the rules', () => {
  it('finds the @word at the caret', () => {
    expect(mentionQuery('hi @bo', 6)).toEqual({ start: 3, query: 'bo' });
    expect(mentionQuery('@', 1)).toEqual({ start: 0, query: '' });
    expect(mentionQuery('a@bo', 4)).toBeNull();
    expect(mentionQuery('hi bo', 5)).toBeNull();
    expect(mentionQuery('/nick @bo', 9)).toBeNull();
    expect(mentionCandidates(['bob', 'abby', 'Bella', 'carl'], 'b')).toEqual([
      'bob',
      'Bella',
      'abby',
    ]);
    expect(insertMention('hi @bo there', { start: 3, query: 'bo' }, 6, 'bob')).toEqual({
      text: 'hi @bob there',
      caret: 8,
    });
  });

  it('accepts any single emoji and searches the list by words', () => {
    expect(isEmoji('👍🏽')).toBe(true);
    expect(isEmoji('🇫🇷')).toBe(true);
    expect(isEmoji('a')).toBe(false);
    expect(isEmoji('👍👍')).toBe(false);
    expect(searchEmoji('thumbs').map((e) => e.emoji)).toEqual(['👍', '👎']);
    expect(searchEmoji('🦩').map((e) => e.emoji)).toEqual(['🦩']);
  });

  it('offers actions only on numbered, readable messages, delete to moderators', () => {
    const entry = (extra: Parameters<typeof message>[3]) => {
      const e = message('bob', 'text', NOON, extra);
      if (e.kind !== 'message') throw new Error();
      return e.message;
    };
    expect(abilitiesOf(entry({}), 'member')).toEqual({
      reply: true,
      react: true,
      edit: false,
      delete: false,
      copy: true,
    });
    expect(abilitiesOf(entry({}), 'admin').delete).toBe(true);
    expect(abilitiesOf(entry({ own: true }), 'member').edit).toBe(true);
    expect(abilitiesOf(entry({ seq: undefined, status: 'queued' }), 'owner').reply).toBe(false);
    expect(abilitiesOf(entry({ deleted: true }), 'owner').delete).toBe(false);
    expect(firstLine('one\ntwo')).toBe('one');
    expect(firstLine('x'.repeat(200), 10)).toBe(`${'x'.repeat(9)}…`);
  });
});
