import type { HostMessage } from '../../../src-main/protocol/wire/messages.ts';
import { Step, choose, describe, joinRoom } from './commands.ts';
import type { HostWorld, Tracked } from './host-world.ts';
import type { Answer } from './model-connection.ts';
import {
  type ConnState,
  FIRST_NICKS,
  type HostModel,
  LIMITS,
  PRIVATE_ROOM,
  type Role,
  messageKey,
  rank,
} from './model.ts';

/**
 * The membership commands of the host model test, all about PRIVATE_ROOM: redeeming invites
 * (the operator's, ones members made, used up, revoked, guessed), making and revoking invites,
 * removing and banning (also while another member is sending), unbanning, parting, changing
 * roles, opening and closing the room. Each predicts its one answer from the model
 * (docs/protocol.md §11.2); HostWorld.settle then checks that nothing of the room reached a
 * connection outside it, and that every `room` about it went to a key that may see it.
 */

let nextRid = 1;

/** Sends a membership request and waits for the one answer with its rid, or the close. */
async function ask(t: Tracked, body: object): Promise<Answer> {
  const rid = nextRid++;
  const from = t.conn.received.length;
  t.conn.send({ ...body, rid });
  const answer = await t.conn.answer(
    from,
    (m) => 'rid' in m && (m as { rid?: number }).rid === rid,
  );
  if (answer.kind === 'message' && answer.message.t === 'error') t.claimed.add(answer.index);
  return answer;
}

/** The host's answer, or the failure that it ended the connection instead. */
async function answered(world: HostWorld, t: Tracked, answer: Answer, what: string) {
  if (answer.kind === 'closed') {
    await world.settleHostExit();
    world.fail(`${t.label} ${what}: the host closed the connection: ${describe(answer)}`);
  }
  return answer.message;
}

/** A membership request may meet the key's `manage` budget: refused, nothing changes. */
function manageLimited(model: HostModel, world: HostWorld, conn: ConnState, m: HostMessage) {
  const now = Date.now();
  model.manageRequests.push({ key: conn.key, at: now });
  if (m.t !== 'error' || m.code !== 'rate-limited') return false;
  const recent = model.manageRequests.filter((r) => r.key === conn.key && now - r.at < 60_000);
  if (recent.length < 30) {
    world.fail(`k${conn.key} was refused rate-limited after ${recent.length} requests in a minute`);
  }
  world.count('membership rate-limited');
  return true;
}

function expectCode(world: HostWorld, t: Tracked, m: HostMessage, want: string, what: string) {
  if (m.t !== 'error' || m.code !== want) {
    world.fail(`${t.label} ${what}: expected ${want}, got ${JSON.stringify(m).slice(0, 200)}`);
  }
  world.count(`${what.split(' ')[0]} refused: ${want}`);
}

/**
 * The key stopped being a member: every connection of it must get `removed` (it leaves the
 * room at once); the model forgets the room for them. `from` is where each connection stood
 * before the request.
 */
async function expectRemoved(
  model: HostModel,
  world: HostWorld,
  key: number,
  from: ReadonlyMap<ConnState, number>,
  reason: 'removed' | 'banned' | 'parted',
  by: number | undefined,
): Promise<void> {
  for (const conn of model.connectionsOf(key)) {
    const t = world.tracked(conn);
    const answer = await t.conn.answer(
      from.get(conn) ?? 0,
      (m) => m.t === 'removed' && m.room === PRIVATE_ROOM,
    );
    if (answer.kind === 'closed' || answer.message.t !== 'removed') {
      await world.settleHostExit();
      world.fail(`${t.label} was ${reason} and got ${describe(answer)}, not "removed"`);
    }
    const removed = answer.message;
    if (removed.reason !== reason || (by !== undefined && removed.by?.key !== world.keyTexts[by])) {
      world.fail(`${t.label} was ${reason} by k${by}; told ${JSON.stringify(removed)}`);
    }
    world.count(conn.rooms.delete(PRIVATE_ROOM) ? `${reason} while in the room` : `${reason}`);
  }
}

