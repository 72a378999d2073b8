import fc from 'fast-check';
import { utf8Length } from '../../../src-main/protocol/wire/codec.ts';
import { anyText } from '../../fuzz/kit.ts';
import {
  Burst,
  ConnectWithTakenNick,
  Connect,
  Disconnect,
  History,
  type HostCommand,
  Join,
  Leave,
  MALFORMED,
  Malformed,
  Pause,
  Rename,
  Resend,
  Restart,
  ResendAcked,
  Send,
  SendAndDrop,
  Typing,
} from './commands.ts';
import {
  CreateInvite,
  Part,
  Redeem,
  Remove,
  RemoveWhileSending,
  RevokeInvite,
  SetOpen,
  SetRole,
  Unban,
} from './membership-commands.ts';
import { ALL_ROOMS, JOINED, LIMITS, MAX_MESSAGE_BYTES, NICK_POOL, UNKNOWN_ROOM } from './model.ts';

/**
 * Characters that cost more once JSON-escaped than in UTF-8 (C0 and C1 controls, quotes,
 * backslashes, lone surrogates), characters of every UTF-8 length, and ones that disguise text
 * (bidi overrides, BOM, line separators).
 */
const UNITS = [
  'a',
  '\u0000',
  '\u0001',
  '\u001f',
  '\u007f',
  '\u0085',
  '\u009f',
  '"',
  '\\',
  'é',
  '€',
  '\u2028',
  '\u202e',
  '\ufeff',
  '😀',
  '\ud800',
  '\udfff',
] as const;

/** A text filling up to a limit, give or take a few characters: the bytes, or the record. */
const textAtALimit: fc.Arbitrary<string> = fc
  .record({
    prefix: anyText(12),
    unit: fc.constantFrom(...UNITS),
    limit: fc.constantFrom('bytes', 'record'),
    delta: fc.integer({ min: -4, max: 4 }),
    // The rest of a `msg` (room, seq, id, from, fp, key, ts): ~180 bytes, ~370 with the longest
    // room name and nickname; a guess on either side makes texts just over and just under.
    envelope: fc.integer({ min: 100, max: 400 }),
  })
  .map(({ prefix, unit, limit, delta, envelope }) => {
    const escaped = (s: string) => utf8Length(JSON.stringify(s)) - 2;
    const count =
      limit === 'bytes'
        ? Math.floor((LIMITS.maxTextBytes - utf8Length(prefix)) / utf8Length(unit))
        : Math.floor((MAX_MESSAGE_BYTES - envelope - escaped(prefix)) / escaped(unit));
    return prefix + unit.repeat(Math.max(1, count + delta));
  });

/** Any size up to past the byte limit, of one repeated character after a random start. */
const textOfAnySize: fc.Arbitrary<string> = fc
  .tuple(anyText(8), fc.constantFrom(...UNITS), fc.integer({ min: 1, max: 20_000 }))
  .map(([prefix, unit, count]) => prefix + unit.repeat(count));

export const messageText: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: anyText(200).filter((s) => s.length > 0) },
  { weight: 3, arbitrary: textAtALimit },
  { weight: 1, arbitrary: textOfAnySize },
  { weight: 1, arbitrary: anyText(3) },
);

const pick = fc.nat({ max: 1000 });
const room = fc.constantFrom(...ALL_ROOMS);
const role = fc.constantFrom('owner' as const, 'admin' as const, 'member' as const);
const anyRoom = fc.oneof(
  { weight: 8, arbitrary: room },
  { weight: 1, arbitrary: fc.constant(UNKNOWN_ROOM) },
);

