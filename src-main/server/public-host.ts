import { networkInterfaces } from 'node:os';

/** For invite links when no --public-host is given: the bind address, unless it is a wildcard. */
export function guessPublicHost(bound: string): string {
  if (bound !== '0.0.0.0' && bound !== '::') return bound;
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) {
      if (address.family === 'IPv4' && !address.internal) return address.address;
    }
  }
  return '127.0.0.1';
}