/**
 * Who makes a request: mostly a connection of a member (refusals of strangers are common
 * enough), now and then anyone.
 */
function actor(model: HostModel, pick: number): ConnState {
  const members = model.open().filter((c) => model.roles.has(c.key));
  return members.length > 0 && pick % 4 !== 0
    ? choose(members, pick >> 2)
    : choose(model.open(), pick);
}

/** Whom a request names: mostly another member, now and then any key (the model's four). */
function targetOf(model: HostModel, actorKey: number, raw: number): number {
  const others = [...model.roles.keys()].filter((k) => k !== actorKey).sort();
  return others.length > 0 && raw % 3 !== 0 ? choose(others, raw >> 2) : raw % FIRST_NICKS.length;
}

function positions(model: HostModel, world: HostWorld, key: number): Map<ConnState, number> {
  return new Map(
    model.connectionsOf(key).map((conn) => [conn, world.tracked(conn).conn.received.length]),
  );
}

// ── invites ─────────────────────────────────────────────────────────────────────────────

/** A token nobody issued, of the right form: what a guesser sends. */
const guess = (n: number) => `guess${String(n).padStart(19, '0')}`;

export class Redeem extends Step {
  readonly kind = 'redeem';
  readonly pick: number;
  readonly which: number;
  constructor(pick: number, which: number) {
    super();
    this.pick = pick;
    this.which = which;
  }
  check(model: Readonly<HostModel>): boolean {
    return model.open().length > 0;
  }
  async act(model: HostModel, world: HostWorld): Promise<void> {
    // Mostly someone not yet in: membership spreads over the keys.
    const outside = model.open().filter((c) => !model.roles.has(c.key));
    const conn =
      outside.length > 0 && this.pick % 4 !== 0
        ? choose(outside, this.pick >> 2)
        : choose(model.open(), this.pick);
    const t = world.tracked(conn);
    // One choice in eight is a guess; the others are tokens the model has seen.
    // While the room has no owner, half the time someone takes the operator's owner invite.
    const usable = model.invites.filter(
      (i) => i.role === 'owner' && i.usesLeft !== 0 && !i.revoked,
    );
    // Once it has one, mostly the others: a room of owners only has nobody to remove.
    const others = model.invites.filter((i) => i.role !== 'owner');
    const known =
      model.owners() === 0
        ? usable.length > 0 && this.which % 2 === 0
          ? usable
          : model.invites
        : others.length > 0 && this.which % 4 !== 0
          ? others
          : model.invites;
    const token =
      known.length === 0 || this.which % 8 === 7
        ? guess(this.which)
        : choose(known, this.which >> 1).token;
    const expected = model.redeemOutcome(conn.key, token);
    const from = positions(model, world, conn.key);
    const m = await answered(world, t, await ask(t, { t: 'redeem', token }), 'redeemed');
    const now = Date.now();
    if (m.t === 'error' && m.code === 'rate-limited') {
      if (!model.mayBeOutOfGuesses(conn.key, now) && !manageLimited(model, world, conn, m)) {
        world.fail(`${t.label} redeemed and was refused rate-limited without guessing`);
      }
      world.count('redeem rate-limited');
      return;
    }
    model.manageRequests.push({ key: conn.key, at: now });
    if (!expected.ok) {
      expectCode(world, t, m, expected.code, 'redeem');
      const ref = m.t === 'error' ? m.ref : undefined;
      if (ref !== (expected.code === 'invite-unknown' ? undefined : PRIVATE_ROOM)) {
        world.fail(`${t.label} redeem refused ${expected.code} about "${ref}"`);
      }
      model.redeemFailures.push({ key: conn.key, at: now });
      return;
    }
    if (m.t !== 'redeemed' || m.room !== PRIVATE_ROOM || m.role !== expected.role) {
      world.fail(
        `${t.label} redeemed for ${expected.role}: got ${JSON.stringify(m).slice(0, 200)}`,
      );
    }
    world.count(expected.invite ? `redeem admitted as ${expected.role}` : 'redeem again');
    if (expected.invite && expected.invite.usesLeft !== null) expected.invite.usesLeft--;
    model.roles.set(conn.key, expected.role);
    // Every connection of the key hears of the room (before anything else of it).
    for (const c of model.connectionsOf(conn.key)) {
      if (!expected.invite) break; // a member redeeming again: nothing changed
      const each = world.tracked(c);
      const info = await each.conn.answer(
        from.get(c) ?? 0,
        (x) => x.t === 'room' && x.info.room === PRIVATE_ROOM,
      );
      if (info.kind !== 'message' || info.message.t !== 'room') {
        world.fail(`${each.label}'s key was admitted, and it was not told: ${describe(info)}`);
      }
      if (info.message.info.role !== expected.role) {
        world.fail(`${each.label} was told role ${info.message.info.role}, not ${expected.role}`);
      }
    }
    // As a client does with a room it was let into: it joins (most of the time).
    if (expected.invite && this.pick % 4 !== 0 && !conn.rooms.has(PRIVATE_ROOM)) {
      await joinRoom(model, world, conn, PRIVATE_ROOM);
    }
  }
  toString(): string {
    return `redeem(${this.pick},${this.which})`;
  }
}

