// The host's connection listener, holding each connection until the host's zod schemas are
// loaded (host-schemas-loader.ts): they are loaded when the first connection arrives, not at
// start (#18: ~4.5 MiB of RSS a host that nobody has connected to need not carry). Only the
// connections that arrive while that one load runs wait (a few ms, once); nothing is read from a
// socket before it is offered, so what a client sent meanwhile waits in the socket's buffer.
import type { Socket } from 'node:net';
import { hostSchemasLoaded, loadHostSchemas } from '../protocol/wire/host-schemas-loader.ts';
import type { HostLog } from './host-log.ts';

export function serveAfterSchemas(
  serve: (socket: Socket) => void,
  log: HostLog,
): (socket: Socket) => void {
  return (socket) => {
    if (hostSchemasLoaded()) {
      serve(socket);
      return;
    }
    // A reset while held must not be an uncaught 'error' event; the listener goes with the hold.
    const ignore = () => {};
    socket.on('error', ignore);
    loadHostSchemas().then(
      () => {
        socket.off('error', ignore);
        serve(socket);
      },
      (error: unknown) => {
        // The build is broken (a chunk missing): nobody can be served; say so once per socket.
        log('error', 'schemas-not-loaded', {
          error: error instanceof Error ? error.name : 'unknown',
        });
        socket.destroy();
      },
    );
  };
}
