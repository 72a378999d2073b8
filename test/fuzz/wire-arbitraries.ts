import fc from 'fast-check';
import {
  type ClientMessage,
  type Hello,
  HostErrorCode,
  type HostInfo,
  type HostMessage,
  type InviteInfo,
  MAX_INVITE_TTL_MS,
  MAX_INVITE_USES,
  MAX_TOPIC_LENGTH,
  Role,
  type RoomEvent,
  RoomEventAction,
  type RoomInfo,
  WIRE_VERSION,
} from '../../src-main/protocol/wire/messages.ts';
import {
  type ChatEvent,
  type FileRef,
  MAX_FILE_BYTES,
  MAX_FILE_CHUNKS,
  relationOf,
} from '../../src-main/protocol/wire/chat-event.ts';
import { anyText } from './kit.ts';

// Generators for valid wire messages, per docs/protocol.md §8 and §11, so the properties can
// check both that every valid message is accepted (round trip) and what mutations of it become.
// The generators are kept in maps keyed by `t`, typed so that a message added to the schema
// without a generator here fails to compile rather than going unfuzzed.

export const roomArb = fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,63}$/);
/** Letters and digits of several scripts (one astral), plus `_ . -`: what §8 allows. */
const NICK_CHARS = [...'abcxyzABCXYZ0189_.-éßŁЖж中٣ǅ𝒜'];
export const nickArb = fc
  .array(fc.constantFrom(...NICK_CHARS), { minLength: 1, maxLength: 32 })
  .map((chars) => chars.join(''));
export const idArb = fc.stringMatching(/^[A-Za-z0-9_-]{8,64}$/);
export const keyArb = fc.stringMatching(/^[A-Za-z0-9_-]{43}$/);
export const fpArb = fc.string({ maxLength: 64 });
export const textArb = fc.oneof(
  { weight: 5, arbitrary: anyText(200).filter((t) => t.length > 0) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 16_384 }).map((n) => 'x'.repeat(n)) },
);
const seqArb = fc.maxSafeNat();
const intArb = fc.maxSafeInteger();
const ridArb = fc.maxSafeNat();
export const roleArb = fc.constantFrom(...Role.options);
export const inviteTokenArb = fc.stringMatching(/^[A-Za-z0-9_-]{24}$/);
const inviteIdArb = fc.stringMatching(/^[A-Za-z0-9_-]{8,16}$/);
/** Short topics of any text (a code point may be two UTF-16 units), and the longest allowed. */
const topicArb = fc.oneof(
  { weight: 5, arbitrary: anyText(MAX_TOPIC_LENGTH / 2) },
  { weight: 1, arbitrary: fc.constant('t'.repeat(MAX_TOPIC_LENGTH)) },
);
const personArb = fc.record({ nick: nickArb, key: keyArb });
/** Base64url of some bytes: MLS data the schema accepts (the host reads its header, §12). */
const mlsArb = fc.stringMatching(/^[A-Za-z0-9_-]{4,300}$/);
const deviceArb = keyArb;
const fileIdArb = fc.stringMatching(/^[A-Za-z0-9_-]{22}$/);
const chunkIndexArb = fc.integer({ min: 0, max: 32_767 });
/** Chunk ciphertext as the schema takes it (§13): short, or a whole chunk's length. */
const chunkDataArb = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9_-]{1,200}$/),
  fc.constant('A'.repeat(43_712)),
);

