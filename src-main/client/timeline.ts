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
      return (item.text ?? item.mls ?? '').length;
    case 'commit':
      return item.data.length;
    case 'event':
      return item.topic?.length ?? 0;
  }
}
