// The host's zod schemas (host-schemas.ts), loaded when first needed rather than at start: zod
// and the wire's schemas are ~4.5 MiB of RSS (#18: a host listening with no client, 64.8 → ~60
// MiB). The host loads them as its first connection arrives, before reading a byte of it
// (serve-after-schemas.ts); a process that reads a host database without serving (`parley
// host …`, tests) loads them before opening it. Code that validates reads them with
// hostSchemas(), synchronously: by then they are loaded.
import type * as HostSchemas from './host-schemas.ts';

let loaded: typeof HostSchemas | undefined;
let loading: Promise<typeof HostSchemas> | undefined;

/** Loads the schemas (once; later calls share the first load). */
export function loadHostSchemas(): Promise<typeof HostSchemas> {
  loading ??= import('./host-schemas.ts').then((schemas) => (loaded = schemas));
  return loading;
}

export function hostSchemasLoaded(): boolean {
  return loaded !== undefined;
}

/** The loaded schemas; throws when nothing has loaded them yet (a bug: see the top of this file). */
export function hostSchemas(): typeof HostSchemas {
  if (loaded === undefined) {
    throw new Error('the host schemas are not loaded yet: call loadHostSchemas() first');
  }
  return loaded;
}