/** The commands, weighted: mostly sends and joins, now and then something rude. */
export function hostCommands(maxCommands: number): fc.Arbitrary<Iterable<HostCommand>> {
  const connect = fc
    .tuple(pick, fc.subarray([...ALL_ROOMS]))
    .map(([p, rooms]) => new Connect(p, rooms));
  const join = fc.tuple(pick, anyRoom).map(([p, r]) => new Join(p, r));
  const sendRoom = fc.oneof(
    { weight: 5, arbitrary: fc.constant(JOINED) },
    { weight: 1, arbitrary: room },
  );
  const send = fc.tuple(pick, sendRoom, messageText).map(([p, r, t]) => new Send(p, r, t));
  const burst = fc
    .tuple(
      pick,
      fc.array(
        anyText(40).filter((s) => s.length > 0),
        { minLength: 2, maxLength: 50 },
      ),
    )
    .map(([p, texts]) => new Burst(p, texts));
  const weighted = (weight: number, arbitrary: fc.Arbitrary<HostCommand>) => ({
    weight,
    arbitrary,
  });
  const command: fc.Arbitrary<HostCommand> = fc.oneof(
    weighted(9, connect),
    weighted(9, join),
    weighted(18, send),
    weighted(
      3,
      fc.tuple(pick, room).map(([p, r]) => new Leave(p, r)),
    ),
    weighted(
      3,
      fc
        .tuple(pick, fc.constantFrom('drop' as const, 'bye' as const))
        .map(([p, how]) => new Disconnect(p, how)),
    ),
    weighted(
      3,
      fc
        .tuple(
          pick,
          anyText(60).filter((s) => s.length > 0),
        )
        .map(([p, t]) => new SendAndDrop(p, t)),
    ),
    weighted(6, burst),
    weighted(
      6,
      pick.map((p) => new Resend(p)),
    ),
    weighted(
      3,
      fc.tuple(pick, pick).map(([p, m]) => new ResendAcked(p, m)),
    ),
    weighted(
      3,
      fc.tuple(pick, fc.constantFrom(...NICK_POOL)).map(([p, n]) => new Rename(p, n)),
    ),
    weighted(
      3,
      fc.tuple(pick, pick).map(([p, n]) => new ConnectWithTakenNick(p, n)),
    ),
    weighted(
      3,
      fc
        .tuple(
          pick,
          room,
          fc.oneof(
            fc.constant({ kind: 'newest' as const }),
            fc.constant({ kind: 'zero' as const }),
            pick.map((p) => ({ kind: 'at' as const, pick: p })),
          ),
          fc.constantFrom(1, 2, 7, 100, 500),
        )
        .map(([p, r, b, l]) => new History(p, r, b, l)),
    ),
    weighted(
      3,
      fc.tuple(pick, room).map(([p, r]) => new Typing(p, r)),
    ),
    weighted(
      3,
      fc.tuple(pick, fc.nat({ max: MALFORMED.length - 1 })).map(([p, w]) => new Malformed(p, w)),
    ),
    weighted(
      3,
      fc.integer({ min: 50, max: 700 }).map((ms) => new Pause(ms)),
    ),
    // Membership of the private room: invites made, redeemed (or guessed), revoked; people
    // removed, banned, unbanned, promoted and demoted, and parting.
    weighted(
      6,
      fc.tuple(pick, pick).map(([p, w]) => new Redeem(p, w)),
    ),
    weighted(
      3,
      fc
        .tuple(pick, role, fc.constantFrom(1, 2, null))
        .map(([p, r, uses]) => new CreateInvite(p, r, uses)),
    ),
    weighted(
      1,
      fc.tuple(pick, pick).map(([p, w]) => new RevokeInvite(p, w)),
    ),
    weighted(
      3,
      fc.tuple(pick, pick, fc.boolean()).map(([p, k, ban]) => new Remove(p, k, ban)),
    ),
    weighted(
      5,
      fc
        .tuple(
          pick,
          fc.boolean(),
          fc.array(
            anyText(40).filter((s) => s.length > 0),
            { minLength: 2, maxLength: 6 },
          ),
        )
        .map(([p, ban, texts]) => new RemoveWhileSending(p, ban, texts)),
    ),
    weighted(
      1,
      fc.tuple(pick, pick).map(([p, k]) => new Unban(p, k)),
    ),
    weighted(
      1,
      pick.map((p) => new Part(p)),
    ),
    weighted(
      1,
      fc.tuple(pick, fc.boolean()).map(([p, open]) => new SetOpen(p, open)),
    ),
    weighted(
      2,
      fc.tuple(pick, pick, role).map(([p, k, r]) => new SetRole(p, k, r)),
    ),
    // A restart costs a second or so: about one in a hundred steps.
    weighted(
      1,
      fc.constantFrom('SIGTERM' as const, 'SIGKILL' as const).map((how) => new Restart(how)),
    ),
  );
  return fc.commands([command], { maxCommands, size: 'max' });
}
