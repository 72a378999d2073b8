import type fc from 'fast-check';
import { foldNick } from '../../../src-main/server/db/fold-nick.ts';
import { encodeMessage } from '../../../src-main/protocol/wire/codec.ts';
import type { HostMessage } from '../../../src-main/protocol/wire/messages.ts';
import type { Answer } from './model-connection.ts';
import type { HostWorld, Tracked } from './host-world.ts';
import {
  type ConnState,
  type HostModel,
  ALL_ROOMS,
  JOINED,
  LIMITS,
  MAX_MESSAGE_BYTES,
  PRIVATE_ROOM,
  ROOMS,
  SLOT_KEYS,
  describeText,
  messageKey,
  sendVerdict,
} from './model.ts';

/**
 * The commands of the host model test. Each picks its connection among those the model allows
 * (`pick` modulo their number, so a shrunk sequence stays runnable), sends its request over the
 * wire, checks the answer against the model, updates the model, and then lets the world check
 * every invariant (HostWorld.settle).
 */
export type HostCommand = fc.AsyncCommand<HostModel, HostWorld>;

export abstract class Step implements HostCommand {
  abstract readonly kind: string;
  abstract check(model: Readonly<HostModel>): boolean;
  protected abstract act(model: HostModel, world: HostWorld): Promise<void>;
  abstract toString(): string;

  async run(model: HostModel, world: HostWorld): Promise<void> {
    world.steps++;
    world.count(this.kind);
    world.assertHostAlive();
    world.syncInvites(model);
    await this.act(model, world);
    await world.settle(model);
  }
}

export function choose<T>(items: readonly T[], pick: number): T {
  const item = items[pick % items.length];
  if (item === undefined) throw new Error('nothing to choose from');
  return item;
}

/** Sends a request and waits for the answer `match` accepts, an `error`, or the close. */
async function request(
  t: Tracked,
  message: object,
  match: (m: HostMessage) => boolean,
): Promise<Answer> {
  const from = t.conn.received.length;
  t.conn.send(message);
  const answer = await t.conn.answer(from, (m) => match(m) || m.t === 'error');
  if (answer.kind === 'message' && answer.message.t === 'error') t.claimed.add(answer.index);
  return answer;
}

export function describe(answer: Answer): string {
  if (answer.kind === 'closed') return `close ${answer.info.code} (${answer.info.reason})`;
  const m = answer.message;
  return m.t === 'error' ? `error ${m.code} "${m.message}"` : JSON.stringify(m).slice(0, 200);
}

export const errorCode = (answer: Answer): string | undefined =>
  answer.kind === 'message' && answer.message.t === 'error' ? answer.message.code : undefined;

/** The host ended this connection as the model allows: the model forgets it. */
function closed(model: HostModel, world: HostWorld, conn: ConnState, departs: string[]): void {
  const lastOfKey = model.connectionsOf(conn.key).length === 1;
  if (lastOfKey) world.departures.set(conn.key, departs);
  model.slots[conn.slot] = undefined;
  world.retire(conn.slot);
}

/** A budget the host may apply to any request (docs/protocol.md §10): refused, nothing changes. */
export function rateLimited(world: HostWorld, answer: Answer, what: string): boolean {
  if (errorCode(answer) !== 'rate-limited') return false;
  world.count(`${what} rate-limited`);
  return true;
}

// ── connections ─────────────────────────────────────────────────────────────────────────

/**
 * Right after the welcome, the rooms the key may see: the open ones (with role `member` once
 * it joined one), and the private one only if it is a member or the room is open to it.
 */
function checkRoomList(model: HostModel, world: HostWorld, t: Tracked, answer: Answer): void {
  if (answer.kind !== 'message' || answer.message.t !== 'rooms') {
    world.fail(`${t.label} was welcomed and got ${describe(answer)}, not its rooms`);
  }
  const got = answer.message.rooms
    .map((r) => `${r.room}:${r.role ?? '-'}:${r.open}`)
    .sort()
    .join(' ');
  const want = ALL_ROOMS.filter((room) => model.visible(t.key, room))
    .map((room) => {
      const role =
        room === PRIVATE_ROOM
          ? model.roles.get(t.key)
          : model.openMembers.has(`${t.key}/${room}`)
            ? 'member'
            : undefined;
      const open = room === PRIVATE_ROOM ? model.privateRoomOpen : true;
      return `${room}:${role ?? '-'}:${open}`;
    })
    .sort()
    .join(' ');
  if (got !== want) world.fail(`${t.label}'s room list is [${got}], the model says [${want}]`);
}

