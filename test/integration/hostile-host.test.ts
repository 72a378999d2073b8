import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChatSession, type ChatSessionOptions } from '../../src-main/client/chat-session.ts';
import { createHostVerifier } from '../../src-main/client/host-trust.ts';
import type { ChatSessionEvents } from '../../src-main/client/session-events.ts';
import { KnownHosts } from '../../src-main/store/known-hosts.ts';
import { newKeyPair } from '../support/loopback.ts';
import { type HostileHost, startHostileHost } from '../support/hostile-host.ts';

// The client core against a host that completes a genuine handshake and then misbehaves.

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function hostile(...args: Parameters<typeof startHostileHost>): Promise<HostileHost> {
  const h = await startHostileHost(...args);
  cleanups.push(() => h.close());
  return h;
}

async function session(h: HostileHost, options: Partial<ChatSessionOptions> = {}) {
  const knownHosts = await KnownHosts.load(join(tempDir('parley-client-'), 'known-hosts.json'));
  const s = new ChatSession({
    address: h.address,
    identity: newKeyPair(),
    nick: 'alice',
    rooms: ['lobby'],
    trust: createHostVerifier({
      address: h.address,
      inviteKey: h.publicKey,
      knownHosts,
      policy: { trustNewHost: false },
    }),
    reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
    ...options,
  });
  cleanups.push(() => s.stop());
  const log = new Map<keyof ChatSessionEvents, unknown[]>();
  const of = <K extends keyof ChatSessionEvents>(name: K) =>
    (log.get(name) ?? []) as ChatSessionEvents[K][0][];
  const names = ['state', 'welcome', 'message', 'members', 'synced', 'fatal', 'error'] as const;
  for (const name of names) {
    s.on(name, (data: unknown) => log.set(name, [...(log.get(name) ?? []), data]));
  }
  return {
    s,
    of,
    async wait(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
      const start = Date.now();
      while (!check()) {
        if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
  };
}

describe('the hostile host', () => {
  it('behaves honestly by default: a session connects, joins and syncs', async () => {
    const h = await hostile();
    const alice = await session(h);
    alice.s.start();
    await alice.wait(() => alice.of('synced').length === 1, 'synced');
    const connection = await h.nextConnection();
    expect(connection.hello.nick).toBe('alice');
    expect(alice.s.members('lobby').map((m) => m.nick)).toEqual(['alice']);
  });
});