/** The conversation's events (docs/protocol.md §13), with what their `send` must carry. */
const eventTextArb = anyText(120).filter((t) => t.length > 0);
const fileRefArb: fc.Arbitrary<FileRef> = fc.record(
  {
    id: fileIdArb,
    name: anyText(60).filter((t) => t.length > 0 && new TextEncoder().encode(t).length <= 255),
    mime: fc.constantFrom('image/png', 'image/jpeg', 'application/pdf', 'text/plain'),
    size: fc.integer({ min: 0, max: MAX_FILE_BYTES }),
    chunks: fc.integer({ min: 1, max: MAX_FILE_CHUNKS }),
    key: fc.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    width: fc.integer({ min: 1, max: 100_000 }),
    height: fc.integer({ min: 1, max: 100_000 }),
  },
  { requiredKeys: ['id', 'name', 'mime', 'size', 'chunks', 'key'] },
);
export const chatEventArb: fc.Arbitrary<ChatEvent> = fc.oneof(
  fc.record(
    { type: fc.constant('text' as const), text: eventTextArb, reply: seqArb },
    { requiredKeys: ['type', 'text'] },
  ),
  fc.record({ type: fc.constant('edit' as const), target: seqArb, text: eventTextArb }),
  fc.record({ type: fc.constant('delete' as const), target: seqArb }),
  fc.record({
    type: fc.constant('react' as const),
    target: seqArb,
    emoji: fc.constantFrom('👍', '❤️', '😂', '🎉', '👍🏽', '👨‍👩‍👧'),
    on: fc.boolean(),
  }),
  fc.record({ type: fc.constant('read' as const), upTo: seqArb }),
  fc.record(
    { type: fc.constant('file' as const), file: fileRefArb, text: eventTextArb, reply: seqArb },
    { requiredKeys: ['type', 'file'] },
  ),
);
/** A `send`'s body of an event: `ev` with exactly the `rel` and `file` it calls for. */
const eventSendArb = chatEventArb.map((ev) => ({ ev, ...relationOf(ev) }));
const relationArb = fc.record({
  t: fc.constantFrom('edit' as const, 'delete' as const),
  seq: seqArb,
});

type ArbitrariesOf<M extends { t: string }> = { [T in M['t']]: fc.Arbitrary<Extract<M, { t: T }>> };

