import type { EncryptionState } from '../client/session-events.ts';
import { escapeText, systemLine } from './line-format.ts';

/**
 * The line client's lines about end-to-end encryption (docs/line-client.md): each starts
 * `*** <time> [#<room> ]e2ee <what>` so a script can pick them out. `who` arguments are
 * `<nick> (<fp>)` texts already escaped (memberText).
 */

const STATE_TEXT: Readonly<Record<Exclude<EncryptionState['state'], 'not-encrypted'>, string>> = {
  encrypted:
    'encrypted: messages here are end-to-end encrypted; the host relays what it cannot read',
  joining:
    "joining: waiting for a member to add this device to the room's encryption; messages can be neither read nor sent until then",
  broken:
    "broken: this device could not follow the room's encryption and dropped it; it waits to be added again",
};

/** A room's encryption changed: set up, waiting for a Welcome, or broken. */
export function encryptionLine(ms: number, state: EncryptionState): string | undefined {
  if (state.state === 'not-encrypted') return undefined;
  const why = state.reason ? ` (${escapeText(state.reason)})` : '';
  return systemLine(ms, `e2ee ${STATE_TEXT[state.state]}${why}`, state.room);
}

/** A member's person key is not the one first seen for their Parley key (TOFU). */
export function keyChangedLine(ms: number, who: string, nick: string): string {
  return systemLine(
    ms,
    `e2ee key-changed ${who}: their messages now come from a device signed by another person key ` +
      'than the one first seen here; the host may have added it. Compare safety numbers ' +
      `(/verify ${nick}) before you trust what they say`,
  );
}

/** A member has a device the room's group did not have before. */
export function newDeviceLine(
  ms: number,
  room: string,
  who: string,
  device: string,
  devices: number,
): string {
  return systemLine(
    ms,
    `e2ee new-device ${who}: ${escapeText(device)}, ${devices} device${devices === 1 ? '' : 's'} now ` +
      '(a new install of theirs, or one the host added: ask them if unsure)',
    room,
  );
}

/** `/verify NICK`: the pair's safety number, the same on both sides. */
export function safetyNumberLine(ms: number, who: string, number: string): string {
  return systemLine(
    ms,
    `e2ee safety-number ${who}: ${number} (compare it with theirs in person or on a call; if it ` +
      'matches, nobody sits between your devices and theirs)',
  );
}
