// Placeholder preload: built as CommonJS (out/preload/preload.cjs) because sandboxed
// preloads cannot be ES modules. The typed window.parley contract replaces this object.
import { contextBridge } from 'electron';

contextBridge.exposeInMainWorld('parley', { version: __PARLEY_VERSION__ });