const clientArbs: ArbitrariesOf<ClientMessage> = {
  join: fc.record({ t: fc.constant('join'), room: roomArb }),
  leave: fc.record({ t: fc.constant('leave'), room: roomArb }),
  send: fc.oneof(
    fc.record({ t: fc.constant('send'), room: roomArb, id: idArb, text: textArb }),
    fc
      .tuple(fc.record({ t: fc.constant('send'), room: roomArb, id: idArb }), eventSendArb)
      .map(([send, body]) => ({ ...send, ...body })),
    // An encrypted room's event: the host sees only its relation and file.
    fc.record(
      {
        t: fc.constant('send'),
        room: roomArb,
        id: idArb,
        mls: mlsArb,
        epoch: seqArb,
        rel: relationArb,
        file: fileIdArb,
      },
      { requiredKeys: ['t', 'room', 'id', 'mls', 'epoch'] },
    ),
  ),
  typing: fc.record({ t: fc.constant('typing'), room: roomArb }),
  nick: fc.record({ t: fc.constant('nick'), nick: nickArb }),
  history: fc.record({
    t: fc.constant('history'),
    room: roomArb,
    before: seqArb,
    limit: fc.integer({ min: 1, max: 500 }),
  }),
  ping: fc.record({ t: fc.constant('ping'), n: intArb }),
  pong: fc.record({ t: fc.constant('pong'), n: intArb }),
  redeem: fc.record({ t: fc.constant('redeem'), rid: ridArb, token: inviteTokenArb }),
  'invite-create': fc.record({
    t: fc.constant('invite-create'),
    rid: ridArb,
    room: roomArb,
    role: roleArb,
    uses: fc.option(fc.integer({ min: 1, max: MAX_INVITE_USES }), { nil: null }),
    expiresInMs: fc.option(fc.integer({ min: 60_000, max: MAX_INVITE_TTL_MS }), { nil: null }),
  }),
  'invite-list': fc.record({ t: fc.constant('invite-list'), rid: ridArb, room: roomArb }),
  'invite-revoke': fc.record({
    t: fc.constant('invite-revoke'),
    rid: ridArb,
    room: roomArb,
    id: inviteIdArb,
  }),
  create: fc.record(
    { t: fc.constant('create'), rid: ridArb, room: roomArb, open: fc.boolean() },
    { requiredKeys: ['t', 'rid', 'room'] },
  ),
  topic: fc.record({ t: fc.constant('topic'), rid: ridArb, room: roomArb, topic: topicArb }),
  'set-open': fc.record({
    t: fc.constant('set-open'),
    rid: ridArb,
    room: roomArb,
    open: fc.boolean(),
  }),
  part: fc.record({ t: fc.constant('part'), rid: ridArb, room: roomArb }),
  remove: fc.record({
    t: fc.constant('remove'),
    rid: ridArb,
    room: roomArb,
    key: keyArb,
    ban: fc.boolean(),
  }),
  unban: fc.record({ t: fc.constant('unban'), rid: ridArb, room: roomArb, key: keyArb }),
  'set-role': fc.record({
    t: fc.constant('set-role'),
    rid: ridArb,
    room: roomArb,
    key: keyArb,
    role: roleArb,
  }),
  dm: fc.record({ t: fc.constant('dm'), rid: ridArb, key: keyArb }),
  'kp-publish': fc.record({
    t: fc.constant('kp-publish'),
    rid: ridArb,
    kps: fc.array(mlsArb, { minLength: 1, maxLength: 3 }),
  }),
  'kp-claim': fc.record({
    t: fc.constant('kp-claim'),
    rid: ridArb,
    room: roomArb,
    have: fc.array(deviceArb, { maxLength: 3 }),
  }),
  commit: fc.record(
    {
      t: fc.constant('commit'),
      rid: ridArb,
      room: roomArb,
      commit: mlsArb,
      welcome: mlsArb,
      to: fc.array(deviceArb, { maxLength: 3 }),
    },
    { requiredKeys: ['t', 'rid', 'room', 'commit'] },
  ),
  'file-start': fc.record({
    t: fc.constant('file-start'),
    rid: ridArb,
    room: roomArb,
    size: fc.integer({ min: 1, max: 1 << 30 }),
    chunks: fc.integer({ min: 1, max: 32_768 }),
  }),
  'file-chunk': fc.record({
    t: fc.constant('file-chunk'),
    file: fileIdArb,
    index: chunkIndexArb,
    data: chunkDataArb,
  }),
  'file-end': fc.record({ t: fc.constant('file-end'), rid: ridArb, file: fileIdArb }),
  'file-cancel': fc.record({ t: fc.constant('file-cancel'), rid: ridArb, file: fileIdArb }),
  'file-get': fc.record({
    t: fc.constant('file-get'),
    rid: ridArb,
    file: fileIdArb,
    index: chunkIndexArb,
  }),
};

export const clientMessageArb: fc.Arbitrary<ClientMessage> = fc.oneof(
  ...Object.values<fc.Arbitrary<ClientMessage>>(clientArbs),
);

const memberArb = fc.record(
  { nick: nickArb, fp: fpArb, key: keyArb, role: roleArb, online: fc.boolean() },
  { requiredKeys: ['nick', 'fp', 'key'] },
);

export const roomInfoArb: fc.Arbitrary<RoomInfo> = fc.record(
  {
    room: roomArb,
    kind: fc.constantFrom('room' as const, 'dm' as const),
    role: roleArb,
    topic: topicArb,
    open: fc.boolean(),
    peer: personArb,
  },
  { requiredKeys: ['room', 'kind', 'open'] },
);

const roomEventArb: fc.Arbitrary<RoomEvent> = fc.record(
  {
    t: fc.constant('event'),
    room: roomArb,
    seq: seqArb,
    ts: seqArb,
    action: fc.constantFrom(...RoomEventAction.options),
    actor: personArb,
    target: personArb,
    role: roleArb,
    topic: topicArb,
    history: fc.boolean(),
  },
  { requiredKeys: ['t', 'room', 'seq', 'ts', 'action'] },
);

const inviteInfoArb: fc.Arbitrary<InviteInfo> = fc.record(
  {
    id: inviteIdArb,
    room: roomArb,
    role: roleArb,
    usesLeft: fc.option(fc.nat({ max: MAX_INVITE_USES }), { nil: null }),
    expiresAt: fc.option(seqArb, { nil: null }),
    createdBy: personArb,
    createdAt: seqArb,
  },
  { requiredKeys: ['id', 'room', 'role', 'usesLeft', 'expiresAt', 'createdAt'] },
);

