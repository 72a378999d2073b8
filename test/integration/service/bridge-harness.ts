import type { EventName } from '../../../src-shared/ipc/contract.ts';
import { openServiceBackend } from '../../../tools/web-bridge/service-backend.ts';
import type { Cleanups } from '../../support/lifecycle.ts';

type Backend = Awaited<ReturnType<typeof openServiceBackend>>;

/**
 * The browser bridge's service backend in a temp data folder, closed after the test, with every
 * event it pushes to the page recorded in order, and `ok(name, input)`: a request that must
 * succeed (its value, or a thrown error naming the request and the code).
 */
export async function openBridge(cleanups: Cleanups, prefix: string) {
  const dataDir = cleanups.tempDir(prefix);
  const backend: Backend = await openServiceBackend({ dataDir, platform: 'linux' });
  cleanups.push(() => backend.close());
  const seen: { name: EventName; payload: unknown }[] = [];
  backend.subscribe((name, payload) => seen.push({ name, payload }));
  const ok = async (name: Parameters<Backend['request']>[0], input: unknown) => {
    const result = await backend.request(name, input);
    if (!result.ok) throw new Error(`${name}: ${result.error.code} ${result.error.message}`);
    return result.value as Record<string, unknown>;
  };
  return { backend, dataDir, seen, ok };
}
