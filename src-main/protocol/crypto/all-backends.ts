import type { BackendName, CryptoBackend } from './crypto-backend.ts';
import { nobleBackend } from './noble-backend.ts';
import { nodeBackend } from './node-backend.ts';

/**
 * Both backends, for what compares or cross-checks them (tests, benchmarks). Code that runs one
 * uses select-backend.ts instead, which loads @noble only where it may be chosen.
 */
export const backends: Record<BackendName, CryptoBackend> = {
  node: nodeBackend,
  noble: nobleBackend,
};