/**
 * A key with no role in PRIVATE_ROOM: refused as for no room at all, unless the room is open
 * to it (then it may see the room, and is refused for its role).
 */
function hidden(model: HostModel, key: number): string {
  return model.visible(key, PRIVATE_ROOM) ? 'forbidden' : 'unknown-room';
}

/** What the key may do with invites of PRIVATE_ROOM, as the host must answer. */
function inviteVerdict(model: HostModel, key: number, role?: Role): string | undefined {
  const own = model.roles.get(key);
  if (!own) return hidden(model, key);
  if (rank(own) < rank('admin')) return 'forbidden';
  if (role && rank(role) > rank(own)) return 'forbidden';
  return undefined;
}

export class CreateInvite extends Step {
  readonly kind = 'invite-create';
  readonly pick: number;
  readonly role: Role;
  readonly uses: number | null;
  constructor(pick: number, role: Role, uses: number | null) {
    super();
    this.pick = pick;
    this.role = role;
    this.uses = uses;
  }
  check(model: Readonly<HostModel>): boolean {
    return model.open().length > 0;
  }
  async act(model: HostModel, world: HostWorld): Promise<void> {
    const conn = actor(model, this.pick);
    const t = world.tracked(conn);
    const body = {
      t: 'invite-create',
      room: PRIVATE_ROOM,
      role: this.role,
      uses: this.uses,
      expiresInMs: null,
    };
    const m = await answered(world, t, await ask(t, body), 'made an invite');
    if (manageLimited(model, world, conn, m)) return;
    const refusal = inviteVerdict(model, conn.key, this.role);
    if (refusal) return expectCode(world, t, m, refusal, 'invite-create');
    if (
      m.t !== 'invite' ||
      m.invite.room !== PRIVATE_ROOM ||
      m.invite.role !== this.role ||
      m.invite.usesLeft !== this.uses
    ) {
      world.fail(`${t.label} made a ${this.role} invite: got ${JSON.stringify(m).slice(0, 200)}`);
    }
    world.count('invite-create done');
    model.invites.push({
      token: m.token,
      id: m.invite.id,
      role: this.role,
      maker: conn.key,
      usesLeft: this.uses,
      revoked: false,
    });
  }
  toString(): string {
    return `createInvite(${this.pick},${this.role},${this.uses})`;
  }
}

