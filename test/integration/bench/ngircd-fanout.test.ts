import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type IrcConnection,
  PRIVMSG,
  commandIs,
  connectIrc,
  joinIrc,
  trailingStart,
} from '../../../bench/irc-wire.ts';
import { NgircdServer, ensureNgircd } from '../../../bench/ngircd.ts';

// The bench's baseline, end to end: ngircd found (or installed from Debian, as `npm run bench`
// and CI do — never skipped), started on 127.0.0.1 with the bench's configuration, and a room's
// messages fanned out to three receivers through the load generator's IRC client.

let server: NgircdServer;
const connections: IrcConnection[] = [];

beforeAll(async () => {
  const binary = ensureNgircd();
  if ('reason' in binary)
    throw new Error(`ngircd is needed and could not be had: ${binary.reason}`);
  server = await NgircdServer.start(binary);
}, 600_000);

afterAll(async () => {
  for (const c of connections) c.close();
  await server?.stop();
});

describe('ngircd driven by the bench IRC client', () => {
  it('delivers every message of a burst to every receiver, in order, with its send stamp', async () => {
    const sender = await connectIrc({ port: server.port, nick: 'sender' });
    connections.push(sender);
    await joinIrc(sender, '#room');
    const received: string[][] = [];
    for (let i = 0; i < 3; i++) {
      const receiver = await connectIrc({ port: server.port, nick: `r${i}` });
      connections.push(receiver);
      await joinIrc(receiver, '#room');
      const texts: string[] = [];
      received.push(texts);
      receiver.onLine = (buffer, start, end) => {
        if (!commandIs(buffer, start, end, PRIVMSG)) return; // JOINs of the others
        const at = trailingStart(buffer, start, end);
        texts.push(Buffer.from(buffer.subarray(at, end)).toString('latin1'));
      };
    }
    await server.waitForClients(4);

    // A burst well beyond ngircd's 3 commands per loop and its usual penalty: with the bench's
    // configuration (no penalties, user mode +F) it arrives at once, not over many seconds.
    const sent = Array.from({ length: 40 }, (_, n) => `~${n}.5~${'x'.repeat(190)}`);
    for (const text of sent) sender.queueLine(`PRIVMSG #room :${text}`);
    const deadline = Date.now() + 5000;
    while (received.some((texts) => texts.length < sent.length) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    for (const texts of received) expect(texts).toEqual(sent);
    expect((await server.stats()).events).toEqual({});
  });

  it('counts registered users as the server does, and sees them leave', async () => {
    const extra = await connectIrc({ port: server.port, nick: 'extra' });
    await server.waitForClients(5);
    extra.close();
    await server.waitForClients(4);
    const stats = await server.stats(true);
    expect(stats.clients).toBe(4);
    expect(stats.rss).toBeGreaterThan(0);
  });

  it('drops a receiver that stops reading, and the bench sees it as a problem, not silence', async () => {
    const sender = await connectIrc({ port: server.port, nick: 'flooder' });
    connections.push(sender);
    await joinIrc(sender, '#slow');
    const stalled = await connectIrc({ port: server.port, nick: 'stalled' });
    await joinIrc(stalled, '#slow');
    let closed = '';
    stalled.onClose = (reason) => {
      closed = reason;
    };
    stalled.socket.pause(); // reads nothing more: the kernel's buffers fill, then ngircd's queue
    const line = `PRIVMSG #slow :~1.5~${'x'.repeat(190)}`;
    const deadline = Date.now() + 15_000;
    while (
      !(await server.stats()).events['ngircd: write buffer space exhausted (client dropped)']
    ) {
      if (Date.now() > deadline) throw new Error('ngircd never dropped the stalled receiver');
      for (let i = 0; i < 500; i++) sender.queueLine(line);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    stalled.socket.resume();
    while (!closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(closed).not.toBe('');
  });
});