const hostArbs: ArbitrariesOf<HostMessage> = {
  welcome: fc.record({ t: fc.constant('welcome'), nick: nickArb, fp: fpArb }),
  joined: fc.record({ t: fc.constant('joined'), room: roomArb }),
  members: fc.record(
    {
      t: fc.constant('members'),
      room: roomArb,
      members: fc.array(memberArb, { maxLength: 5 }),
      last: fc.boolean(),
    },
    { requiredKeys: ['t', 'room', 'members'] },
  ),
  synced: fc.record({ t: fc.constant('synced'), room: roomArb }),
  left: fc.record({ t: fc.constant('left'), room: roomArb }),
  msg: fc
    .tuple(
      fc.record(
        {
          t: fc.constant('msg'),
          room: roomArb,
          seq: seqArb,
          id: idArb,
          from: nickArb,
          key: keyArb,
          ts: seqArb,
          history: fc.boolean(),
        },
        { requiredKeys: ['t', 'room', 'seq', 'id', 'from', 'key', 'ts'] },
      ),
      fc.oneof(
        fc.record({ text: textArb }),
        eventSendArb,
        fc.record({ mls: mlsArb, rel: relationArb, file: fileIdArb }, { requiredKeys: ['mls'] }),
        // A tombstone (§13): nothing of its content.
        fc.record({ deleted: fc.constant(true as const) }),
      ),
    )
    .map(([envelope, body]) => ({ ...envelope, ...body })),
  ack: fc.record(
    {
      t: fc.constant('ack'),
      room: roomArb,
      id: idArb,
      seq: seqArb,
      ts: seqArb,
      duplicate: fc.boolean(),
    },
    { requiredKeys: ['t', 'room', 'id', 'seq', 'ts'] },
  ),
  presence: fc.record(
    {
      t: fc.constant('presence'),
      room: roomArb,
      event: fc.constantFrom(
        'joined' as const,
        'left' as const,
        'disconnected' as const,
        'renamed' as const,
      ),
      nick: nickArb,
      fp: fpArb,
      key: keyArb,
      newNick: nickArb,
    },
    { requiredKeys: ['t', 'room', 'event', 'nick', 'fp', 'key'] },
  ),
  typing: fc.record({ t: fc.constant('typing'), room: roomArb, nick: nickArb, fp: fpArb }),
  nick: fc.record({ t: fc.constant('nick'), nick: nickArb }),
  'history-end': fc.record({ t: fc.constant('history-end'), room: roomArb, more: fc.boolean() }),
  error: fc.record(
    {
      t: fc.constant('error'),
      code: fc.constantFrom(...HostErrorCode.options),
      message: fc.string({ maxLength: 500 }),
      ref: fc.string({ maxLength: 100 }),
      rid: ridArb,
      retryAfterMs: seqArb,
    },
    { requiredKeys: ['t', 'code', 'message'] },
  ),
  ping: fc.record({ t: fc.constant('ping'), n: intArb }),
  pong: fc.record({ t: fc.constant('pong'), n: intArb }),
  rooms: fc.record({ t: fc.constant('rooms'), rooms: fc.array(roomInfoArb, { maxLength: 5 }) }),
  room: fc.record(
    { t: fc.constant('room'), info: roomInfoArb, rid: ridArb },
    { requiredKeys: ['t', 'info'] },
  ),
  removed: fc.record(
    {
      t: fc.constant('removed'),
      room: roomArb,
      reason: fc.constantFrom('removed' as const, 'banned' as const, 'parted' as const),
      by: personArb,
    },
    { requiredKeys: ['t', 'room', 'reason'] },
  ),
  event: roomEventArb,
  redeemed: fc.record({ t: fc.constant('redeemed'), rid: ridArb, room: roomArb, role: roleArb }),
  invite: fc.record({
    t: fc.constant('invite'),
    rid: ridArb,
    invite: inviteInfoArb,
    token: inviteTokenArb,
  }),
  invites: fc.record({
    t: fc.constant('invites'),
    rid: ridArb,
    room: roomArb,
    invites: fc.array(inviteInfoArb, { maxLength: 5 }),
  }),
  done: fc.record({ t: fc.constant('done'), rid: ridArb }),
  commit: fc.record(
    {
      t: fc.constant('commit'),
      room: roomArb,
      seq: seqArb,
      ts: seqArb,
      from: nickArb,
      key: keyArb,
      epoch: seqArb,
      data: mlsArb,
      history: fc.boolean(),
    },
    { requiredKeys: ['t', 'room', 'seq', 'ts', 'from', 'key', 'epoch', 'data'] },
  ),
  'mls-welcome': fc.record({
    t: fc.constant('mls-welcome'),
    room: roomArb,
    seq: seqArb,
    data: mlsArb,
  }),
  kps: fc.record({
    t: fc.constant('kps'),
    rid: ridArb,
    room: roomArb,
    devices: fc.array(fc.record({ key: keyArb, device: deviceArb }), { maxLength: 3 }),
    kps: fc.array(fc.record({ key: keyArb, device: deviceArb, kp: mlsArb }), { maxLength: 3 }),
  }),
  committed: fc.record({
    t: fc.constant('committed'),
    rid: ridArb,
    room: roomArb,
    seq: seqArb,
    epoch: seqArb,
  }),
  devices: fc.record({ t: fc.constant('devices'), room: roomArb }),
  'file-started': fc.record({ t: fc.constant('file-started'), rid: ridArb, file: fileIdArb }),
  'file-ack': fc.record({ t: fc.constant('file-ack'), file: fileIdArb, index: chunkIndexArb }),
  'file-data': fc.record({
    t: fc.constant('file-data'),
    rid: ridArb,
    file: fileIdArb,
    index: chunkIndexArb,
    data: chunkDataArb,
  }),
};