export class RevokeInvite extends Step {
  readonly kind = 'invite-revoke';
  readonly pick: number;
  readonly which: number;
  constructor(pick: number, which: number) {
    super();
    this.pick = pick;
    this.which = which;
  }
  check(model: Readonly<HostModel>): boolean {
    return model.open().length > 0;
  }
  async act(model: HostModel, world: HostWorld): Promise<void> {
    const conn = actor(model, this.pick);
    const t = world.tracked(conn);
    const made = model.invites.filter((i) => i.id !== undefined);
    const invite = made.length > 0 && this.which % 4 !== 3 ? choose(made, this.which) : undefined;
    const id = invite?.id ?? 'noSuchInvite';
    const m = await answered(
      world,
      t,
      await ask(t, { t: 'invite-revoke', room: PRIVATE_ROOM, id }),
      'revoked an invite',
    );
    if (manageLimited(model, world, conn, m)) return;
    const refusal =
      inviteVerdict(model, conn.key) ?? (!invite || invite.revoked ? 'invite-unknown' : undefined);
    if (refusal) return expectCode(world, t, m, refusal, 'invite-revoke');
    if (m.t !== 'done') world.fail(`${t.label} revoked an invite: ${JSON.stringify(m)}`);
    world.count('invite-revoke done');
    if (invite) invite.revoked = true;
  }
  toString(): string {
    return `revokeInvite(${this.pick},${this.which})`;
  }
}

// ── members ─────────────────────────────────────────────────────────────────────────────

export class Remove extends Step {
  readonly kind = 'remove';
  readonly pick: number;
  readonly pickTarget: number;
  readonly ban: boolean;
  target = 0;
  constructor(pick: number, pickTarget: number, ban: boolean) {
    super();
    this.pick = pick;
    this.pickTarget = pickTarget;
    this.ban = ban;
  }
  check(model: Readonly<HostModel>): boolean {
    return model.open().length > 0;
  }
  #verdict(model: HostModel, key: number): string | undefined {
    const actor = model.roles.get(key);
    if (!actor) return hidden(model, key);
    if (rank(actor) < rank('admin')) return 'forbidden';
    if (this.target === key) return 'forbidden';
    const target = model.roles.get(this.target);
    if (!target) return this.ban && model.known.has(this.target) ? undefined : 'not-member';
    if (rank(target) >= rank(actor)) return 'forbidden';
    return undefined;
  }
  async act(model: HostModel, world: HostWorld): Promise<void> {
    const conn = actor(model, this.pick);
    const t = world.tracked(conn);
    this.target = targetOf(model, conn.key, this.pickTarget);
    const from = positions(model, world, this.target);
    const body = {
      t: 'remove',
      room: PRIVATE_ROOM,
      key: world.keyTexts[this.target],
      ban: this.ban,
    };
    const what = this.ban ? 'banned' : 'removed';
    const m = await answered(world, t, await ask(t, body), `${what} k${this.target}`);
    if (manageLimited(model, world, conn, m)) return;
    const refusal = this.#verdict(model, conn.key);
    if (refusal) return expectCode(world, t, m, refusal, `remove k${this.target}`);
    if (m.t !== 'done') world.fail(`${t.label} ${what} k${this.target}: ${JSON.stringify(m)}`);
    world.count(`remove done${this.ban ? ' (ban)' : ''}`);
    if (this.ban) model.bans.add(this.target);
    if (!model.roles.delete(this.target)) return; // a ban ahead: nobody to remove
    model.makerRoleChanged(this.target);
    await expectRemoved(model, world, this.target, from, what, conn.key);
  }
  toString(): string {
    return `remove(${this.pick},${this.pickTarget},${this.ban ? 'ban' : 'no ban'})`;
  }
}

