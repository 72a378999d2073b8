// Bob as a protocol-level member of a room: he says things through the host like anyone, as
// fast as a test needs (bursts, long rooms) without a page of his own.
import { decodeMessage } from '../../src-main/protocol/wire/codec.ts';
import { HostMessage } from '../../src-main/protocol/wire/messages.ts';
import { type WireClient, connectWireClient } from '../support/wire-client.ts';
import type { Page } from 'playwright-core';
import type { Rig, TestHost } from './harness.ts';

export interface WireMember {
  readonly client: WireClient;
  /** Says `text` in `room`. */
  say(room: string, text: string): void;
}

/** Members made so far in this test file: each one's message ids start with its number. */
let members = 0;

export async function wireMember(
  rig: Rig,
  host: TestHost,
  nick: string,
  rooms: readonly string[],
): Promise<WireMember> {
  const client = await connectWireClient(host.port, host.running.publicKey, nick);
  rig.defer(() => client.close());
  // Answers the host's keep-alive pings, so he is still there at the end of a slow run.
  client.channel.on('message', (bytes) => {
    const message = decodeMessage(HostMessage, bytes);
    if (message.t === 'ping') client.send({ t: 'pong', n: message.n });
  });
  for (const room of rooms) {
    client.send({ t: 'join', room });
    await client.waitFor('synced', (m) => m.room === room, 10_000);
  }
  const member = ++members;
  let said = 0;
  return {
    client,
    // Message ids are 8 to 64 ASCII letters, digits, _ and - (a nickname may be any letters),
    // and distinct across members: the app must not need that, but these tests are not about it.
    say: (room, text) =>
      client.send({
        t: 'send',
        room,
        id: `m${member}-line-${String(++said).padStart(6, '0')}`,
        text,
      }),
  };
}

/** Closes the members panel if it is open (it lies over the timeline in a narrow window). */
export async function closeMembers(page: Page): Promise<void> {
  const toggle = page.getByRole('button', { name: 'Members', exact: true });
  if ((await toggle.getAttribute('aria-pressed')) === 'true') await toggle.click();
}
