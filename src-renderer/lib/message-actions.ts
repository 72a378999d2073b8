// What may be done to a message in the timeline, by whom: the rules the host enforces
// (design #17), so the UI never offers what would be refused.
import type { ChatMessageView, Role } from '../../src-shared/ipc/domain.ts';

export interface MessageAbilities {
  readonly reply: boolean;
  readonly react: boolean;
  readonly edit: boolean;
  readonly delete: boolean;
  readonly copy: boolean;
}

const NONE: MessageAbilities = {
  reply: false,
  react: false,
  edit: false,
  delete: false,
  copy: false,
};

/**
 * A message the host has not numbered yet (queued, failed) cannot be named, a deleted one is
 * gone, and one that could not be decrypted has nothing to quote: none of them offer actions
 * (an unreadable one may still be deleted by its sender or a moderator). Edit: our own text
 * messages; delete: our own, or anyone's for the room's owners and admins.
 */
export function abilitiesOf(message: ChatMessageView, role: Role | undefined): MessageAbilities {
  if (message.seq === undefined || message.status !== 'sent' || message.deleted) return NONE;
  const moderator = role === 'owner' || role === 'admin';
  const canDelete = message.own || moderator;
  if (message.e2ee?.status === 'failed') return { ...NONE, delete: canDelete };
  return {
    reply: true,
    react: true,
    edit: message.own && message.file === undefined,
    delete: canDelete,
    copy: message.text !== '',
  };
}

/** The first line of a message, at most `max` characters: what a quote shows. */
export function firstLine(text: string, max = 120): string {
  const line = text.split('\n', 1)[0] ?? '';
  const chars = [...line];
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : line;
}

/** What the timeline's message actions do: the screen decides (requests, dialogs, focus). */
export interface TimelineActions {
  react(message: ChatMessageView, emoji: string, on: boolean): void;
  /** Puts the reply bar over the composer and focuses it. */
  reply(message: ChatMessageView): void;
  /** Resolves with why it failed, or null once main has the edit. */
  edit(message: ChatMessageView, text: string): Promise<string | null>;
  /** Asks first (a confirmation), then deletes for everyone. */
  delete(message: ChatMessageView): void;
  copy(message: ChatMessageView): void;
  /** A quote was clicked: show the message it answers. */
  jump(seq: number): void;
}