export class Unban extends Step {
  readonly kind = 'unban';
  readonly pick: number;
  readonly pickTarget: number;
  constructor(pick: number, pickTarget: number) {
    super();
    this.pick = pick;
    this.pickTarget = pickTarget;
  }
  check(model: Readonly<HostModel>): boolean {
    return model.open().length > 0;
  }
  async act(model: HostModel, world: HostWorld): Promise<void> {
    const conn = actor(model, this.pick);
    const t = world.tracked(conn);
    const banned = [...model.bans].sort();
    const target =
      banned.length > 0 && this.pickTarget % 3 !== 0
        ? choose(banned, this.pickTarget >> 2)
        : this.pickTarget % FIRST_NICKS.length;
    const body = { t: 'unban', room: PRIVATE_ROOM, key: world.keyTexts[target] };
    const m = await answered(world, t, await ask(t, body), `unbanned k${target}`);
    if (manageLimited(model, world, conn, m)) return;
    const refusal = inviteVerdict(model, conn.key); // the same rule: admins and owners
    if (refusal) return expectCode(world, t, m, refusal, 'unban');
    if (m.t !== 'done') world.fail(`${t.label} unbanned k${target}: ${JSON.stringify(m)}`);
    world.count('unban done');
    model.bans.delete(target);
  }
  toString(): string {
    return `unban(${this.pick},${this.pickTarget})`;
  }
}

export class Part extends Step {
  readonly kind = 'part';
  readonly pick: number;
  constructor(pick: number) {
    super();
    this.pick = pick;
  }
  check(model: Readonly<HostModel>): boolean {
    return model.open().length > 0;
  }
  async act(model: HostModel, world: HostWorld): Promise<void> {
    const conn = actor(model, this.pick);
    const t = world.tracked(conn);
    const from = positions(model, world, conn.key);
    const m = await answered(world, t, await ask(t, { t: 'part', room: PRIVATE_ROOM }), 'parted');
    if (manageLimited(model, world, conn, m)) return;
    const role = model.roles.get(conn.key);
    const refusal = !role
      ? model.visible(conn.key, PRIVATE_ROOM)
        ? 'not-member'
        : 'unknown-room'
      : role === 'owner' && model.owners() <= 1 && model.roles.size > 1
        ? 'forbidden'
        : undefined;
    if (refusal) return expectCode(world, t, m, refusal, 'part');
    if (m.t !== 'done') world.fail(`${t.label} parted: ${JSON.stringify(m)}`);
    world.count('part done');
    model.roles.delete(conn.key);
    model.makerRoleChanged(conn.key);
    await expectRemoved(model, world, conn.key, from, 'parted', undefined);
  }
  toString(): string {
    return `part(${this.pick})`;
  }
}

export class SetRole extends Step {
  readonly kind = 'set-role';
  readonly pick: number;
  readonly pickTarget: number;
  readonly role: Role;
  target = 0;
  constructor(pick: number, pickTarget: number, role: Role) {
    super();
    this.pick = pick;
    this.pickTarget = pickTarget;
    this.role = role;
  }
  check(model: Readonly<HostModel>): boolean {
    return model.open().length > 0;
  }
  #verdict(model: HostModel, key: number): string | undefined {
    const actor = model.roles.get(key);
    if (!actor) return hidden(model, key);
    const target = model.roles.get(this.target);
    if (!target) return 'not-member';
    if (this.target === key) {
      if (rank(this.role) > rank(actor)) return 'forbidden';
      if (actor === 'owner' && this.role !== 'owner' && model.owners() <= 1) return 'forbidden';
      return undefined;
    }
    if (rank(target) >= rank(actor)) return 'forbidden';
    if (rank(this.role) > rank(actor)) return 'forbidden';
    return undefined;
  }
  async act(model: HostModel, world: HostWorld): Promise<void> {
    const conn = actor(model, this.pick);
    const t = world.tracked(conn);
    this.target = targetOf(model, conn.key, this.pickTarget);
    const body = {
      t: 'set-role',
      room: PRIVATE_ROOM,
      key: world.keyTexts[this.target],
      role: this.role,
    };
    const m = await answered(world, t, await ask(t, body), `made k${this.target} ${this.role}`);
    if (manageLimited(model, world, conn, m)) return;
    const refusal = this.#verdict(model, conn.key);
    if (refusal) return expectCode(world, t, m, refusal, 'set-role');
    if (m.t !== 'done') world.fail(`${t.label} set k${this.target}'s role: ${JSON.stringify(m)}`);
    world.count('set-role done');
    model.roles.set(this.target, this.role);
    model.makerRoleChanged(this.target);
  }
  toString(): string {
    return `setRole(${this.pick},${this.pickTarget},${this.role})`;
  }
}

