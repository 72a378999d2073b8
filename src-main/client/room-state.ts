import { fingerprint } from '../../src-shared/fingerprint.ts';
import { decodePublicKeyText } from '../../src-shared/identifiers.ts';
import type { Member, Person, RoomEvent } from '../protocol/wire/messages.ts';
import type { GapFill } from './gap-fill.ts';
import {
  HostMisbehaved,
  MAX_JOIN_REPLAY,
  MAX_REPLAY_TEXT_UNITS,
  MAX_ROOM_MEMBERS,
} from './host-bounds.ts';
import { type TimelineItem, itemUnits } from './timeline.ts';

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
  /** A `join` is written and not yet answered with `joined`. */
  joinPending = false;
  /** History messages of the current join so far (bounded: the replay must end). */
  #replayed = 0;
  #replayUnits = 0;
  #members = new Map<string, Member>();
  #pages: Member[] | undefined;
  /** Synced before in this session: a later join's replay may not reach back far enough. */
  #wasSynced = false;
  /** A rejoin's replay, held until `synced` shows whether it leaves a gap. */
  #replay: TimelineItem[] | undefined;

  constructor(name: string) {
    this.name = name;
  }

  get members(): Member[] {
    return [...this.#members.values()];
  }

  /**
   * An end-to-end encrypted room whose stored group took the timeline up to `seq`: the join's
   * replay is checked for a gap from there (missed commits must be applied), and what the
   * group already took is not delivered again.
   */
  resumeFrom(seq: number): void {
    if (seq <= this.lastSeq) return;
    this.lastSeq = seq;
    this.#wasSynced = true;
  }

  /** The host confirmed the join: a fresh member list follows. */
  joined(): void {
    this.phase = 'joining';
    this.joinPending = false;
    this.#pages = [];
    this.#replayed = 0;
    this.#replayUnits = 0;
    this.#replay = this.#wasSynced ? [] : undefined;
  }

  /**
   * Keeps a replayed message of a rejoin for `synced`; false on a first join (deliver it).
   * Throws HostMisbehaved once the replay is longer than any host sends.
   */
  holdReplay(message: TimelineItem): boolean {
    if (++this.#replayed > MAX_JOIN_REPLAY) {
      throw new HostMisbehaved(
        'protocol-error',
        `the host replayed more than ${MAX_JOIN_REPLAY} messages of "${this.name}" without ending`,
      );
    }
    if (!this.#replay) return false;
    this.#replayUnits += itemUnits(message);
    if (this.#replayUnits > MAX_REPLAY_TEXT_UNITS) {
      throw new HostMisbehaved(
        'protocol-error',
        `the host replayed more text of "${this.name}" than a rejoin holds, without ending`,
      );
    }
    this.#replay.push(message);
    return true;
  }

  /** The replay held since `joined` (empty on a first join). */
  takeReplay(): TimelineItem[] {
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
      if (this.#pages.length + members.length > MAX_ROOM_MEMBERS) this.#tooMany();
      for (const member of members) this.#pages.push(member);
      return false;
    }
    for (const member of members) this.#add(member);
    return true;
  }

  /** Ends a listing in progress; returns true if one was (the list is now complete). */
  finishPages(): boolean {
    if (!this.#pages) return false;
    this.#members = new Map(this.#pages.map((member) => [member.key, member]));
    this.#pages = undefined;
    return true;
  }

  /**
   * A presence change. A member listed with a role stays listed while offline (the host lists
   * every member of a private room); one without is only listed while online.
   */
  presence(
    event: 'joined' | 'left' | 'disconnected' | 'renamed',
    member: Member,
    newNick?: string,
  ): void {
    const known = this.#members.get(member.key);
    if (event === 'left' || event === 'disconnected') {
      if (known?.role) this.#members.set(member.key, { ...known, online: false });
      else this.#members.delete(member.key);
      return;
    }
    const online = event === 'joined' ? true : (known?.online ?? true);
    this.#add({
      ...known,
      ...member,
      nick: newNick ?? member.nick,
      ...(known?.role ? { role: known.role } : {}),
      online,
    });
  }

  /**
   * A live room event's effect on the member list: who joined is listed (offline until their
   * presence says otherwise), who left or was removed is not, a new role shows. Returns
   * whether the list changed.
   */
  memberEvent(event: RoomEvent): boolean {
    switch (event.action) {
      case 'joined': {
        if (!event.actor) return false;
        const known = this.#members.get(event.actor.key);
        const member = personMember(event.actor);
        if (!member) return false;
        this.#add({
          ...member,
          role: event.role ?? known?.role ?? 'member',
          online: known?.online ?? false,
        });
        return true;
      }
      case 'left':
        return event.actor ? this.#members.delete(event.actor.key) : false;
      case 'removed':
      case 'banned':
        return event.target ? this.#members.delete(event.target.key) : false;
      case 'role': {
        const known = event.target && this.#members.get(event.target.key);
        if (!known || !event.role) return false;
        this.#members.set(known.key, { ...known, role: event.role });
        return true;
      }
      default:
        return false;
    }
  }

  #add(member: Member): void {
    if (!this.#members.has(member.key) && this.#members.size >= MAX_ROOM_MEMBERS) this.#tooMany();
    this.#members.set(member.key, member);
  }

  #tooMany(): never {
    throw new HostMisbehaved(
      'protocol-error',
      `the host listed more than ${MAX_ROOM_MEMBERS} members in "${this.name}"`,
    );
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
    this.joinPending = false;
    this.#pages = undefined;
    this.#replay = undefined;
    this.fill = undefined; // what it held comes again with the next join's replay or fill
    this.requests.length = 0;
    this.#members.clear();
  }
}

/** A person named by an event, as a member entry; undefined for a key that is not one. */
function personMember(person: Person): Member | undefined {
  const key = decodePublicKeyText(person.key);
  return key ? { nick: person.nick, key: person.key, fp: fingerprint(key) } : undefined;
}
