import type { Server } from 'node:http';
import { type ViteDevServer, createServer } from 'vite';
import { webConfig } from './vite-config.ts';

/** Vite in middleware mode on the bridge's own HTTP server, hot reload included. */
export async function createViteServer(httpServer: Server): Promise<ViteDevServer> {
  const config = webConfig();
  return createServer({
    ...config,
    appType: 'spa',
    server: { ...config.server, middlewareMode: true, hmr: { server: httpServer } },
  });
}
