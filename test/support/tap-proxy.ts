import net, { type AddressInfo, type Socket } from 'node:net';
import { once } from 'node:events';

export type Direction = 'toHost' | 'toClient';

/**
 * A loopback TCP proxy that lets a test see and rewrite each chunk in each direction.
 * `transform` returns the bytes to forward (or null to drop them).
 */
export async function startTapProxy(
  targetPort: number,
  transform: (direction: Direction, chunk: Buffer, connection: number) => Buffer | null = (_d, c) =>
    c,
) {
  const seen: Record<Direction, Buffer[]> = { toHost: [], toClient: [] };
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = net.createServer((client) => {
    const id = connections++;
    const host = net.connect(targetPort, '127.0.0.1');
    sockets.add(client).add(host);
    const pipe = (from: Socket, to: Socket, direction: Direction) => {
      from.on('data', (chunk: Buffer) => {
        seen[direction].push(chunk);
        const out = transform(direction, chunk, id);
        if (out && out.length > 0 && !to.destroyed) to.write(out);
      });
      from.on('end', () => to.end());
      from.on('error', () => to.destroy());
      from.on('close', () => to.destroy());
    };
    pipe(client, host, 'toHost');
    pipe(host, client, 'toClient');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    bytes: (direction: Direction) => Buffer.concat(seen[direction]),
    async close() {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}
