import type { DeviceIdentity } from '../e2ee/device-identity.ts';
import type { PersonPins } from '../e2ee/person-pins.ts';
import { safetyNumber } from '../e2ee/safety-number.ts';
import { safetyNumberLine } from './e2ee-lines.ts';
import type { E2eeWatch } from './e2ee-watch.ts';
import type { KnownPeople } from './known-people.ts';
import { escapeText, systemLine } from './line-format.ts';

export const E2EE_HELP = [
  'encryption: /verify NICK (the safety number to compare with NICK: the same 60 digits on both sides)',
];

/** What `/verify` needs: this install's device, and what is known of the others. */
export interface E2eeCommandContext {
  readonly device: DeviceIdentity | undefined;
  readonly pins: PersonPins | undefined;
  readonly watch: E2eeWatch;
  readonly people: KnownPeople;
  readonly now: () => number;
  out(line: string): void;
}

/**
 * `/verify NICK`: prints the safety number of this install's person and NICK's, from NICK's
 * person key as the room groups show it (else as pinned). Nothing goes to the host. Returns
 * false when `command` is not one of these commands.
 */
export function runE2eeCommand(
  ctx: E2eeCommandContext,
  command: string,
  args: readonly string[],
): boolean {
  if (command !== '/verify') return false;
  const say = (text: string) => ctx.out(systemLine(ctx.now(), text));
  const [nick, ...extra] = args;
  if (nick === undefined || extra.length > 0) {
    say('usage: /verify NICK');
    return true;
  }
  if (!ctx.device) {
    say('error e2ee-unavailable: this client has no end-to-end encryption device');
    return true;
  }
  const key = ctx.people.keyOf(nick);
  if (key === undefined) {
    say(`verify: nobody called ${escapeText(nick)} seen here (try /members in a room you share)`);
    return true;
  }
  const person = ctx.watch.personOf(key) ?? ctx.pins?.personOf(key);
  if (person === undefined) {
    say(
      `verify: no person key known for ${ctx.watch.who(key)} yet: they have no device in an ` +
        'end-to-end encrypted room you share',
    );
    return true;
  }
  const number = safetyNumber(
    { parleyKey: ctx.device.parleyKey, personKey: ctx.device.personKey },
    { parleyKey: key, personKey: person },
  );
  ctx.out(safetyNumberLine(ctx.now(), ctx.watch.who(key), number));
  return true;
}
