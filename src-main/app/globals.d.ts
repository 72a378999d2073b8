// Build-time constants, replaced by `define` in electron.vite.config.ts.
declare const __PARLEY_VERSION__: string;
