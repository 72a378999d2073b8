/**
 * One `setImmediate` per event-loop turn for all channels with queued output, instead of
 * one timer per channel: everything queued for a peer during a turn leaves as one record.
 */
export interface Flushable {
  flush(): void;
}

const dirty = new Set<Flushable>();
let scheduled = false;

function flushAll(): void {
  scheduled = false;
  for (const channel of dirty) {
    dirty.delete(channel);
    channel.flush();
  }
}

export function scheduleFlush(channel: Flushable): void {
  dirty.add(channel);
  if (!scheduled) {
    scheduled = true;
    setImmediate(flushAll);
  }
}

export function cancelFlush(channel: Flushable): void {
  dirty.delete(channel);
}