export class Connect extends Step {
  readonly kind = 'connect';
  readonly pick: number;
  readonly rooms: readonly string[];
  constructor(pick: number, rooms: readonly string[]) {
    super();
    this.pick = pick;
    this.rooms = rooms;
  }
  check(model: Readonly<HostModel>): boolean {
    return model.closedSlots().length > 0;
  }
  async act(model: HostModel, world: HostWorld): Promise<void> {
    const slot = choose(model.closedSlots(), this.pick);
    const key = SLOT_KEYS[slot] ?? 0;
    const nick = model.helloNick(key);
    const t = await world.connect(model, slot, nick);
    const answer = await t.conn.answer(0, (m) => m.t === 'welcome');
    if (answer.kind === 'closed' || answer.message.t !== 'welcome') {
      await world.settleHostExit();
      world.fail(`${t.label} said hello as "${nick}" and got ${describe(answer)}, not welcome`);
    }
    if (answer.message.nick !== nick || answer.message.fp !== world.fingerprints[key]) {
      world.fail(`${t.label} was welcomed as ${answer.message.nick}, not as "${nick}"`);
    }
    checkRoomList(model, world, t, await t.conn.answer(answer.index, (m) => m.t === 'rooms'));
    model.slots[slot] = {
      slot,
      key,
      generation: t.generation,
      nick,
      rooms: new Set(),
      strikes: 0,
    };
    model.nickOwners.set(foldNick(nick), key);
    model.known.add(key);
    const state = model.keys[key];
    if (state) state.nick = nick;
    const conn = model.slots[slot];
    // As a client does on (re)connecting: it joins its rooms again, and mostly the private
    // room when it is a member (a client joins every room it has a role in).
    const rooms = new Set(this.rooms);
    if (model.roles.has(key) && this.pick % 3 !== 0) rooms.add(PRIVATE_ROOM);
    for (const room of rooms) if (conn) await joinRoom(model, world, conn, room);
  }
  toString(): string {
    return `connect(${this.pick},[${this.rooms.join(',')}])`;
  }
}

/** A hello with a nickname another key owns: refused with `nick-taken`, never welcomed. */
export class ConnectWithTakenNick extends Step {
  readonly kind = 'connect-taken-nick';
  readonly pick: number;
  readonly pickNick: number;
  constructor(pick: number, pickNick: number) {
    super();
    this.pick = pick;
    this.pickNick = pickNick;
  }
  #choice(model: Readonly<HostModel>): { slot: number; nick: string } | undefined {
    const options = model
      .closedSlots()
      .flatMap((slot) =>
        [...model.keys]
          .filter((k) => k.index !== SLOT_KEYS[slot] && model.ownerOf(k.nick) === k.index)
          .map((k) => ({ slot, nick: k.nick })),
      );
    return options.length > 0 ? choose(options, this.pick + this.pickNick) : undefined;
  }
  check(model: Readonly<HostModel>): boolean {
    return this.#choice(model) !== undefined;
  }
  async act(model: HostModel, world: HostWorld): Promise<void> {
    const choice = this.#choice(model);
    if (!choice) return;
    const t = await world.connect(model, choice.slot, choice.nick);
    const answer = await t.conn.answer(0, (m) => m.t === 'welcome');
    if (answer.kind !== 'closed' || answer.info.code !== 'nick-taken') {
      await world.settleHostExit();
      world.fail(`${t.label} said hello as another key's "${choice.nick}": ${describe(answer)}`);
    }
    world.retire(choice.slot);
  }
  toString(): string {
    return `connectWithTakenNick(${this.pick},${this.pickNick})`;
  }
}

export class Disconnect extends Step {
  readonly kind = 'disconnect';
  readonly pick: number;
  readonly how: 'drop' | 'bye';
  constructor(pick: number, how: 'drop' | 'bye') {
    super();
    this.pick = pick;
    this.how = how;
  }
  check(model: Readonly<HostModel>): boolean {
    return model.open().length > 0;
  }
  async act(model: HostModel, world: HostWorld): Promise<void> {
    const conn = choose(model.open(), this.pick);
    const t = world.tracked(conn);
    if (this.how === 'drop') t.conn.drop();
    else t.conn.bye();
    // A clean goodbye shows as `left`, as leaving does; a lost connection as `disconnected`.
    closed(model, world, conn, this.how === 'drop' ? ['disconnected'] : ['left']);
  }
  toString(): string {
    return `disconnect(${this.pick},${this.how})`;
  }
}

// ── rooms ───────────────────────────────────────────────────────────────────────────────

