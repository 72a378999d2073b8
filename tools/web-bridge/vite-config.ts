// The renderer's Vite config for the browser: the same root and Svelte plugin as the
// renderer target in electron.vite.config.ts, plus the bridge adapter.
import { resolve } from 'node:path';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import type { InlineConfig } from 'vite';
import { webBridgePlugin } from './vite-plugin.ts';

export const projectRoot = resolve(import.meta.dirname, '../..');

export function webConfig(): InlineConfig {
  return {
    configFile: false,
    root: resolve(projectRoot, 'src-renderer'),
    base: './',
    logLevel: 'warn',
    plugins: [svelte({ configFile: false }), webBridgePlugin()],
    server: { fs: { allow: [projectRoot] } },
  };
}
