// The preload against a faked 'electron': exactly one object on window.parley, with exactly
// the contract's names; requests go through ipcRenderer.invoke on their channels; onX
// subscriptions pass only the payload and return a working unsubscribe.
import { describe, expect, it, vi } from 'vitest';

const fake = vi.hoisted(() => {
  const listeners = new Map<string, Set<(event: unknown, payload: unknown) => void>>();
  return {
    exposed: [] as [string, Record<string, unknown>][],
    listeners,
    invoke: vi.fn((_channel: string, _input: unknown): Promise<unknown> =>
      Promise.resolve({ ok: true, value: {} }),
    ),
    emit(channel: string, payload: unknown) {
      for (const listener of listeners.get(channel) ?? []) listener({ sender: 'secret' }, payload);
    },
  };
});

vi.mock('electron', () => ({
  contextBridge: {
    exposeInMainWorld: vi.fn((key: string, api: Record<string, unknown>) =>
      fake.exposed.push([key, api]),
    ),
  },
  ipcRenderer: {
    invoke: fake.invoke,
    on: vi.fn((channel: string, listener: (event: unknown, payload: unknown) => void) => {
      let set = fake.listeners.get(channel);
      if (!set) fake.listeners.set(channel, (set = new Set()));
      set.add(listener);
    }),
    removeListener: vi.fn(
      (channel: string, listener: (event: unknown, payload: unknown) => void) => {
        fake.listeners.get(channel)?.delete(listener);
      },
    ),
  },
}));

await import('../../../src-main/app/preload.ts');
const { EVENT_NAMES, REQUEST_NAMES, eventChannel, listenerName, requestChannel } =
  await import('../../../src-shared/ipc/contract.ts');
import type { ParleyApi } from '../../../src-shared/ipc/contract.ts';

const [key, exposed] = fake.exposed[0]!;
const api = exposed as unknown as ParleyApi;

describe('the preload', () => {
  it('exposes exactly one object, window.parley, frozen', () => {
    expect(fake.exposed).toHaveLength(1);
    expect(key).toBe('parley');
    expect(Object.isFrozen(exposed)).toBe(true);
  });

  it('has exactly the contract’s method names: one per request, one onX per event', () => {
    const expected = [...REQUEST_NAMES, ...EVENT_NAMES.map(listenerName)].sort();
    expect(Object.keys(exposed).sort()).toEqual(expected);
    for (const name of expected) expect(typeof exposed[name]).toBe('function');
    expect(Object.keys(exposed)).not.toContain('invoke');
    expect(Object.keys(exposed)).not.toContain('ipcRenderer');
  });

  it('sends each request on its channel and returns main’s answer', async () => {
    fake.invoke.mockResolvedValueOnce({ ok: true, value: { id: 'm1' } });
    expect(await api.send({ hostId: 'example.org:7878', room: 'lobby', text: 'hi' })).toEqual({
      ok: true,
      value: { id: 'm1' },
    });
    expect(fake.invoke).toHaveBeenLastCalledWith(requestChannel('send'), {
      hostId: 'example.org:7878',
      room: 'lobby',
      text: 'hi',
    });
  });

  it('turns a failure of IPC itself into an internal IpcResult', async () => {
    fake.invoke.mockRejectedValueOnce(new Error('No handler registered'));
    expect(await api.getSnapshot({})).toMatchObject({ ok: false, error: { code: 'internal' } });
  });

  it('passes only the payload to onX listeners, and the unsubscribe works (once)', () => {
    const seen: unknown[] = [];
    const unsubscribe = api.onUnread((payload) => seen.push(payload));
    fake.emit(eventChannel('unread'), { counts: { lobby: 1 }, total: 1 });
    expect(seen).toEqual([{ counts: { lobby: 1 }, total: 1 }]);

    unsubscribe();
    fake.emit(eventChannel('unread'), { counts: {}, total: 0 });
    expect(seen).toHaveLength(1);
    expect(fake.listeners.get(eventChannel('unread'))?.size).toBe(0);
    expect(() => unsubscribe()).not.toThrow();
  });

  it('keeps listeners of one event independent of each other', () => {
    const a: unknown[] = [];
    const b: unknown[] = [];
    const offA = api.onOpenRoom((p) => a.push(p));
    const offB = api.onOpenRoom((p) => b.push(p));
    offA();
    fake.emit(eventChannel('openRoom'), { room: 'dev' });
    expect(a).toEqual([]);
    expect(b).toEqual([{ room: 'dev' }]);
    offB();
  });

  it('refuses a listener that is not a function', () => {
    expect(() => (api.onMessage as (l: unknown) => void)('nope')).toThrow(TypeError);
  });
});