export const hostMessageArb: fc.Arbitrary<HostMessage> = fc.oneof(
  ...Object.values<fc.Arbitrary<HostMessage>>(hostArbs),
);

export const helloArb: fc.Arbitrary<Hello> = fc.record({
  v: fc.constant(WIRE_VERSION),
  nick: nickArb,
  software: fc.string({ maxLength: 100 }),
});

export const hostInfoArb: fc.Arbitrary<HostInfo> = fc.record({
  v: fc.constant(WIRE_VERSION),
  name: fc.string({ maxLength: 100 }),
  software: fc.string({ maxLength: 100 }),
  rooms: fc.array(roomArb, { maxLength: 10 }),
  limits: fc.record(
    {
      maxTextBytes: fc.integer({ min: 1, max: 1 << 20 }),
      messagesPerSecond: fc.double({ min: 0.001, max: 1e6, noNaN: true }),
      messageBurst: fc.integer({ min: 1, max: 1e6 }),
    },
    { requiredKeys: ['maxTextBytes', 'messagesPerSecond'] },
  ),
});

/** A JSON-level edit of a valid message: one field replaced, removed or added. */
export function mutateValue(value: object): fc.Arbitrary<unknown> {
  const keys = Object.keys(value);
  const odd = fc.oneof(
    fc.jsonValue({ maxDepth: 2 }),
    fc.constantFrom(null, '', -1, 1.5, 2 ** 53, -0, 1e308, [], {}, '__proto__', 'x'.repeat(70_000)),
  );
  return fc.oneof(
    fc.tuple(fc.constantFrom(...keys), odd).map(([k, v]) => ({ ...value, [k]: v })),
    fc
      .constantFrom(...keys)
      .map((k) => Object.fromEntries(Object.entries(value).filter(([key]) => key !== k))),
    fc.tuple(fc.string({ maxLength: 10 }), odd).map(([k, v]) => ({ ...value, [k]: v })),
    fc.constant(JSON.parse(`{"__proto__":{"polluted":true},"t":"ping","n":1}`) as unknown),
  );
}