/** Joins a room and checks the replay; the member list is checked by HostWorld.settle. */
export async function joinRoom(
  model: HostModel,
  world: HostWorld,
  conn: ConnState,
  room: string,
): Promise<void> {
  const t = world.tracked(conn);
  const from = t.conn.received.length;
  const answer = await request(
    t,
    { t: 'join', room: room },
    (m) => m.t === 'synced' && m.room === room,
  );
  if (!model.visible(conn.key, room)) {
    if (errorCode(answer) !== 'unknown-room') {
      world.fail(`${t.label} joined "${room}", which it may not see: ${describe(answer)}`);
    }
    return;
  }
  if (rateLimited(world, answer, 'join')) return;
  if (answer.kind !== 'message' || answer.message.t !== 'synced') {
    world.fail(`${t.label} joined "${room}" and got ${describe(answer)}`);
  }
  // The replay between `joined` and `synced`: the room's newest messages, oldest first.
  world.refreshHistory(model);
  const reply = t.conn.received.slice(from, answer.index + 1);
  // Messages and room events alike: the replay is the room's timeline.
  const replayed = reply.flatMap((m) =>
    (m.t === 'msg' || m.t === 'event') && m.room === room ? [m.seq] : [],
  );
  const expected = world
    .roomRows(room)
    .slice(-LIMITS.historyOnJoin)
    .map((r) => r.seq);
  if (replayed.join(',') !== expected.join(',')) {
    world.fail(
      `${t.label} joined "${room}" and got a replay of seqs [${replayed.join(',')}], ` +
        `history's newest are [${expected.join(',')}]`,
    );
  }
  if (!reply.some((m) => m.t === 'joined' && m.room === room)) {
    world.fail(`${t.label} got "synced" for "${room}" without "joined"`);
  }
  conn.rooms.add(room);
  if (room !== PRIVATE_ROOM) model.openMembers.add(`${conn.key}/${room}`);
  // Joining the private room while it is open makes a member, as joining an open room does.
  else if (!model.roles.has(conn.key)) model.roles.set(conn.key, 'member');
}

/** How the host refuses a request about a room the connection is not in. */
function notInCode(model: HostModel, conn: ConnState, room: string): string {
  return model.visible(conn.key, room) ? 'not-in-room' : 'unknown-room';
}

export class Join extends Step {
  readonly kind = 'join';
  readonly pick: number;
  readonly room: string;
  constructor(pick: number, room: string) {
    super();
    this.pick = pick;
    this.room = room;
  }
  check(model: Readonly<HostModel>): boolean {
    return model.open().length > 0;
  }
  async act(model: HostModel, world: HostWorld): Promise<void> {
    await joinRoom(model, world, choose(model.open(), this.pick), this.room);
  }
  toString(): string {
    return `join(${this.pick},${this.room})`;
  }
}

export class Leave extends Step {
  readonly kind = 'leave';
  readonly pick: number;
  readonly room: string;
  constructor(pick: number, room: string) {
    super();
    this.pick = pick;
    this.room = room;
  }
  check(model: Readonly<HostModel>): boolean {
    return model.open().length > 0;
  }
  async act(model: HostModel, world: HostWorld): Promise<void> {
    const conn = choose(model.open(), this.pick);
    const t = world.tracked(conn);
    const answer = await request(
      t,
      { t: 'leave', room: this.room },
      (m) => m.t === 'left' && m.room === this.room,
    );
    if (!conn.rooms.has(this.room)) {
      if (errorCode(answer) !== notInCode(model, conn, this.room)) {
        world.fail(`${t.label} left "${this.room}" without being in it: ${describe(answer)}`);
      }
      return;
    }
    if (rateLimited(world, answer, 'leave')) return;
    if (answer.kind !== 'message' || answer.message.t !== 'left') {
      world.fail(`${t.label} left "${this.room}" and got ${describe(answer)}`);
    }
    conn.rooms.delete(this.room);
    if (!model.connectionsOf(conn.key).some((c) => c.rooms.has(this.room))) {
      world.departures.set(conn.key, ['left']);
    }
  }
  toString(): string {
    return `leave(${this.pick},${this.room})`;
  }
}

// ── messages ────────────────────────────────────────────────────────────────────────────

/**
 * Sends one message (fresh or a resend) and checks the answer against what the text allows;
 * updates the model by what the host decided. Shared by Send, Resend and ResendAcked.
 */