/**
 * How the host may refuse a send of a key removed from PRIVATE_ROOM, sent as the removal was made
 * (`rate-limited` aside). Still waiting for the removal's commit, it is `unknown-room`
 * (docs/protocol.md §11); read after the removal, it is a send to a room the connection is not
 * in: `not-in-room` if the key may still see the room (opened, and this key not banned), else
 * `unknown-room` (§13's send checks). Which of the two happened depends on the order the host
 * reads the two connections, which nobody controls.
 */
export function removedSendRefusals(model: Readonly<HostModel>, key: number): readonly string[] {
  const mayStillSee = !model.roles.has(key) && model.visible(key, PRIVATE_ROOM);
  return mayStillSee
    ? ['unknown-room', 'not-in-room', 'rate-limited']
    : ['unknown-room', 'rate-limited'];
}

/**
 * An admin removes (or bans) a member whose connection is in the room while another member is
 * sending to it: the removal takes effect in its turn. Messages stored before it reached the
 * removed connection; none stored after it may, before or after its `removed`.
 */
export class RemoveWhileSending extends Step {
  readonly kind = 'remove-while-sending';
  readonly pick: number;
  readonly ban: boolean;
  readonly texts: readonly string[];
  constructor(pick: number, ban: boolean, texts: readonly string[]) {
    super();
    this.pick = pick;
    this.ban = ban;
    this.texts = texts;
  }
  #cast(model: Readonly<HostModel>) {
    const casts: { actor: ConnState; target: number; sender: ConnState }[] = [];
    const inRoom = model.open().filter((c) => c.rooms.has(PRIVATE_ROOM));
    for (const actor of model.open()) {
      const own = rank(model.roles.get(actor.key));
      if (own < rank('admin')) continue;
      for (const target of new Set(inRoom.map((c) => c.key))) {
        if (target === actor.key || rank(model.roles.get(target)) >= own) continue;
        for (const sender of inRoom) {
          if (sender.key === target) continue;
          if (sender.strikes + this.texts.length >= LIMITS.floodStrikes) continue;
          casts.push({ actor, target, sender });
        }
      }
    }
    return casts.length > 0 ? choose(casts, this.pick) : undefined;
  }
  check(model: Readonly<HostModel>): boolean {
    return this.#cast(model) !== undefined;
  }
  async act(model: HostModel, world: HostWorld): Promise<void> {
    const cast = this.#cast(model);
    if (!cast) return;
    const { target } = cast;
    const ta = world.tracked(cast.actor);
    const ts = world.tracked(cast.sender);
    world.refreshHistory(model);
    const seqBefore = Math.max(0, ...world.rows.keys());
    const from = positions(model, world, target);
    const sentFrom = ts.conn.received.length;
    const messages = this.texts.map((text) => ({
      room: PRIVATE_ROOM,
      id: model.nextId(cast.sender.key),
      text,
    }));
    for (const message of messages) {
      model.sent.set(messageKey(cast.sender.key, message.id), {
        room: PRIVATE_ROOM,
        text: message.text,
      });
    }
    const half = Math.ceil(messages.length / 2);
    for (const message of messages.slice(0, half)) ts.conn.send({ t: 'send', ...message });
    // Half the time the first is stored before the removal is asked for: some come before it.
    const first = messages[0]?.id;
    if (this.pick % 2 === 1 && first !== undefined) {
      await ts.conn.answer(
        sentFrom,
        (x) => (x.t === 'ack' && x.id === first) || (x.t === 'error' && x.ref === first),
      );
    }
    // The one removed writes too, in the same tick: its sends may be queued at the removal.
    // Not one near its flood limit: already told to slow down, it would be closed for flooding.
    const writer = model
      .connectionsOf(target)
      .find((c) => c.rooms.has(PRIVATE_ROOM) && c.strikes + 2 < LIMITS.floodStrikes);
    const tw = writer && world.tracked(writer);
    const writerFrom = tw?.conn.received.length ?? 0;
    const own = this.texts.slice(0, 2).map((text) => ({
      room: PRIVATE_ROOM,
      id: model.nextId(target),
      text,
    }));
    for (const message of tw ? own : []) {
      model.sent.set(messageKey(target, message.id), { room: PRIVATE_ROOM, text: message.text });
      tw?.conn.send({ t: 'send', ...message });
    }
    const removal = ask(ta, {
      t: 'remove',
      room: PRIVATE_ROOM,
      key: world.keyTexts[target],
      ban: this.ban,
    });
    for (const message of messages.slice(half)) ts.conn.send({ t: 'send', ...message });

    const what = this.ban ? 'banned' : 'removed';
    const m = await answered(world, ta, await removal, `${what} k${target} mid-stream`);
    const removed = !manageLimited(model, world, cast.actor, m);
    if (removed) {
      if (m.t !== 'done') world.fail(`${ta.label} ${what} k${target}: ${JSON.stringify(m)}`);
      model.roles.delete(target);
      model.makerRoleChanged(target);
      if (this.ban) model.bans.add(target);
      await expectRemoved(model, world, target, from, what, cast.actor.key);
    }

    // The sender's answers; the removed key is no longer among the recipients.
    const state = model.keys[cast.sender.key];
    const last = messages.at(-1)?.id ?? '';
    const end = await ts.conn.answer(sentFrom, (x) =>
      x.t === 'ack' ? x.id === last : x.t === 'error' && x.ref === last,
    );
    if (end.kind === 'closed') {
      await world.settleHostExit();
      world.fail(
        `${ts.label} sent ${messages.length} while k${target} was removed: ${describe(end)}`,
      );
    }
    for (const message of messages) {
      const mk = messageKey(cast.sender.key, message.id);
      const at = ts.conn.received.findIndex(
        (x, i) =>
          i >= sentFrom &&
          ((x.t === 'ack' && x.id === message.id) || (x.t === 'error' && x.ref === message.id)),
      );
      const answer = ts.conn.received[at];
      if (answer?.t === 'ack') {
        model.acked.set(mk, { key: cast.sender.key, ...message, seq: answer.seq });
        world.ackedBy.set(mk, ts);
        world.expectDelivery(model, mk, answer.seq, ts, PRIVATE_ROOM);
      } else if (answer?.t === 'error' && answer.code === 'rate-limited') {
        ts.claimed.add(at);
        cast.sender.strikes++;
        state?.outbox.push({ ...message, uncertain: false });
      } else {
        world.fail(`${ts.label} sent ${mk} mid-removal: ${JSON.stringify(answer).slice(0, 200)}`);
      }
    }
    // Split by the removal's event: before it, the removed connections in the room got every
    // message (they were members); after it, none.
    world.refreshHistory(model);
    const eventSeq = removed
      ? world.roomRows(PRIVATE_ROOM).find((row) => row.event && row.seq > seqBefore)?.seq
      : Number.MAX_SAFE_INTEGER;
    if (eventSeq === undefined) world.fail(`no event row for k${target}'s removal`);
    // The removed one's own sends: stored before its removal, or refused as for no room.
    for (const message of own) {
      if (!tw || !writer) break;
      const mk = messageKey(target, message.id);
      const answer = await tw.conn.answer(
        writerFrom,
        (x) => (x.t === 'ack' && x.id === message.id) || (x.t === 'error' && x.ref === message.id),
      );
      if (answer.kind !== 'message') {
        world.fail(`${tw.label} sent ${mk} as it was removed: ${describe(answer)}`);
      }
      const x = answer.message;
      if (x.t === 'ack' && x.seq < eventSeq) {
        model.acked.set(mk, { key: target, ...message, seq: x.seq });
        world.ackedBy.set(mk, tw);
        world.expectDelivery(model, mk, x.seq, tw, PRIVATE_ROOM);
        world.count('remove-while-sending: own send stored');
      } else if (x.t === 'error' && removedSendRefusals(model, target).includes(x.code)) {
        tw.claimed.add(answer.index);
        model.refused.add(mk); // not stored; a client does not resend to a room it is not in
        if (x.code === 'rate-limited') writer.strikes++;
        world.count(`remove-while-sending: own send refused ${x.code}`);
      } else {
        world.fail(
          `${tw.label} was removed at seq ${eventSeq}; its ${mk} got ${JSON.stringify(x)}`,
        );
      }
    }
    if (!removed) return;
    world.count(`remove-while-sending done${this.ban ? ' (ban)' : ''}`);
    for (const [conn, start] of from) {
      const t = world.tracked(conn);
      const got = t.conn.received
        .slice(start)
        .flatMap((x) => (x.t === 'msg' && x.room === PRIVATE_ROOM && !x.history ? [x] : []));
      const late = got.filter((x) => x.seq > eventSeq);
      if (late.length > 0) {
        world.fail(`${t.label} was removed at seq ${eventSeq} and got msg seq ${late[0]?.seq}`);
      }
      if (!t.rooms.has(PRIVATE_ROOM)) continue; // it was not in the room: nothing was owed
      const owed = messages.flatMap((message) => {
        const acked = model.acked.get(messageKey(cast.sender.key, message.id));
        return acked && acked.seq < eventSeq ? [acked.seq] : [];
      });
      const missing = owed.filter((seq) => !got.some((x) => x.seq === seq));
      if (missing.length > 0) {
        world.fail(
          `${t.label} was in the room before seq ${eventSeq}, missed msg seq ${missing[0]}`,
        );
      }
      world.count(`remove-while-sending: ${owed.length > 0 ? 'some' : 'none'} before`);
    }
  }
  toString(): string {
    return `removeWhileSending(${this.pick},${this.ban ? 'ban' : 'no ban'},${this.texts.length})`;
  }
}

/** The owner opens the room to anyone who connects (but the banned), or closes it again. */
export class SetOpen extends Step {
  readonly kind = 'set-open';
  readonly pick: number;
  readonly open: boolean;
  constructor(pick: number, open: boolean) {
    super();
    this.pick = pick;
    this.open = open;
  }
  check(model: Readonly<HostModel>): boolean {
    return model.open().length > 0;
  }
  async act(model: HostModel, world: HostWorld): Promise<void> {
    const conn = actor(model, this.pick);
    const t = world.tracked(conn);
    const body = { t: 'set-open', room: PRIVATE_ROOM, open: this.open };
    const m = await answered(world, t, await ask(t, body), `set open ${this.open}`);
    if (manageLimited(model, world, conn, m)) return;
    const own = model.roles.get(conn.key);
    const refusal = own === 'owner' ? undefined : hidden(model, conn.key);
    if (refusal) return expectCode(world, t, m, refusal, 'set-open');
    if (m.t !== 'done') world.fail(`${t.label} set open ${this.open}: ${JSON.stringify(m)}`);
    world.count(`set-open ${this.open} done`);
    model.privateRoomOpen = this.open;
  }
  toString(): string {
    return `setOpen(${this.pick},${this.open})`;
  }
}
