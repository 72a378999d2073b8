// The conversation tests' common setup (docs/protocol.md §13): a real in-process plaintext host on
// 127.0.0.1 port 0, and #lobby owned by alice with bob and carol members, as wire clients.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { ClientMessage, HostMessage } from '../../../src-main/protocol/wire/messages.ts';
import { type HostOptions, type RunningHost, startHost } from '../../../src-main/server/host.ts';
import type { Cleanups } from '../../support/lifecycle.ts';
import { type WireClient, connectWireClient } from '../../support/wire-client.ts';

export interface Lobby {
  readonly h: RunningHost;
  readonly dataDir: string;
  /** Owner of #lobby. */
  readonly alice: WireClient;
  /** Members of #lobby. */
  readonly bob: WireClient;
  readonly carol: WireClient;
  /**
   * Another connection of `keyOf`'s key, or (without it) a new member, joined in #lobby.
   */
  connect(nick: string, keyOf?: WireClient): Promise<WireClient>;
}

export function conversationSetup(cleanups: Cleanups) {
  async function lobby(options: Partial<HostOptions> = {}): Promise<Lobby> {
    const dataDir = cleanups.tempDir('parley-conversation-');
    const h = await startHost({
      host: '127.0.0.1',
      port: 0,
      rooms: ['lobby'],
      ...options,
      dataDir,
    });
    cleanups.push(() => h.stop());
    const invite = (role: 'owner' | 'member') => {
      const found = h.startInvites.find((i) => i.role === role && i.room === 'lobby');
      if (!found) throw new Error(`no ${role} invite`);
      return found.link;
    };
    const connect = async (nick: string, keyOf?: WireClient): Promise<WireClient> => {
      const c = await connectWireClient(
        h.address.port,
        h.publicKey,
        nick,
        keyOf ? { keyPair: keyOf.keyPair } : {},
      );
      cleanups.push(() => c.close());
      await c.waitFor('welcome');
      return c;
    };
    const alice = await connect('alice');
    expect(await alice.redeem(invite('owner'))).toMatchObject({ t: 'redeemed', role: 'owner' });
    const bob = await connect('bob');
    expect(await bob.redeem(invite('member'))).toMatchObject({ t: 'redeemed' });
    const carol = await connect('carol');
    expect(await carol.redeem(invite('member'))).toMatchObject({ t: 'redeemed' });
    for (const c of [alice, bob, carol]) await c.join('lobby');
    return {
      h,
      dataDir,
      alice,
      bob,
      carol,
      connect: async (nick, keyOf) => {
        const c = await connect(nick, keyOf);
        if (!keyOf) expect(await c.redeem(invite('member'))).toMatchObject({ t: 'redeemed' });
        await c.join('lobby');
        return c;
      },
    };
  }
  return { lobby };
}

let ids = 0;
export const newId = (): string => `conv-msg-${String(++ids).padStart(6, '0')}`;

type Send = Extract<ClientMessage, { t: 'send' }>;

/** Sends and resolves with its answer: the `ack` or the `error` about its id. */
export function sendAndAnswer(
  c: WireClient,
  message: Omit<Send, 't' | 'id' | 'room'> & { id?: string; room?: string },
): Promise<HostMessage> {
  const full: Send = { t: 'send', room: 'lobby', id: newId(), ...message };
  // Only an answer to this send: a resend's id was answered before.
  const seen = new Set<HostMessage>(c.received);
  c.send(full);
  return Promise.race([
    c.waitFor('ack', (m) => !seen.has(m) && m.id === full.id),
    c.waitFor('error', (m) => !seen.has(m) && m.ref === full.id),
  ]);
}

/** The seq of an `ack`, or a failure naming what came instead. */
export function seqOf(answer: HostMessage): number {
  if (answer.t !== 'ack') throw new Error(`expected an ack, got ${JSON.stringify(answer)}`);
  return answer.seq;
}

/** The database file and its WAL, as bytes: what a copy of the host's disk would show. */
export function databaseBytes(dataDir: string): Buffer {
  const read = (name: string) => {
    try {
      return readFileSync(join(dataDir, name));
    } catch {
      return Buffer.alloc(0);
    }
  };
  return Buffer.concat([read('history.sqlite'), read('history.sqlite-wal')]);
}