async function sendMessage(
  model: HostModel,
  world: HostWorld,
  conn: ConnState,
  message: { room: string; id: string; text: string },
  mode: 'fresh' | 'resend' | 'resend-acked',
): Promise<void> {
  const t = world.tracked(conn);
  const mk = messageKey(conn.key, message.id);
  if (!model.sent.has(mk)) model.sent.set(mk, { room: message.room, text: message.text });
  const state = model.keys[conn.key];
  if (!state) throw new Error('no key');
  const outboxAt = state.outbox.findIndex((u) => u.id === message.id);
  const unsent = outboxAt >= 0 ? state.outbox[outboxAt] : undefined;
  const storedBefore = world.storedSeq(conn.key, message.id);
  const forget = () => {
    if (outboxAt >= 0) state.outbox.splice(outboxAt, 1);
  };
  if (encodeMessage({ t: 'send', ...message }).length > MAX_MESSAGE_BYTES) {
    // No client can send this: its own request would not fit a record.
    world.count('send too big for a request');
    model.refused.add(mk);
    forget();
    return;
  }
  const answer = await request(
    t,
    { t: 'send', ...message },
    (m) => m.t === 'ack' && m.id === message.id,
  );
  const verdict = sendVerdict(message.text, {
    ...message,
    nick: conn.nick,
    fp: world.fingerprints[conn.key] ?? '',
    key: world.keyTexts[conn.key] ?? '',
  });
  const what = `${t.label} sent ${mk} to "${message.room}" (${describeText(message.text)}, msg ${verdict.encodedBytes} bytes)`;

  if (answer.kind === 'closed') {
    const { code } = answer.info;
    if (code === 'protocol-error' && verdict.malformed) {
      world.count('send refused: protocol-error');
      model.refused.add(mk);
      forget();
      closed(model, world, conn, ['disconnected', 'left']);
      return;
    }
    if (code === 'flooding' && conn.strikes >= LIMITS.floodStrikes) {
      world.count('send refused: flooding close');
      if (!unsent) state.outbox.push({ ...message, uncertain: false });
      closed(model, world, conn, ['disconnected', 'left']);
      return;
    }
    await world.settleHostExit();
    world.fail(`${what}: the host closed the connection: ${describe(answer)}`);
  }
  if (!conn.rooms.has(message.room)) {
    // Not stored; a malformed one may be refused for that first.
    const code = errorCode(answer);
    if (
      code !== notInCode(model, conn, message.room) &&
      !(verdict.malformed && code === 'bad-request')
    ) {
      world.fail(`${what} while not in it: ${describe(answer)}`);
    }
    model.refused.add(mk);
    forget();
    return;
  }
  const m = answer.message;
  if (m.t === 'ack') {
    if (verdict.malformed || verdict.tooLong) world.fail(`${what}: acknowledged, must be refused`);
    if (m.room !== message.room) world.fail(`${what}: acknowledged for room "${m.room}"`);
    conn.strikes = 0;
    forget();
    if (m.duplicate) {
      world.count('send acked duplicate');
      world.refreshHistory(model);
      const stored = world.storedSeq(conn.key, message.id);
      if (mode === 'fresh' || (mode === 'resend' && !unsent?.uncertain)) {
        world.fail(`${what}: acked as a duplicate, but was never stored before`);
      }
      if (stored !== m.seq)
        world.fail(`${what}: duplicate ack says seq ${m.seq}, history ${stored}`);
      if (mode === 'resend-acked' && model.acked.get(mk)?.seq !== m.seq) {
        world.fail(`${what}: duplicate ack says seq ${m.seq}, first ack said another`);
      }
      model.acked.set(mk, { key: conn.key, ...message, seq: m.seq });
      return;
    }
    if (mode === 'resend-acked' || storedBefore !== undefined) {
      world.fail(`${what}: stored again (seq ${m.seq}) though already stored`);
    }
    world.count('send acked');
    model.acked.set(mk, { key: conn.key, ...message, seq: m.seq });
    world.ackedBy.set(mk, t);
    world.expectDelivery(model, mk, m.seq, t, message.room);
    return;
  }
  if (m.t !== 'error') world.fail(`${what}: unexpected answer ${describe(answer)}`);
  if (m.ref !== undefined && m.ref !== message.id) {
    world.fail(`${what}: the error is about "${m.ref}", not the message id`);
  }
  switch (m.code) {
    case 'rate-limited':
      if (verdict.tooLong) world.fail(`${what}: rate-limited, must be refused as too long`);
      if (!(m.retryAfterMs !== undefined && m.retryAfterMs > 0)) {
        world.fail(`${what}: rate-limited without a retryAfterMs`);
      }
      world.count('send rate-limited');
      conn.strikes++;
      // Still to send; but a message already acknowledged is not (a client does not resend it).
      if (!unsent && mode !== 'resend-acked') state.outbox.push({ ...message, uncertain: false });
      return;
    case 'text-too-long':
      if (!verdict.mayBeTooLong && !verdict.malformed) {
        world.fail(`${what}: refused as text-too-long, but it fits`);
      }
      world.count('send refused: text-too-long');
      model.refused.add(mk);
      forget();
      return;
    case 'bad-request':
      if (!verdict.malformed) {
        world.fail(`${what}: refused as bad-request: "${m.message}"`);
      }
      world.count('send refused: bad-request');
      model.refused.add(mk);
      forget();
      return;
    default:
      world.fail(`${what}: refused with ${m.code} "${m.message}"`);
  }
}

