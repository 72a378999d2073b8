// Makes src-renderer's page a bridge page: injects the WebSocket adapter before the app's
// entry, and (dev server only) lets Vite's injected <style> tags through the CSP. Used by
// `dev:web` and by the e2e build; never by electron.vite.config.ts.
import { resolve } from 'node:path';
import type { Plugin } from 'vite';

export const ADAPTER_ID = '/@parley-bridge/adapter.ts';
const adapterPath = resolve(import.meta.dirname, 'browser/adapter.ts');
const ENTRY = '<script type="module" src="./main.ts"></script>';

export function webBridgePlugin(): Plugin {
  let serving = false;
  return {
    name: 'parley:web-bridge',
    configResolved(config) {
      serving = config.command === 'serve';
    },
    resolveId(id) {
      return id === ADAPTER_ID ? adapterPath : undefined;
    },
    transformIndexHtml: {
      order: 'pre',
      handler(html) {
        if (!html.includes(ENTRY)) throw new Error(`index.html: no "${ENTRY}" to precede`);
        let page = html.replace(
          ENTRY,
          `<script type="module" src="${ADAPTER_ID}"></script>\n    ${ENTRY}`,
        );
        if (serving) {
          // Vite's dev server injects <style> tags for HMR; the built page needs no relaxing.
          const relaxed = page.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'");
          if (relaxed === page) throw new Error('index.html: CSP has no "style-src \'self\'"');
          page = relaxed;
        }
        return page;
      },
    },
  };
}
