// The bridge: one HTTP server on 127.0.0.1 that serves the renderer (Vite dev middleware, or
// a static build for the e2e tests) and, on the same origin, the `window.parley` contract over
// a WebSocket. Same origin, so the page's `connect-src 'self'` allows it unchanged.
import { readFile, stat } from 'node:fs/promises';
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import { REQUEST_NAMES, type RequestName } from '../../src-shared/ipc/contract.ts';
import type { BridgeBackend } from './backend.ts';
import { BRIDGE_PATH, type BridgeClientMessage, type BridgeServerMessage } from './protocol.ts';

export type PageSource =
  /** A built page (see build-web.ts): fast to load, exactly the production CSP. */
  | { readonly kind: 'static'; readonly dir: string }
  /** Vite's dev server with hot reload. */
  | { readonly kind: 'vite' }
  /** Only the WebSocket (a page served elsewhere cannot reach it: origins are checked). */
  | { readonly kind: 'none' };

export interface BridgeOptions {
  readonly backend: BridgeBackend;
  readonly page: PageSource;
  /** Default 0: any free port. */
  readonly port?: number;
}

export interface RunningBridge {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

const requestNames = new Set<string>(REQUEST_NAMES);
/**
 * The largest message a page may send: a `sendFile` carries the file as base64 (4/3 of its
 * bytes), and a host takes 25 MiB by default — so 48 MiB, not the 1 MiB that cut the page's
 * socket on any file over ~750 KB (#17). The bridge is for dev and tests on 127.0.0.1 only.
 */
const MAX_MESSAGE_BYTES = 48 * 1024 * 1024;

export async function startBridge(options: BridgeOptions): Promise<RunningBridge> {
  const server = createServer();
  const sockets = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  let port = 0;
  // Only pages of this origin: any web page could otherwise open a socket to 127.0.0.1, and
  // a rebound DNS name could read the pages (the browser checks neither for us).
  const origins = (): string[] => [`http://127.0.0.1:${port}`, `http://localhost:${port}`];
  const hostAllowed = (req: IncomingMessage): boolean =>
    origins().some((o) => o.slice('http://'.length) === req.headers.host);
  // The app has no favicon (Electron never asks); a browser does, and a 404 is console noise.
  const favicon = (req: IncomingMessage, res: ServerResponse): boolean => {
    if (new URL(req.url ?? '/', 'http://x').pathname !== '/favicon.ico') return false;
    res.writeHead(204).end();
    return true;
  };

  server.on('upgrade', (req, socket, head) => {
    if (new URL(req.url ?? '/', 'http://x').pathname !== BRIDGE_PATH) return; // Vite's HMR
    if (!hostAllowed(req) || !origins().includes(req.headers.origin ?? '')) {
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    sockets.handleUpgrade(req, socket, head, (ws) => serveSocket(ws, options.backend));
  });

  let closeVite = async (): Promise<void> => {};
  const page = options.page;
  if (page.kind === 'vite') {
    const { createViteServer } = await import('./vite-server.ts');
    const vite = await createViteServer(server);
    closeVite = () => vite.close();
    server.on('request', (req, res) => {
      if (!hostAllowed(req)) return forbid(res);
      if (!favicon(req, res)) vite.middlewares(req, res);
    });
  } else if (page.kind === 'static') {
    server.on('request', (req, res) => {
      if (!hostAllowed(req)) return forbid(res);
      if (!favicon(req, res)) void serveStatic(page.dir, req, res);
    });
  } else {
    server.on('request', (_req, res) => forbid(res));
  }

  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, '127.0.0.1', () => done());
  });
  port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    async close() {
      for (const ws of sockets.clients) ws.terminate();
      await closeVite();
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}

function serveSocket(ws: WebSocket, backend: BridgeBackend): void {
  const send = (message: BridgeServerMessage): void => {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
  };
  const unsubscribe = backend.subscribe((name, payload) => send({ t: 'evt', name, payload }));
  ws.on('close', unsubscribe);
  ws.on('message', (data: RawData) => {
    const message = parseRequest(data);
    if (!message) {
      ws.close(1003, 'not a bridge request');
      return;
    }
    backend.request(message.name, message.input).then(
      (result) => send({ t: 'res', id: message.id, result }),
      (error: unknown) => {
        console.error(`bridge: ${message.name} failed`, error);
        const failure = { code: 'internal' as const, message: 'the request failed' };
        send({ t: 'res', id: message.id, result: { ok: false, error: failure } });
      },
    );
  });
}

function parseRequest(data: RawData): BridgeClientMessage | undefined {
  try {
    const value = JSON.parse(String(data)) as Partial<BridgeClientMessage>;
    if (value.t !== 'req' || !Number.isSafeInteger(value.id)) return undefined;
    if (typeof value.name !== 'string' || !requestNames.has(value.name)) return undefined;
    return {
      t: 'req',
      id: value.id as number,
      name: value.name as RequestName,
      input: value.input,
    };
  } catch {
    return undefined;
  }
}

async function serveStatic(dir: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const root = resolve(dir);
  const pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
  let file = normalize(join(root, pathname));
  if (file !== root && !file.startsWith(root + sep)) return forbid(res);
  try {
    if ((await stat(file)).isDirectory()) file = join(file, 'index.html');
    const body = await readFile(file);
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    res.end(body);
  } catch {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  }
}

function forbid(res: ServerResponse): void {
  res.writeHead(403, { 'content-type': 'text/plain' }).end('forbidden');
}