export class Send extends Step {
  readonly kind = 'send';
  readonly pick: number;
  readonly room: string;
  readonly text: string;
  constructor(pick: number, room: string, text: string) {
    super();
    this.pick = pick;
    this.room = room;
    this.text = text;
  }
  check(model: Readonly<HostModel>): boolean {
    return model.open().length > 0;
  }
  async act(model: HostModel, world: HostWorld): Promise<void> {
    const conn = choose(model.open(), this.pick);
    const id = model.nextId(conn.key);
    const joined = [...conn.rooms].sort();
    const room =
      this.room === JOINED ? (joined.length > 0 ? choose(joined, this.pick) : ROOMS[0]) : this.room;
    await sendMessage(model, world, conn, { room, id, text: this.text }, 'fresh');
  }
  toString(): string {
    return `send(${this.pick},${this.room},${JSON.stringify(this.text).slice(0, 40)} ${describeText(this.text)})`;
  }
}

/**
 * Sends many messages in one go, as a client flushing its outbox does: they share a commit, and
 * the message budget runs out. Acked ones must be stored and delivered in the order sent; once
 * one is refused for the rate, every later one is too; past the strikes the host closes with
 * `flooding` (what was not answered then is uncertain, like a dropped connection's).
 */
export class Burst extends Step {
  readonly kind = 'burst';
  readonly pick: number;
  readonly texts: readonly string[];
  constructor(pick: number, texts: readonly string[]) {
    super();
    this.pick = pick;
    this.texts = texts;
  }
  #eligible(model: Readonly<HostModel>): ConnState[] {
    return model.open().filter((c) => c.rooms.size > 0);
  }
  check(model: Readonly<HostModel>): boolean {
    return this.#eligible(model).length > 0;
  }
  async act(model: HostModel, world: HostWorld): Promise<void> {
    const conn = choose(this.#eligible(model), this.pick);
    const room = choose([...conn.rooms].sort(), this.pick);
    const t = world.tracked(conn);
    const state = model.keys[conn.key];
    if (!state) return;
    const from = t.conn.received.length;
    const messages = this.texts.map((text) => ({ room, id: model.nextId(conn.key), text }));
    for (const message of messages) {
      model.sent.set(messageKey(conn.key, message.id), { room, text: message.text });
      t.conn.send({ t: 'send', ...message });
    }
    const answerTo = (id: string) =>
      t.conn.received.findIndex(
        (m, i) =>
          i >= from && ((m.t === 'ack' && m.id === id) || (m.t === 'error' && m.ref === id)),
      );
    const last = messages.at(-1)?.id ?? '';
    const end = await t.conn.answer(from, (m) =>
      m.t === 'ack' ? m.id === last : m.t === 'error' && m.ref === last,
    );
    let refused = 0;
    let lastSeq = 0;
    for (const message of messages) {
      const mk = messageKey(conn.key, message.id);
      const at = answerTo(message.id);
      const answer = at >= 0 ? t.conn.received[at] : undefined;
      const what = `${t.label} sent ${mk} in a burst of ${messages.length}`;
      if (!answer) {
        if (end.kind !== 'closed' || end.info.code !== 'flooding') {
          await world.settleHostExit();
          world.fail(`${what}: no answer to it; the connection ended with ${describe(end)}`);
        }
        // The close discards answers still queued, refusals included: count those as refused.
        const unanswered = messages.filter((m) => answerTo(m.id) < 0).length;
        if (conn.strikes + refused + unanswered <= LIMITS.floodStrikes) {
          world.fail(
            `${what}: closed for flooding after at most ${conn.strikes + refused + unanswered} refusals`,
          );
        }
        state.outbox.push({ ...message, uncertain: true });
        continue;
      }
      if (answer.t === 'ack') {
        if (refused > 0) world.fail(`${what}: acknowledged after an earlier one was rate-limited`);
        if (answer.seq <= lastSeq) world.fail(`${what}: stored out of order (seq ${answer.seq})`);
        lastSeq = answer.seq;
        model.acked.set(mk, { key: conn.key, ...message, seq: answer.seq });
        world.ackedBy.set(mk, t);
        world.expectDelivery(model, mk, answer.seq, t, room);
        world.count('burst acked');
      } else if (answer.t === 'error' && answer.code === 'rate-limited') {
        t.claimed.add(at);
        refused++;
        state.outbox.push({ ...message, uncertain: false });
        world.count('burst rate-limited');
      } else {
        world.fail(`${what}: answered ${JSON.stringify(answer).slice(0, 200)}`);
      }
    }
    if (end.kind === 'closed') {
      world.count('burst closed: flooding');
      closed(model, world, conn, ['disconnected', 'left']);
    } else {
      conn.strikes = refused > 0 ? conn.strikes + refused : 0;
    }
  }
  toString(): string {
    return `burst(${this.pick},${this.texts.length} messages)`;
  }
}

