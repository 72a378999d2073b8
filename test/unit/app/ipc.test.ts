// The IPC glue against a faked 'electron': one handler per request, each validated by
// dispatchRequest before the service sees anything; events forwarded on their channels.
import { beforeEach, describe, expect, it, vi } from 'vitest';

const fake = vi.hoisted(() => ({
  handlers: new Map<string, (event: unknown, input: unknown) => unknown>(),
  removed: [] as string[],
}));

vi.mock('electron', () => ({
  ipcMain: {
    handle: vi.fn((channel: string, handler: (event: unknown, input: unknown) => unknown) => {
      if (fake.handlers.has(channel)) throw new Error(`second handler for ${channel}`);
      fake.handlers.set(channel, handler);
    }),
    removeHandler: vi.fn((channel: string) => {
      fake.handlers.delete(channel);
      fake.removed.push(channel);
    }),
  },
}));

const { forwardEvents, isFromMainFrame, registerIpcHandlers } =
  await import('../../../src-main/app/ipc.ts');
const { EVENT_NAMES, REQUEST_NAMES, eventChannel, requestChannel } =
  await import('../../../src-shared/ipc/contract.ts');
import type { RequestHandlers } from '../../../src-main/service/dispatch.ts';

/** The host every host-scoped request names (`host:port`). */
const H = 'example.org:7878';

function spyService() {
  return Object.fromEntries(
    REQUEST_NAMES.map((name) => [name, vi.fn(() => (name === 'send' ? { id: 'm1' } : {}))]),
  ) as unknown as RequestHandlers & Record<string, ReturnType<typeof vi.fn>>;
}

const mainFrame = { url: 'file:///app/index.html' };
const contents = { mainFrame, isDestroyed: () => false, send: vi.fn() };
const trustedEvent = { sender: contents, senderFrame: mainFrame };

beforeEach(() => {
  fake.handlers.clear();
  fake.removed.length = 0;
  contents.send.mockClear();
});

describe('registerIpcHandlers', () => {
  it('registers exactly one handler per request of the contract, and removes them all', () => {
    const dispose = registerIpcHandlers(spyService(), {
      isTrustedSender: () => true,
      log: vi.fn(),
    });
    expect([...fake.handlers.keys()].sort()).toEqual(REQUEST_NAMES.map(requestChannel).sort());
    dispose();
    expect(fake.handlers.size).toBe(0);
    expect(fake.removed.sort()).toEqual(REQUEST_NAMES.map(requestChannel).sort());
  });

  it('answers a valid request through the service', async () => {
    const service = spyService();
    registerIpcHandlers(service, { isTrustedSender: () => true, log: vi.fn() });
    const handler = fake.handlers.get(requestChannel('send'))!;
    expect(await handler(trustedEvent, { hostId: H, room: 'lobby', text: 'hi' })).toEqual({
      ok: true,
      value: { id: 'm1' },
    });
    expect(service['send']).toHaveBeenCalledWith({ hostId: H, room: 'lobby', text: 'hi' });
  });

  it('rejects an invalid request with invalid-request, without reaching the service', async () => {
    const service = spyService();
    const log = vi.fn();
    registerIpcHandlers(service, { isTrustedSender: () => true, log });
    const bad: [string, unknown][] = [
      ['send', { hostId: H, room: 'lobby' }],
      ['send', { hostId: H, room: 'Lobby!', text: 'hi' }],
      ['connect', { invite: 'x'.repeat(5000), nick: 'a' }],
      ['openExternal', 'https://example.org'],
      ['answerTrust', { requestId: 'r', trust: 'yes' }],
    ];
    for (const [name, input] of bad) {
      const handler = fake.handlers.get(requestChannel(name as never))!;
      expect(await handler(trustedEvent, input)).toMatchObject({
        ok: false,
        error: { code: 'invalid-request' },
      });
    }
    for (const name of REQUEST_NAMES) expect(service[name]).not.toHaveBeenCalled();
    expect(log).toHaveBeenCalledTimes(bad.length);
  });

  it('refuses calls from anything but our window’s main frame', async () => {
    const service = spyService();
    registerIpcHandlers(service, {
      isTrustedSender: (event) => isFromMainFrame(event, contents as never),
      log: vi.fn(),
    });
    const handler = fake.handlers.get(requestChannel('typing'))!;
    const subframe = { sender: contents, senderFrame: { url: 'https://evil.example' } };
    const otherWindow = { sender: { mainFrame: {} }, senderFrame: {} };
    for (const event of [subframe, otherWindow]) {
      expect(await handler(event, { hostId: H, room: 'lobby' })).toMatchObject({
        ok: false,
        error: { code: 'refused' },
      });
    }
    expect(service['typing']).not.toHaveBeenCalled();
    expect(await handler(trustedEvent, { hostId: H, room: 'lobby' })).toEqual({
      ok: true,
      value: {},
    });
  });
});

describe('forwardEvents', () => {
  it('sends every contract event on its channel, and stops when disposed', () => {
    const listeners = new Map<string, (payload: unknown) => void>();
    const dispose = forwardEvents(
      (name, listener) => {
        listeners.set(name, listener);
        return () => listeners.delete(name);
      },
      () => contents as never,
    );
    expect([...listeners.keys()].sort()).toEqual([...EVENT_NAMES].sort());
    listeners.get('unread')!({ counts: { lobby: 2 }, total: 2 });
    expect(contents.send).toHaveBeenCalledWith(eventChannel('unread'), {
      counts: { lobby: 2 },
      total: 2,
    });
    dispose();
    expect(listeners.size).toBe(0);
  });

  it('skips a window that is gone', () => {
    const listeners = new Map<string, (payload: unknown) => void>();
    const gone = { isDestroyed: () => true, send: vi.fn() };
    forwardEvents(
      (name, listener) => {
        listeners.set(name, listener);
        return () => undefined;
      },
      () => gone as never,
    );
    listeners.get('openRoom')!({ hostId: H, room: 'lobby' });
    expect(gone.send).not.toHaveBeenCalled();
  });
});
