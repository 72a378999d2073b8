import type { ChatMessage, RoomEvent } from '../protocol/wire/messages.ts';

/**
 * What a room's timeline holds: messages and room events share the room's seq, so both count
 * in a rejoin's replay, a gap fill and the highest seq seen (docs/protocol.md §8.3).
 */
export type TimelineItem = ChatMessage | RoomEvent;

/** What an item holds in memory in UTF-16 units, for the replay and fill bounds. */
export function itemUnits(item: TimelineItem): number {
  return item.t === 'msg' ? (item.text ?? item.mls ?? '').length : (item.topic?.length ?? 0);
}