/** Sends and drops the connection at once: the host may or may not have stored the message. */
export class SendAndDrop extends Step {
  readonly kind = 'send-and-drop';
  readonly pick: number;
  readonly text: string;
  constructor(pick: number, text: string) {
    super();
    this.pick = pick;
    this.text = text;
  }
  #eligible(model: Readonly<HostModel>): ConnState[] {
    return model.open().filter((c) => c.rooms.size > 0);
  }
  check(model: Readonly<HostModel>): boolean {
    return this.#eligible(model).length > 0;
  }
  async act(model: HostModel, world: HostWorld): Promise<void> {
    const conn = choose(this.#eligible(model), this.pick);
    const room = choose([...conn.rooms].sort(), this.pick);
    const id = model.nextId(conn.key);
    const t = world.tracked(conn);
    model.sent.set(messageKey(conn.key, id), { room, text: this.text });
    t.conn.send({ t: 'send', room, id, text: this.text });
    t.conn.drop();
    model.keys[conn.key]?.outbox.push({ room, id, text: this.text, uncertain: true });
    closed(model, world, conn, ['disconnected']);
  }
  toString(): string {
    return `sendAndDrop(${this.pick},${JSON.stringify(this.text).slice(0, 40)})`;
  }
}

/** A reconnected client resends its oldest unacknowledged message, with the same id. */
export class Resend extends Step {
  readonly kind = 'resend';
  readonly pick: number;
  constructor(pick: number) {
    super();
    this.pick = pick;
  }
  #eligible(model: Readonly<HostModel>): ConnState[] {
    return model.open().filter((c) => {
      const first = model.keys[c.key]?.outbox[0];
      return first !== undefined && c.rooms.has(first.room);
    });
  }
  check(model: Readonly<HostModel>): boolean {
    return this.#eligible(model).length > 0;
  }
  async act(model: HostModel, world: HostWorld): Promise<void> {
    const conn = choose(this.#eligible(model), this.pick);
    const first = model.keys[conn.key]?.outbox[0];
    if (!first) return;
    await sendMessage(model, world, conn, first, 'resend');
  }
  toString(): string {
    return `resend(${this.pick})`;
  }
}

/** Resends a message already acknowledged: acked again as a duplicate, delivered to nobody. */
export class ResendAcked extends Step {
  readonly kind = 'resend-acked';
  readonly pick: number;
  readonly pickMessage: number;
  constructor(pick: number, pickMessage: number) {
    super();
    this.pick = pick;
    this.pickMessage = pickMessage;
  }
  #options(model: Readonly<HostModel>) {
    return model
      .open()
      .flatMap((conn) =>
        [...model.acked.values()]
          .filter((a) => a.key === conn.key && conn.rooms.has(a.room))
          .map((acked) => ({ conn, acked })),
      );
  }
  check(model: Readonly<HostModel>): boolean {
    return this.#options(model).length > 0;
  }
  async act(model: HostModel, world: HostWorld): Promise<void> {
    const { conn, acked } = choose(this.#options(model), this.pick + this.pickMessage);
    await sendMessage(model, world, conn, acked, 'resend-acked');
  }
  toString(): string {
    return `resendAcked(${this.pick},${this.pickMessage})`;
  }
}

// ── everything else ─────────────────────────────────────────────────────────────────────

