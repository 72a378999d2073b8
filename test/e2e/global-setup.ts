// Once per e2e run: build the renderer as a bridge page (production CSP, adapter injected).
// Each run builds into a folder of its own, handed to the tests with provide('webBuild'), so
// two runs at once (several people, or an editor's test runner) never empty each other's page.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { DEFAULT_WEB_OUT, buildWebPage } from '../../tools/web-bridge/build-web.ts';
import { CHROMIUM } from './harness.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The folder the bridge serves the built page from. */
    webBuild: string;
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set PARLEY_CHROMIUM)`,
    );
  }
  const started = performance.now();
  mkdirSync(`${DEFAULT_WEB_OUT}-runs`, { recursive: true });
  const outDir = mkdtempSync(`${DEFAULT_WEB_OUT}-runs/run-`);
  await buildWebPage(outDir);
  project.provide('webBuild', outDir);
  console.log(`e2e: built the page in ${Math.round(performance.now() - started)} ms`);
  return () => rmSync(outDir, { recursive: true, force: true });
}
