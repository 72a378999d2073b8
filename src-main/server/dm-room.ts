// The name of the direct-message room of two keys: the same whichever of the two asks, and derived
// from the keys alone so that both find it without any lookup. It names no key readably.
import { createHash } from 'node:crypto';
import { DM_ROOM_PREFIX } from '../../src-shared/identifiers.ts';

const DM_NAME_HEX_LENGTH = 32;

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

/** `dm.` + the first 32 hex digits of sha256('parley-dm\0' + min(a, b) + max(a, b)). */
export function dmRoomName(a: Uint8Array, b: Uint8Array): string {
  const [low, high] = compareBytes(a, b) <= 0 ? [a, b] : [b, a];
  const digest = createHash('sha256')
    .update(Buffer.from('parley-dm\0', 'utf8'))
    .update(low)
    .update(high)
    .digest('hex');
  return DM_ROOM_PREFIX + digest.slice(0, DM_NAME_HEX_LENGTH);
}
