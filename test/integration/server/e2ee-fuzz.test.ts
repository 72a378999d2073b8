import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBase64Url, encodeBase64Url } from '../../../src-shared/base64url.ts';
import type { ClientMessage, HostMessage } from '../../../src-main/protocol/wire/messages.ts';
import { mutate, mutationsArb, runsWithin } from '../../fuzz/kit.ts';
import { clientMessageArb } from '../../fuzz/wire-arbitraries.ts';
import { type HostProcess, spawnHost } from '../../support/host-process.ts';
import { cleanupsAfterEach } from '../../support/lifecycle.ts';
import type { WireClient } from '../../support/wire-client.ts';
import { connectInstall, keyPackages, newGroup, newInstall } from './e2ee-kit.ts';

// What a member sends as MLS must never end the host, nor wedge the room: real commits,
// messages, Welcomes and KeyPackages with bytes flipped, cut, inserted or repeated, and any
// message the schema allows, into an end-to-end encrypted room on a real host process. Each
// request gets its one answer, with a code that says what was wrong.

const cleanups = cleanupsAfterEach();

/** What the host may answer a hostile MLS request with (a mutation may still be valid). */
const ALLOWED = new Set([
  'bad-request',
  'bad-key-package',
  'stale-epoch',
  'text-too-long',
  'e2ee-mismatch',
  'unknown-room',
  'not-in-room',
  'forbidden',
  'not-member',
  'room-exists',
  'too-many-rooms',
  'invite-unknown',
  'rate-limited',
  // The conversation's events and files (§13): a send's rel or file naming nothing of the
  // sender's, a file-start beyond the limits, a file request about no file.
  'no-such-message',
  'no-such-file',
  'file-too-large',
  'quota-exceeded',
]);

async function encryptedHost(): Promise<HostProcess> {
  const h = await spawnHost({
    e2ee: true,
    limits: {
      requestBurst: 1_000_000,
      manageBurst: 1_000_000,
      messageBurst: 1_000_000,
      messagesPerSecond: 1_000_000,
      membershipBurst: 1_000_000,
    },
  });
  cleanups.push(() => h.stop());
  return h;
}

