// One build for the three Electron targets. Paths are absolute so the build does not depend
// on the working directory (the pack check runs it from a script).
import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import type { Plugin } from 'vite';
import pkg from './package.json' with { type: 'json' };

const root = import.meta.dirname;
const at = (path: string): string => resolve(root, path);

// The production CSP in src-renderer/index.html has no 'unsafe-inline': Svelte's component
// CSS is emitted as a file. The dev server, however, injects <style> tags for HMR, so only
// `electron-vite dev` relaxes style-src.
const devCsp: Plugin = {
  name: 'parley:dev-csp',
  apply: 'serve',
  transformIndexHtml(html) {
    const relaxed = html.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'");
    if (relaxed === html) throw new Error('index.html: CSP has no "style-src \'self\'" to relax');
    return relaxed;
  },
};

export default defineConfig({
  main: {
    build: {
      outDir: at('out/main'),
      lib: {
        entry: {
          index: at('src-main/index.ts'),
          // Started by URL beside the chunk that starts it (src-main/server/db/checkpointer.ts),
          // which a bundler does not follow: an entry of its own.
          'checkpoint-worker': at('src-main/server/db/checkpoint-worker.ts'),
        },
        formats: ['es'],
      },
      // Keep every node: import external, including prefix-only ones (node:sqlite) that an
      // older Node running the build does not list in builtinModules.
      rolldownOptions: { external: [/^node:/] },
    },
  },
  preload: {
    define: { __PARLEY_VERSION__: JSON.stringify(pkg.version) },
    build: {
      outDir: at('out/preload'),
      // A sandboxed preload is loaded by Electron's own CommonJS loader: no ESM, and it can
      // require only 'electron' and a few built-ins, so anything else must be bundled in.
      lib: {
        entry: { preload: at('src-main/app/preload.ts') },
        formats: ['cjs'],
        fileName: () => 'preload.cjs',
      },
      externalizeDeps: false,
    },
  },
  renderer: {
    root: at('src-renderer'),
    base: './',
    // Svelte 5 compiles <script lang="ts"> itself: no preprocessor, so no svelte.config.js.
    plugins: [svelte({ configFile: false }), devCsp],
    build: {
      outDir: at('out/renderer'),
      rolldownOptions: { input: at('src-renderer/index.html') },
    },
  },
});