export class Rename extends Step {
  readonly kind = 'rename';
  readonly pick: number;
  readonly nick: string;
  constructor(pick: number, nick: string) {
    super();
    this.pick = pick;
    this.nick = nick;
  }
  check(model: Readonly<HostModel>): boolean {
    return model.open().length > 0;
  }
  async act(model: HostModel, world: HostWorld): Promise<void> {
    const conn = choose(model.open(), this.pick);
    const t = world.tracked(conn);
    const answer = await request(t, { t: 'nick', nick: this.nick }, (m) => m.t === 'nick');
    if (rateLimited(world, answer, 'rename')) return;
    const ok = model.mayUse(conn.key, this.nick);
    if (!ok) {
      if (errorCode(answer) !== 'nick-taken') {
        world.fail(
          `${t.label} took k${model.ownerOf(this.nick)}'s "${this.nick}": ${describe(answer)}`,
        );
      }
      world.count('rename refused: nick-taken');
      return;
    }
    if (
      answer.kind !== 'message' ||
      answer.message.t !== 'nick' ||
      answer.message.nick !== this.nick
    ) {
      world.fail(`${t.label} renamed to "${this.nick}" and got ${describe(answer)}`);
    }
    world.count('rename done');
    // A nickname is the key's: every connection of the key takes it.
    for (const each of model.connectionsOf(conn.key)) each.nick = this.nick;
    model.nickOwners.set(foldNick(this.nick), conn.key);
    const state = model.keys[conn.key];
    if (state) state.nick = this.nick;
  }
  toString(): string {
    return `rename(${this.pick},${this.nick})`;
  }
}

export type Before =
  { readonly kind: 'newest' | 'zero' } | { readonly kind: 'at'; readonly pick: number };

export class History extends Step {
  readonly kind = 'history';
  readonly pick: number;
  readonly room: string;
  readonly before: Before;
  readonly limit: number;
  constructor(pick: number, room: string, before: Before, limit: number) {
    super();
    this.pick = pick;
    this.room = room;
    this.before = before;
    this.limit = limit;
  }
  check(model: Readonly<HostModel>): boolean {
    return model.open().length > 0;
  }
  async act(model: HostModel, world: HostWorld): Promise<void> {
    const conn = choose(model.open(), this.pick);
    const t = world.tracked(conn);
    world.refreshHistory(model);
    const rows = world.roomRows(this.room);
    const choice = this.before;
    let before = choice.kind === 'zero' ? 0 : Number.MAX_SAFE_INTEGER;
    if (choice.kind === 'at') before = rows.length > 0 ? choose(rows, choice.pick).seq : 1;
    const from = t.conn.received.length;
    const answer = await request(
      t,
      { t: 'history', room: this.room, before, limit: this.limit },
      (m) => m.t === 'history-end' && m.room === this.room,
    );
    if (!conn.rooms.has(this.room)) {
      if (errorCode(answer) !== notInCode(model, conn, this.room)) {
        world.fail(`${t.label} read "${this.room}"'s history while not in it: ${describe(answer)}`);
      }
      return;
    }
    if (rateLimited(world, answer, 'history')) return;
    if (answer.kind !== 'message' || answer.message.t !== 'history-end') {
      world.fail(`${t.label} asked for history and got ${describe(answer)}`);
    }
    const older = rows.filter((r) => r.seq < before);
    const want = older.slice(-this.limit).map((r) => r.seq);
    const page = t.conn.received.slice(from, answer.index);
    const got = page.flatMap((m) =>
      (m.t === 'msg' || m.t === 'event') && m.history && m.room === this.room ? [m.seq] : [],
    );
    if (got.join(',') !== want.join(',') || answer.message.more !== older.length > this.limit) {
      world.fail(
        `${t.label} asked "${this.room}" for ${this.limit} before ${before}: got seqs ` +
          `[${got.join(',')}] more=${answer.message.more}, history has [${want.join(',')}] ` +
          `more=${older.length > this.limit}`,
      );
    }
  }
  toString(): string {
    const before = this.before.kind === 'at' ? `at ${this.before.pick}` : this.before.kind;
    return `history(${this.pick},${this.room},${before},${this.limit})`;
  }
}

export class Typing extends Step {
  readonly kind = 'typing';
  readonly pick: number;
  readonly room: string;
  constructor(pick: number, room: string) {
    super();
    this.pick = pick;
    this.room = room;
  }
  check(model: Readonly<HostModel>): boolean {
    return model.open().length > 0;
  }
  async act(model: HostModel, world: HostWorld): Promise<void> {
    const conn = choose(model.open(), this.pick);
    const t = world.tracked(conn);
    if (conn.rooms.has(this.room)) model.typers.add(`${conn.key}/${this.room}`);
    const from = t.conn.received.length;
    t.conn.send({ t: 'typing', room: this.room });
    await t.conn.barrier();
    // Typing has no answer; a host may refuse it for its budget, or for a room one is not in.
    t.conn.received.forEach((m, i) => {
      if (i < from || m.t !== 'error') return;
      if (m.code === 'rate-limited' || (m.code === 'not-in-room' && !conn.rooms.has(this.room))) {
        t.claimed.add(i);
      }
    });
  }
  toString(): string {
    return `typing(${this.pick},${this.room})`;
  }
}

