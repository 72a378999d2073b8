import { describe, expect, it, vi } from 'vitest';
import { REQUEST_NAMES } from '../../../src-shared/ipc/contract.ts';
import { DEFAULT_SETTINGS } from '../../../src-shared/ipc/domain.ts';
import { type RequestHandlers, dispatchRequest } from '../../../src-main/service/dispatch.ts';
import { ServiceError } from '../../../src-main/service/service-error.ts';

/** The host every host-scoped request names (`host:port`). */
const H = 'example.org:7878';

/** A service whose every method is a spy answering `{}` (valid for most outputs). */
function fakeService(
  overrides: Partial<Record<keyof RequestHandlers, (input: never) => unknown>> = {},
) {
  const service = Object.fromEntries(
    REQUEST_NAMES.map((name) => [name, vi.fn(overrides[name] ?? (() => ({})))]),
  );
  return service as unknown as RequestHandlers & Record<string, ReturnType<typeof vi.fn>>;
}

const silent = { log: vi.fn() };

describe('dispatchRequest', () => {
  it('validates input and calls the named method with the parsed value', async () => {
    const service = fakeService({ send: () => ({ id: 'abc' }) });
    const result = await dispatchRequest(
      service,
      'send',
      { hostId: H, room: 'lobby', text: 'hi' },
      silent,
    );
    expect(result).toEqual({ ok: true, value: { id: 'abc' } });
    expect(service['send']).toHaveBeenCalledWith({ hostId: H, room: 'lobby', text: 'hi' });
  });

  it.each([
    ['a wrong type', 'send', { hostId: H, room: 'lobby', text: 42 }],
    ['a bad room name', 'send', { hostId: H, room: '../etc', text: 'hi' }],
    ['an empty message', 'send', { hostId: H, room: 'lobby', text: '' }],
    [
      'a message over 16 KiB',
      'send',
      { hostId: H, room: 'lobby', text: 'x'.repeat(16 * 1024 + 1) },
    ],
    ['no input at all', 'joinRoom', undefined],
    ['a port out of range', 'connect', { host: 'example.org', port: 70000, nick: 'a' }],
    ['a nickname with spaces', 'setNick', { hostId: H, nick: 'bad nick' }],
    ['a partial settings object with a wrong value', 'updateSettings', { theme: 'neon' }],
  ])('rejects %s as invalid-request without reaching the service', async (_why, name, input) => {
    const service = fakeService();
    const log = vi.fn();
    const result = await dispatchRequest(service, name, input, { log });
    expect(result).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    for (const method of REQUEST_NAMES) expect(service[method]).not.toHaveBeenCalled();
    expect(log).toHaveBeenCalledWith('warn', 'ipc-invalid-request', expect.anything());
  });

  it('never logs or echoes the content of an invalid request', async () => {
    const log = vi.fn();
    const secret = 'my password is hunter2';
    const result = await dispatchRequest(
      fakeService(),
      'send',
      { hostId: H, room: secret, text: secret },
      { log },
    );
    expect(JSON.stringify(result)).not.toContain('hunter2');
    expect(JSON.stringify(log.mock.calls)).not.toContain('hunter2');
  });

  it.each(['nope', '__proto__', 'constructor', 'toString', 'hasOwnProperty', ''])(
    'rejects the unknown request name %j',
    async (name) => {
      const service = fakeService();
      expect(await dispatchRequest(service, name, {}, silent)).toEqual({
        ok: false,
        error: { code: 'invalid-request', message: 'unknown request' },
      });
    },
  );

  it('passes a ServiceError on with its code and message', async () => {
    const service = fakeService({
      send: () => {
        throw new ServiceError('not-connected', 'connect to a host first');
      },
    });
    expect(
      await dispatchRequest(service, 'send', { hostId: H, room: 'lobby', text: 'hi' }, silent),
    ).toEqual({
      ok: false,
      error: { code: 'not-connected', message: 'connect to a host first' },
    });
  });

  it('turns any other error (sync or async) into internal, without its details', async () => {
    const log = vi.fn();
    const service = fakeService({
      typing: () => {
        throw new Error('/home/alice/secret path');
      },
      joinRoom: () => Promise.reject(new TypeError('boom')),
    });
    for (const name of ['typing', 'joinRoom'] as const) {
      const result = await dispatchRequest(service, name, { hostId: H, room: 'lobby' }, { log });
      expect(result).toMatchObject({ ok: false, error: { code: 'internal' } });
      expect(JSON.stringify(result)).not.toContain('secret path');
    }
    expect(log).toHaveBeenCalledWith('error', 'ipc-request-failed', {
      name: 'typing',
      error: 'Error',
    });
  });

  it('refuses to pass on an answer that breaks the contract', async () => {
    const log = vi.fn();
    const service = fakeService({ getSettings: () => ({ ...DEFAULT_SETTINGS, theme: 'neon' }) });
    expect(await dispatchRequest(service, 'getSettings', {}, { log })).toMatchObject({
      ok: false,
      error: { code: 'internal' },
    });
    expect(log).toHaveBeenCalledWith('error', 'ipc-invalid-output', expect.anything());
  });
});
