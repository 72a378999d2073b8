// The checks a `send` must pass before anything else is looked at (docs/protocol.md §8.1, §13):
// what it carries, and in a plaintext room whether its `rel` and `file` are what its event calls
// for. Pure: no state, so the request handler stays about order and effects.
import { utf8Length } from '../protocol/wire/codec.ts';
import type { ChatEvent } from '../protocol/wire/chat-event.ts';
import { relationMatches } from '../protocol/wire/relation.ts';
import type { ClientMessage } from '../protocol/wire/messages.ts';

type Send = Extract<ClientMessage, { t: 'send' }>;

/** What a `send` carries: exactly one body, or the reason it is a bad request. */
export type SendBody =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'ev'; readonly ev: ChatEvent }
  | { readonly kind: 'mls'; readonly mls: string }
  | { readonly kind: 'bad'; readonly reason: string };

export function sendBody(request: Send): SendBody {
  const bodies = [request.text, request.ev, request.mls].filter((body) => body !== undefined);
  if (bodies.length !== 1) {
    return { kind: 'bad', reason: 'a message carries exactly one of text, ev and mls' };
  }
  if (request.mls !== undefined) return { kind: 'mls', mls: request.mls };
  // Stored as UTF-8, a lone surrogate would come back from history as U+FFFD: the same
  // replacement up front gives live members and later joiners the same text.
  if (request.text !== undefined) return { kind: 'text', text: wellFormed(request.text) };
  const ev = request.ev;
  if (ev === undefined) return { kind: 'bad', reason: 'a message carries exactly one body' };
  return { kind: 'ev', ev: wellFormedEvent(ev) };
}

/**
 * In a plaintext room the host reads the event, so `rel` and `file` must be exactly what it
 * calls for (chat-event.ts: relationOf): a bare line has neither.
 */
export function relationRefusal(request: Send, body: SendBody): string | undefined {
  const event: ChatEvent | undefined =
    body.kind === 'ev'
      ? body.ev
      : body.kind === 'text'
        ? { type: 'text', text: body.text }
        : undefined;
  if (event === undefined || relationMatches(event, request)) return undefined;
  return 'rel and file must be exactly what the event calls for (docs/protocol.md §13)';
}

/** The UTF-8 bytes of what people wrote in an event: held to the host's text limit. */
export function eventTextBytes(ev: ChatEvent): number {
  switch (ev.type) {
    case 'text':
    case 'edit':
      return utf8Length(ev.text);
    case 'file':
      return ev.text === undefined ? 0 : utf8Length(ev.text);
    default:
      return 0;
  }
}

function wellFormed(text: string): string {
  return text.isWellFormed() ? text : text.toWellFormed();
}

/** The event with every string well formed (see sendBody): names and captions alike. */
function wellFormedEvent(ev: ChatEvent): ChatEvent {
  const json = JSON.stringify(ev);
  if (json.isWellFormed() && !/\\ud[89a-f]/i.test(json)) return ev;
  return JSON.parse(json, (_key, value: unknown) =>
    typeof value === 'string' ? wellFormed(value) : value,
  ) as ChatEvent;
}
