// The wake glue against a faked 'electron' powerMonitor (the real one throws under plain Node).
import { describe, expect, it, vi } from 'vitest';

const fake = vi.hoisted(() => {
  const listeners = new Map<string, Set<() => void>>();
  return {
    listeners,
    powerMonitor: {
      on: (event: string, listener: () => void) => {
        const set = listeners.get(event) ?? new Set();
        set.add(listener);
        listeners.set(event, set);
      },
      off: (event: string, listener: () => void) => listeners.get(event)?.delete(listener),
    },
    fire: (event: string) => {
      for (const listener of listeners.get(event) ?? []) listener();
    },
  };
});

vi.mock('electron', () => ({ powerMonitor: fake.powerMonitor }));

const { retryOnWake } = await import('../../../src-main/app/wake.ts');

describe('retryOnWake', () => {
  it('tells the service the network changed on resume and on unlock, until stopped', async () => {
    const networkChanged = vi.fn(() => Promise.resolve({}));
    const stop = retryOnWake(networkChanged, vi.fn());
    fake.fire('resume');
    fake.fire('unlock-screen');
    fake.fire('suspend');
    expect(networkChanged).toHaveBeenCalledTimes(2);
    stop();
    fake.fire('resume');
    expect(networkChanged).toHaveBeenCalledTimes(2);
  });

  it('logs a failure instead of letting it go unhandled', async () => {
    const log = vi.fn();
    const stop = retryOnWake(() => Promise.reject(new Error('shutting down')), log);
    fake.fire('resume');
    await vi.waitFor(() => expect(log).toHaveBeenCalledWith(new Error('shutting down')));
    stop();
  });
});
