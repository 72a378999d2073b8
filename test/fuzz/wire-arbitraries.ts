import fc from 'fast-check';
import {
  type ClientMessage,
  type Hello,
  type HostInfo,
  type HostMessage,
  WIRE_VERSION,
} from '../../src-main/protocol/wire/messages.ts';
import { anyText } from './kit.ts';

// Generators for valid wire messages, per docs/protocol.md §8, so the properties can check both
// that every valid message is accepted (round trip) and what mutations of it become.

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

export const clientMessageArb: fc.Arbitrary<ClientMessage> = fc.oneof(
  fc.record({ t: fc.constant('join' as const), room: roomArb }),
  fc.record({ t: fc.constant('leave' as const), room: roomArb }),
  fc.record({ t: fc.constant('send' as const), room: roomArb, id: idArb, text: textArb }),
  fc.record({ t: fc.constant('typing' as const), room: roomArb }),
  fc.record({ t: fc.constant('nick' as const), nick: nickArb }),
  fc.record({
    t: fc.constant('history' as const),
    room: roomArb,
    before: seqArb,
    limit: fc.integer({ min: 1, max: 500 }),
  }),
  fc.record({ t: fc.constant('ping' as const), n: intArb }),
  fc.record({ t: fc.constant('pong' as const), n: intArb }),
);

const memberArb = fc.record({ nick: nickArb, fp: fpArb, key: keyArb });

export const hostMessageArb: fc.Arbitrary<HostMessage> = fc.oneof(
  fc.record({ t: fc.constant('welcome' as const), nick: nickArb, fp: fpArb }),
  fc.record({ t: fc.constant('joined' as const), room: roomArb }),
  fc.record(
    {
      t: fc.constant('members' as const),
      room: roomArb,
      members: fc.array(memberArb, { maxLength: 5 }),
      last: fc.boolean(),
    },
    { requiredKeys: ['t', 'room', 'members'] },
  ),
  fc.record({ t: fc.constant('synced' as const), room: roomArb }),
  fc.record({ t: fc.constant('left' as const), room: roomArb }),
  fc.record(
    {
      t: fc.constant('msg' as const),
      room: roomArb,
      seq: seqArb,
      id: idArb,
      from: nickArb,
      fp: fpArb,
      key: keyArb,
      text: textArb,
      ts: seqArb,
      history: fc.boolean(),
    },
    { requiredKeys: ['t', 'room', 'seq', 'id', 'from', 'fp', 'key', 'text', 'ts'] },
  ),
  fc.record(
    {
      t: fc.constant('ack' as const),
      room: roomArb,
      id: idArb,
      seq: seqArb,
      ts: seqArb,
      duplicate: fc.boolean(),
    },
    { requiredKeys: ['t', 'room', 'id', 'seq', 'ts'] },
  ),
  fc.record(
    {
      t: fc.constant('presence' as const),
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
  fc.record({ t: fc.constant('typing' as const), room: roomArb, nick: nickArb, fp: fpArb }),
  fc.record({ t: fc.constant('nick' as const), nick: nickArb }),
  fc.record({ t: fc.constant('history-end' as const), room: roomArb, more: fc.boolean() }),
  fc.record(
    {
      t: fc.constant('error' as const),
      code: fc.constantFrom(
        'bad-request' as const,
        'unknown-room' as const,
        'not-in-room' as const,
        'text-too-long' as const,
        'rate-limited' as const,
        'nick-taken' as const,
        'internal' as const,
      ),
      message: fc.string({ maxLength: 500 }),
      ref: fc.string({ maxLength: 100 }),
      retryAfterMs: seqArb,
    },
    { requiredKeys: ['t', 'code', 'message'] },
  ),
  fc.record({ t: fc.constant('ping' as const), n: intArb }),
  fc.record({ t: fc.constant('pong' as const), n: intArb }),
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
