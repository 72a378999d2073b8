import type { HostMlsChecks } from './mls-gate.ts';

/**
 * The host's MLS checks (src-main/e2ee/host-checks.ts) on the suite this runtime supports,
 * imported on first use: ts-mls is not loaded by a host that only ever sees plaintext rooms.
 */
export async function loadHostMlsChecks(): Promise<HostMlsChecks> {
  // TODO(#16, host): wire src-main/e2ee/host-checks.ts once it lands.
  return Promise.reject(new Error('MLS checks are not available yet'));
}
