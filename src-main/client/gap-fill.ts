import { HostMisbehaved, MAX_FILL_MESSAGES, MAX_FILL_TEXT_UNITS } from './host-bounds.ts';
import { type TimelineItem, itemUnits } from './timeline.ts';

/** Messages asked for per `history` request while closing a gap (the protocol's maximum). */
export const GAP_PAGE_SIZE = 500;
/** Pages one gap fill may ask for (10 000 messages); past that the UI is told what is missing. */
export const MAX_GAP_PAGES = 20;

export type PageOutcome = 'more' | 'closed' | 'bounded';

/**
 * Closing the gap a rejoin may leave: the host replays only its last N messages, so a client
 * that was away while more were posted asks for older pages until they reach the last message
 * it delivered. Everything for the room (messages and room events) waits here meanwhile, so
 * listeners see the missed history in seq order, then what arrived live during the fill.
 */
export class GapFill {
  /** The highest seq delivered before the rejoin: the fill stops once a page reaches it. */
  readonly after: number;
  #history = new Map<number, TimelineItem>();
  #live: TimelineItem[] = [];
  #oldest: number;
  #pageOldest: number | undefined;
  #pages = 0;
  #pageSize = 0;
  #held = 0;
  #heldUnits = 0;

  constructor(after: number, replay: readonly TimelineItem[]) {
    this.after = after;
    this.#oldest = Infinity;
    for (const message of replay) this.#add(message);
    this.#pageOldest = undefined;
  }

  /**
   * Holding more would exceed what one fill may keep in memory: stop asking for pages and
   * deliver what is held (the UI is told the oldest missed messages are not shown).
   */
  get full(): boolean {
    return this.#held >= MAX_FILL_MESSAGES || this.#heldUnits >= MAX_FILL_TEXT_UNITS;
  }

  /** The oldest seq collected so far: the next page is asked for before it. */
  get oldest(): number {
    return this.#oldest;
  }

  /** A message from a page we asked for; a page longer than asked for is the host's fault. */
  history(message: TimelineItem): void {
    if (++this.#pageSize > GAP_PAGE_SIZE) {
      throw new HostMisbehaved(
        'protocol-error',
        `the host answered a request for ${GAP_PAGE_SIZE} messages with more`,
      );
    }
    this.#add(message);
  }

  #add(message: TimelineItem): void {
    if (!this.#history.has(message.seq)) this.#hold(message);
    this.#history.set(message.seq, message);
    if (message.seq < this.#oldest) this.#oldest = message.seq;
    if (this.#pageOldest === undefined || message.seq < this.#pageOldest) {
      this.#pageOldest = message.seq;
    }
  }

  /** A live message for the room: delivered after the history. */
  live(message: TimelineItem): void {
    this.#hold(message);
    this.#live.push(message);
  }

  #hold(message: TimelineItem): void {
    this.#held++;
    this.#heldUnits += itemUnits(message);
  }

  /** Whether the replay (checked before the first request) may hide older missed messages. */
  get gapPossible(): boolean {
    return this.#oldest !== Infinity && this.#oldest > this.after;
  }

  /** A page ended: is the gap closed, may we ask for more, or is that enough pages? */
  pageEnded(more: boolean): PageOutcome {
    this.#pages++;
    const empty = this.#pageOldest === undefined;
    this.#pageOldest = undefined;
    this.#pageSize = 0;
    if (!more || empty || this.#oldest <= this.after) return 'closed';
    return this.#pages >= MAX_GAP_PAGES || this.full ? 'bounded' : 'more';
  }

  /** What to deliver, in seq order: history not delivered before, then live messages. */
  release(): { history: TimelineItem[]; live: TimelineItem[] } {
    const history = [...this.#history.values()]
      .filter((message) => message.seq > this.after)
      .sort((a, b) => a.seq - b.seq);
    const last = history.at(-1)?.seq ?? this.after;
    const seen = new Set<number>();
    const live = this.#live.filter((message) => {
      if (message.seq <= last || seen.has(message.seq)) return false;
      seen.add(message.seq);
      return true;
    });
    return { history, live };
  }
}
