// Once per e2e run: build the renderer as a bridge page (production CSP, adapter injected).
import { existsSync } from 'node:fs';
import { buildWebPage } from '../../tools/web-bridge/build-web.ts';
import { CHROMIUM } from './harness.ts';

export default async function setup(): Promise<void> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set PARLEY_CHROMIUM)`,
    );
  }
  const started = performance.now();
  await buildWebPage();
  console.log(`e2e: built the page in ${Math.round(performance.now() - started)} ms`);
}
