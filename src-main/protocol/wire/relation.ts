// What the host must see of an event, as plain functions: chat-event.ts re-exports them; the
// host's send checks import them from here, without chat-event.ts's zod schemas (constants.ts).
import type { ChatEvent, Relation } from './chat-event.ts';

/** The host-visible parts an event needs on its `send` (see Relation). */
export function relationOf(event: ChatEvent): { rel?: Relation; file?: string } {
  switch (event.type) {
    case 'edit':
      return { rel: { t: 'edit', seq: event.target } };
    case 'delete':
      return { rel: { t: 'delete', seq: event.target } };
    case 'file':
      return { file: event.file.id };
    default:
      return {};
  }
}

/** Whether a `send`'s host-visible parts are exactly those its event calls for. */
export function relationMatches(
  event: ChatEvent,
  sent: { rel?: Relation | undefined; file?: string | undefined },
): boolean {
  const wanted = relationOf(event);
  return (
    wanted.rel?.t === sent.rel?.t && wanted.rel?.seq === sent.rel?.seq && wanted.file === sent.file
  );
}
