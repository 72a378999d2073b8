import type { ChatMessage, Member } from '../protocol/wire/messages.ts';
import type { GapFill } from './gap-fill.ts';

/**
 * What the session knows about one room it wants to be in. The host answers a join with
 * `joined`, one or more `members` pages, the recent history, then `synced`; the pages are
 * collected until the first message that is not a page, so listeners see one full list.
 */
export type RoomPhase = 'waiting' | 'joining' | 'filling' | 'synced';

/** Who asked for a `history` answer: the user (loadOlder) or the session closing a gap. */
export type HistoryRequest = 'older' | 'gap';

export class RoomState {
  readonly name: string;
  phase: RoomPhase = 'waiting';
  /** Highest seq delivered in this session, so a rejoin's history replay is not repeated. */
  lastSeq = -1;
  /** `history` requests in flight, oldest first: the host answers a connection's requests in order. */
  readonly requests: HistoryRequest[] = [];
  /** Set while the session pages back to close a rejoin's gap (phase `filling`). */
  fill: GapFill | undefined;
  #members = new Map<string, Member>();
  #pages: Member[] | undefined;
  /** Synced before in this session: a later join's replay may not reach back far enough. */
  #wasSynced = false;
  /** A rejoin's replay, held until `synced` shows whether it leaves a gap. */
  #replay: ChatMessage[] | undefined;

  constructor(name: string) {
    this.name = name;
  }

  get members(): Member[] {
    return [...this.#members.values()];
  }

  /** The host confirmed the join: a fresh member list follows. */
  joined(): void {
    this.phase = 'joining';
    this.#pages = [];
    this.#replay = this.#wasSynced ? [] : undefined;
  }

  /** Keeps a replayed message of a rejoin for `synced`; false on a first join (deliver it). */
  holdReplay(message: ChatMessage): boolean {
    if (!this.#replay) return false;
    this.#replay.push(message);
    return true;
  }

  /** The replay held since `joined` (empty on a first join). */
  takeReplay(): ChatMessage[] {
    const replay = this.#replay ?? [];
    this.#replay = undefined;
    return replay;
  }

  synced(): void {
    this.phase = 'synced';
    this.#wasSynced = true;
    this.fill = undefined;
  }

  /** A `members` page. Returns true when the list changed now (a page outside a join). */
  page(members: readonly Member[]): boolean {
    if (this.#pages) {
      this.#pages.push(...members);
      return false;
    }
    for (const member of members) this.#members.set(member.key, member);
    return true;
  }

  /** Ends a listing in progress; returns true if one was (the list is now complete). */
  finishPages(): boolean {
    if (!this.#pages) return false;
    this.#members = new Map(this.#pages.map((member) => [member.key, member]));
    this.#pages = undefined;
    return true;
  }

  presence(
    event: 'joined' | 'left' | 'disconnected' | 'renamed',
    member: Member,
    newNick?: string,
  ): void {
    if (event === 'left' || event === 'disconnected') this.#members.delete(member.key);
    else this.#members.set(member.key, { ...member, nick: newNick ?? member.nick });
  }

  /** A history message: replayed on rejoin (skip what this session already delivered) or asked for. */
  isReplayOfSeen(seq: number): boolean {
    return this.phase === 'joining' && seq <= this.lastSeq;
  }

  seen(seq: number): void {
    if (seq > this.lastSeq) this.lastSeq = seq;
  }

  /** The connection is gone: the member list is stale until the next join. */
  disconnected(): void {
    this.phase = 'waiting';
    this.#pages = undefined;
    this.#replay = undefined;
    this.fill = undefined; // what it held comes again with the next join's replay or fill
    this.requests.length = 0;
    this.#members.clear();
  }
}