/** Sends a request and resolves with its one answer (by rid, or by the send's id or room). */
async function answerTo(c: WireClient, request: ClientMessage): Promise<HostMessage | undefined> {
  const before = c.received.length;
  c.send(request);
  const ref = request.t === 'send' ? request.id : 'room' in request ? request.room : undefined;
  const rid = 'rid' in request ? request.rid : undefined;
  const deadline = Date.now() + 5000;
  for (;;) {
    const found = c.received.slice(before).find((m) => {
      if (rid !== undefined) return 'rid' in m && m.rid === rid;
      if (request.t === 'send')
        return (m.t === 'ack' || m.t === 'error') && ('id' in m ? m.id : m.ref) === ref;
      return false;
    });
    if (found || (rid === undefined && request.t !== 'send')) return found;
    if (Date.now() > deadline) throw new Error(`no answer to ${request.t}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

describe('hostile MLS into an end-to-end encrypted room (fuzz)', () => {
  it('mutated real MLS data: answered with a clear code, the host stays up and the room works', async () => {
    const h = await encryptedHost();
    const install = await newInstall();
    const alice = await connectInstall(h.port, h.publicKey, 'alice', install);
    cleanups.push(() => alice.close());
    expect(await alice.redeem(h.memberInvite ?? '')).toMatchObject({ t: 'redeemed' });
    expect(
      await alice.request({ t: 'kp-publish', kps: await keyPackages(install, 2) }),
    ).toMatchObject({ t: 'done' });
    await alice.join('lobby');
    const group = await newGroup(install);
    const first = await group.prepareCommit({ add: [], remove: [] });
    expect(await alice.request({ t: 'commit', room: 'lobby', commit: first.commit })).toMatchObject(
      {
        t: 'committed',
        epoch: 1,
      },
    );
    const at1 = first.next;
    // Real data of every kind, as seeds for the mutations.
    const other = await newInstall();
    const addOther = await at1.prepareCommit({ add: await keyPackages(other, 1), remove: [] });
    const seeds = {
      commit: addOther.commit,
      welcome: addOther.welcome ?? addOther.commit,
      message: (await at1.encrypt(new TextEncoder().encode('hello'))).data,
      keyPackage: (await keyPackages(install, 1))[0] ?? '',
    };
    const mutated = (seed: keyof typeof seeds) =>
      mutationsArb.map((mutations) => {
        const bytes = decodeBase64Url(seeds[seed]) ?? new Uint8Array();
        const text = encodeBase64Url(mutate(bytes, mutations));
        return text.length >= 4 ? text : `${text}AAAA`;
      });
    let rid = 1_000_000;
    let id = 0;
    const requests: fc.Arbitrary<ClientMessage> = fc.oneof(
      fc
        .tuple(mutated('commit'), fc.option(mutated('welcome'), { nil: undefined }))
        .map(([commit, welcome]): ClientMessage => ({
          t: 'commit',
          rid: rid++,
          room: 'lobby',
          commit,
          ...(welcome === undefined ? {} : { welcome, to: [install.device.deviceText] }),
        })),
      // Wire v5: the host relays the ciphertext undecoded, checking only the stated epoch (the
      // room's is 1): at it, a mutation is stored and relayed (its sender's loss, not the host's).
      fc
        .tuple(mutated('message'), fc.option(fc.constantFrom(0, 1, 2), { nil: undefined }))
        .map(([mls, epoch]): ClientMessage => ({
          t: 'send',
          room: 'lobby',
          id: `fuzz-mls-${++id}`,
          mls,
          ...(epoch === undefined ? {} : { epoch }),
        })),
      mutated('keyPackage').map((kp): ClientMessage => ({
        t: 'kp-publish',
        rid: rid++,
        kps: [kp],
      })),
      mutated('welcome').map((commit): ClientMessage => ({
        t: 'commit',
        rid: rid++,
        room: 'lobby',
        commit,
      })),
      // Anything the schema allows, about this room (sends and MLS requests included).
      clientMessageArb
        .filter((m) => m.t !== 'leave' && m.t !== 'part' && m.t !== 'remove' && m.t !== 'nick')
        .map(
          (m): ClientMessage =>
            ({
              ...m,
              ...('room' in m ? { room: 'lobby' } : {}),
              ...('rid' in m ? { rid: rid++ } : {}),
              ...(m.t === 'send' ? { id: `fuzz-any-${++id}` } : {}),
            }) as ClientMessage,
        ),
    );
    const codes = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(requests, async (request) => {
        expect(alice.channel.closeInfo).toBeUndefined();
        const answer = await answerTo(alice, request);
        const code = answer?.t === 'error' ? answer.code : (answer?.t ?? 'none');
        codes.set(code, (codes.get(code) ?? 0) + 1);
        if (answer?.t === 'error')
          expect(ALLOWED, `${request.t}: ${answer.message}`).toContain(answer.code);
        expect(h.alive()).toBe(true);
      }),
      runsWithin(40, 300, 0.5),
    );
    // The mutations were mostly refused as what they are; the host never failed a client.
    expect((codes.get('bad-request') ?? 0) + (codes.get('bad-key-package') ?? 0)).toBeGreaterThan(
      0,
    );
    expect(h.log.filter((line) => /"client-failed"|"storage-failed"/.test(line))).toEqual([]);
    // The room still works: a newcomer joins, claims, and the host answers.
    const bobInstall = await newInstall();
    const bob = await connectInstall(h.port, h.publicKey, 'bob', bobInstall);
    cleanups.push(() => bob.close());
    await bob.redeem(h.memberInvite ?? '');
    await bob.join('lobby');
    expect(await bob.request({ t: 'kp-claim', room: 'lobby', have: [] })).toMatchObject({
      t: 'kps',
    });
    // No MLS data in the log, ever.
    for (const seed of Object.values(seeds)) {
      expect(h.log.join('\n')).not.toContain(seed.slice(0, 40));
    }
  }, 120_000);
});
