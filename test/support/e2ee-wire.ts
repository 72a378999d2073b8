import { decodeBase64Url, encodeBase64Url } from '../../src-shared/base64url.ts';
import type { ClientMessage, HostMessage } from '../../src-main/protocol/wire/messages.ts';
import type { E2eeRelay } from './e2ee-relay.ts';

/**
 * What the wire of an end-to-end encrypted room carried, read from members' relays: the MLS
 * ciphertext of a message, the commits the host ordered. For tests that run a group state
 * (a removed member's, an attacker's) against real traffic.
 */

type Msg = Extract<HostMessage, { t: 'msg' }>;
type CommitItem = Extract<HostMessage, { t: 'commit' }>;

function parsedFromClient(relay: E2eeRelay): ClientMessage[] {
  return relay.fromClient.flatMap((text) => {
    try {
      return [JSON.parse(text) as ClientMessage];
    } catch {
      return [];
    }
  });
}

/** The ciphertext of message `id`, as the host relayed it to any of these, or as it was sent. */
export function mlsOf(relays: readonly E2eeRelay[], id: string): string | undefined {
  for (const relay of relays) {
    const relayed = relay.fromHostParsed.find((m): m is Msg => m.t === 'msg' && m.id === id);
    if (relayed?.mls) return relayed.mls;
    const sent = parsedFromClient(relay).find((m) => m.t === 'send' && m.id === id);
    if (sent?.t === 'send' && sent.mls) return sent.mls;
  }
  return undefined;
}

/** Every message item the host sent one relay's client, for one room. */
export function msgsTo(relay: E2eeRelay, room: string): Msg[] {
  return relay.fromHostParsed.filter((m): m is Msg => m.t === 'msg' && m.room === room);
}

export interface SeenCommit {
  /** The epoch it ends (the group is at epoch + 1 after it). */
  readonly epoch: number;
  readonly seq: number;
  readonly data: string;
  /** The committer's key. */
  readonly by: string;
}

/**
 * The room's commits the host accepted, by the epoch each ends, from what these relays saw: the
 * commit items relayed to them, and their own commits with the host's `committed` answer.
 */
export function commitsSeen(relays: readonly E2eeRelay[], room: string): SeenCommit[] {
  const byEpoch = new Map<number, SeenCommit>();
  for (const relay of relays) {
    for (const item of relay.fromHostParsed) {
      if (item.t === 'commit' && item.room === room) {
        const commit = item as CommitItem;
        byEpoch.set(commit.epoch, {
          epoch: commit.epoch,
          seq: commit.seq,
          data: commit.data,
          by: commit.key,
        });
      }
    }
    const sent = parsedFromClient(relay);
    for (const answer of relay.fromHostParsed) {
      if (answer.t !== 'committed' || answer.room !== room) continue;
      const request = sent.find((m) => m.t === 'commit' && m.rid === answer.rid);
      if (request?.t === 'commit') {
        const epoch = answer.epoch - 1;
        byEpoch.set(epoch, { epoch, seq: answer.seq, data: request.commit, by: relay.clientKey });
      }
    }
  }
  return [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch);
}

/** The ciphertext with one byte changed `fromEnd` bytes before its end (default: the last). */
export function flipByte(mls: string, fromEnd = 1): string {
  const bytes = decodeBase64Url(mls);
  if (bytes === undefined) throw new Error('not base64url');
  const copy = Uint8Array.from(bytes);
  const at = copy.length - fromEnd;
  copy[at] = (copy[at] ?? 0) ^ 0x01;
  return encodeBase64Url(copy);
}
