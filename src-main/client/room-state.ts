import type { Member } from '../protocol/wire/messages.ts';

/**
 * What the session knows about one room it wants to be in. The host answers a join with
 * `joined`, one or more `members` pages, the recent history, then `synced`; the pages are
 * collected until the first message that is not a page, so listeners see one full list.
 */
export type RoomPhase = 'waiting' | 'joining' | 'synced';

export class RoomState {
  readonly name: string;
  phase: RoomPhase = 'waiting';
  /** Highest seq delivered in this session, so a rejoin's history replay is not repeated. */
  lastSeq = -1;
  #members = new Map<string, Member>();
  #pages: Member[] | undefined;

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
    this.#members.clear();
  }
}
