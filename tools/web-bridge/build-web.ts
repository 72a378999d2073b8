// Builds the renderer as a bridge page (the adapter injected, the production CSP kept) into
// `outDir`, for the e2e tests. Never into out/: electron-builder packs everything there.
import { resolve } from 'node:path';
import { build } from 'vite';
import { projectRoot, webConfig } from './vite-config.ts';

export const DEFAULT_WEB_OUT = resolve(projectRoot, 'test-results/web-build');

export async function buildWebPage(outDir = DEFAULT_WEB_OUT): Promise<string> {
  await build({
    ...webConfig(),
    build: {
      outDir,
      emptyOutDir: true,
      sourcemap: true,
      reportCompressedSize: false,
      // Slow-plugin timing reports are noise in test output (the Svelte compiler is the work).
      rolldownOptions: { checks: { bundlerTimings: false } },
    },
  });
  return outDir;
}

if (import.meta.main) {
  const started = performance.now();
  const dir = await buildWebPage(process.argv[2] ? resolve(process.argv[2]) : undefined);
  console.log(`built the bridge page into ${dir} in ${Math.round(performance.now() - started)} ms`);
}