/** Requests no host may accept: each ends the connection with `protocol-error` (or `bad-request`). */
export const MALFORMED: readonly (readonly [string, Uint8Array | object])[] = [
  ['invalid UTF-8', Uint8Array.of(0xff, 0xfe, 0x7b)],
  ['not JSON', new TextEncoder().encode('join lobby')],
  ['a JSON array', new TextEncoder().encode('[{"t":"ping","n":1}]')],
  ['a JSON string', new TextEncoder().encode('"ping"')],
  ['no type', { room: 'lobby' }],
  ['an unknown type', { t: 'shout', room: 'lobby' }],
  ['a host message', { t: 'welcome', nick: 'alice', fp: 'X' }],
  ['a bad room name', { t: 'join', room: 'Lobby!' }],
  ['a room name too long', { t: 'join', room: 'a'.repeat(65) }],
  ['a short message id', { t: 'send', room: 'lobby', id: 'short', text: 'hi' }],
  ['a message id with a quote', { t: 'send', room: 'lobby', id: 'abcdefgh"', text: 'hi' }],
  ['an empty text', { t: 'send', room: 'lobby', id: 'abcdefghij', text: '' }],
  ['a text that is a number', { t: 'send', room: 'lobby', id: 'abcdefghij', text: 42 }],
  ['a history limit of 0', { t: 'history', room: 'lobby', before: 10, limit: 0 }],
  ['a history limit of 501', { t: 'history', room: 'lobby', before: 10, limit: 501 }],
  ['a negative before', { t: 'history', room: 'lobby', before: -1, limit: 5 }],
  ['a fractional ping', { t: 'ping', n: 1.5 }],
  ['a nickname with a space', { t: 'nick', nick: 'al ice' }],
  ['a nickname of 33', { t: 'nick', nick: 'n'.repeat(33) }],
  ['an empty object', {}],
  ['null', new TextEncoder().encode('null')],
  ['a deep array', new TextEncoder().encode('['.repeat(5000) + ']'.repeat(5000))],
];

export class Malformed extends Step {
  readonly kind = 'malformed';
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
    const conn = choose(model.open(), this.pick);
    const t = world.tracked(conn);
    const [name, body] = choose(MALFORMED, this.which);
    const from = t.conn.received.length;
    if (body instanceof Uint8Array) t.conn.sendRaw(body);
    else t.conn.send(body);
    const answer = await t.conn.answer(from, (m) => m.t === 'error');
    if (answer.kind === 'closed' && answer.info.code === 'protocol-error') {
      closed(model, world, conn, ['disconnected', 'left']);
      return;
    }
    if (errorCode(answer) === 'bad-request') {
      if (answer.kind === 'message') t.claimed.add(answer.index);
      return;
    }
    await world.settleHostExit();
    world.fail(`${t.label} sent ${name} and got ${describe(answer)}`);
  }
  toString(): string {
    return `malformed(${this.pick},${choose(MALFORMED, this.which)[0]})`;
  }
}

/**
 * The host stops — cleanly (SIGTERM: everyone told `shutdown`) or by a crash (SIGKILL) — and
 * starts again on the same folder. Nothing acknowledged may be lost; nicknames stay owned.
 */
export class Restart extends Step {
  readonly kind = 'restart';
  readonly how: 'SIGTERM' | 'SIGKILL';
  constructor(how: 'SIGTERM' | 'SIGKILL') {
    super();
    this.how = how;
  }
  check(): boolean {
    return true;
  }
  async act(model: HostModel, world: HostWorld): Promise<void> {
    const open = model.open();
    await world.restart(this.how);
    for (const conn of open) {
      const t = world.tracked(conn);
      const info = await t.conn.waitClosed();
      if (this.how === 'SIGTERM' && info.code !== 'shutdown') {
        world.fail(`${t.label} was not told "shutdown" when the host stopped: ${info.code}`);
      }
      model.slots[conn.slot] = undefined;
      world.retire(conn.slot);
    }
    world.count(`restart ${this.how}`);
  }
  toString(): string {
    return `restart(${this.how})`;
  }
}

/** Time passes: rate budgets refill, typing may be sent again. */
export class Pause extends Step {
  readonly kind = 'pause';
  readonly ms: number;
  constructor(ms: number) {
    super();
    this.ms = ms;
  }
  check(): boolean {
    return true;
  }
  async act(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, this.ms));
  }
  toString(): string {
    return `pause(${this.ms})`;
  }
}
