import type { ChatEvent } from '../protocol/wire/chat-event.ts';
import type { ChatMessage, CommitItem, RoomEvent } from '../protocol/wire/messages.ts';

/**
 * What a room's timeline holds: messages and room events share the room's seq, so both count
 * in a rejoin's replay, a gap fill and the highest seq seen (docs/protocol.md §8.3). So do an
 * end-to-end encrypted room's commits (§12): its group must apply every one, in order.
 */
export type TimelineItem = ChatMessage | RoomEvent | CommitItem;

/** What an item holds in memory in UTF-16 units, for the replay and fill bounds. */
export function itemUnits(item: TimelineItem): number {
  switch (item.t) {
    case 'msg':
      // A plaintext room's event: its texts are what weighs (up to 16 KiB, like a line's).
      if (item.ev) return eventUnits(item.ev);
      return (item.text ?? item.mls ?? '').length;
    case 'commit':
      return item.data.length;
    case 'event':
      return item.topic?.length ?? 0;
  }
}

function eventUnits(event: ChatEvent): number {
  switch (event.type) {
    case 'text':
    case 'edit':
      return event.text.length;
    case 'file':
      return (event.text?.length ?? 0) + event.file.name.length + event.file.mime.length + 64;
    default:
      return 0;
  }
}
