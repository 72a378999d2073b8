import type { ChatMessageView } from '../../src-shared/ipc/domain.ts';
import type { ChatEvent } from '../protocol/wire/chat-event.ts';
import type { LocalHistory } from './local-history.ts';
import type { LocalStoreGuard } from './local-store-guard.ts';
import type { ServiceLog } from './service-log.ts';

/** An edit, deletion, reaction or read position with its place and sender. */
export interface EventMessage {
  readonly room: string;
  readonly seq: number;
  /** The sender's Parley key (in an encrypted room: the authenticated one). */
  readonly key: string;
  readonly from: string;
  readonly event: ChatEvent;
  /** Replayed by the host (a join, a gap filled, older pages), not live. */
  readonly history?: boolean;
}

export interface ApplyContext {
  readonly history: LocalHistory;
  readonly store: LocalStoreGuard;
  /** The local history's key of this host. */
  readonly host: string;
  readonly ownKey: string;
  /** Whether `key` may delete others' messages in `room` as far as we know. */
  readonly mayDeleteOthers: (room: string, key: string) => boolean;
  readonly log: ServiceLog;
}

/**
 * What applying an event changed: the message it is about as now shown (to send again under its
 * id), the seq that became a tombstone, or our read position from another install of ours.
 */
export interface ApplyOutcome {
  readonly changed?: ChatMessageView;
  readonly deleted?: number;
  readonly readUpTo?: number;
}

/**
 * Applies one event that is not a row of the timeline to the local history (design17.md,
 * "Clients receiving"): an edit by the message's sender, a deletion by its sender or an owner or
 * admin, a reaction, our own read position. None of them counts as unread or notifies.
 */
export function applyEvent(context: ApplyContext, message: EventMessage): ApplyOutcome {
  const { history, store, host } = context;
  const { room, seq, key, event } = message;
  switch (event.type) {
    case 'edit': {
      const changed = store.run('keep an edit', () =>
        history.applyEdit(host, room, { target: event.target, seq, sender: key, text: event.text }),
      );
      return changed ? { changed } : {};
    }
    case 'delete': {
      // Their own message, or any if they are an owner or admin (the host's roles: it could
      // erase the message anyway). A role not known yet (a deletion replayed on joining,
      // before the member list) is the host's word too: it checked the deletion.
      const result = store.run('delete a message', () =>
        history.applyDelete(
          host,
          room,
          event.target,
          // Replayed from history, it was checked against the roles of its time: the deleter
          // may have been demoted since, and roles here are only today's.
          (sender) =>
            sender === key || message.history === true || context.mayDeleteOthers(room, key),
        ),
      );
      if (result === 'forbidden') {
        context.log('warn', 'delete-ignored', { reason: 'not-allowed' });
        return {};
      }
      return result ? { changed: result, deleted: event.target } : {};
    }
    case 'react': {
      const changed = store.run('keep a reaction', () =>
        history.applyReaction(host, room, {
          target: event.target,
          seq,
          sender: key,
          nick: message.from,
          emoji: event.emoji,
          on: event.on,
        }),
      );
      return changed ? { changed } : {};
    }
    case 'read': {
      // Only our own installs' positions mean anything to us.
      if (key !== context.ownKey) return {};
      // A read names what was read before it was sent: never a message after itself (else a
      // forged or broken one would mark every later message of the room read here).
      const upTo = Math.min(event.upTo, seq);
      store.run('keep your read position', () => history.setReadUpTo(host, room, upTo));
      return { readUpTo: upTo };
    }
    default:
      // Lines and files are rows (HostSession#onMessage), not applied to another message.
      return {};
  }
}
