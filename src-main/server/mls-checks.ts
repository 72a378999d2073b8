import type { HostMlsChecks } from './mls-gate.ts';

/**
 * The host's MLS checks (src-main/e2ee/host-checks.ts) on the suite this runtime supports,
 * imported on first use: ts-mls is not loaded by a host that only ever sees plaintext rooms.
 */
export async function loadHostMlsChecks(): Promise<HostMlsChecks> {
  const [{ inspectMessage, checkKeyPackage }, { loadSuite }] = await Promise.all([
    import('../e2ee/host-checks.ts'),
    import('../e2ee/mls-suite.ts'),
  ]);
  const suite = await loadSuite();
  return {
    inspect: (data) => inspectMessage(data),
    checkKeyPackage: (data, expect) => checkKeyPackage(suite, data, expect),
  };
}
