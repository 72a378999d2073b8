// The sandboxed preload, bundled to CommonJS (out/preload/preload.cjs). It exposes exactly one
// object, window.parley, derived from the IPC contract: one method per request, one onX per
// event. The page never touches ipcRenderer itself, so it can reach nothing but the contract.
// Imports: 'electron' and src-shared only (everything else would have to be bundled in).
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { ParleyApi } from '../../src-shared/ipc/contract.ts';
import {
  EVENT_NAMES,
  REQUEST_NAMES,
  eventChannel,
  listenerName,
  requestChannel,
} from '../../src-shared/ipc/names.ts';

export function buildParleyApi(): ParleyApi {
  const api: Record<string, unknown> = {};
  for (const name of REQUEST_NAMES) {
    const channel = requestChannel(name);
    // Main answers with an IpcResult; a failure of IPC itself becomes one too.
    api[name] = (input: unknown) =>
      ipcRenderer.invoke(channel, input).catch(() => ({
        ok: false,
        error: { code: 'internal', message: 'Parley did not answer; try again' },
      }));
  }
  for (const name of EVENT_NAMES) {
    const channel = eventChannel(name);
    api[listenerName(name)] = (listener: unknown) => {
      if (typeof listener !== 'function')
        throw new TypeError(`${listenerName(name)} needs a function`);
      // Only the payload crosses: the IPC event (with its sender) stays here.
      const forward = (_event: IpcRendererEvent, payload: unknown): void =>
        (listener as (payload: unknown) => void)(payload);
      ipcRenderer.on(channel, forward);
      let subscribed = true;
      return () => {
        if (!subscribed) return;
        subscribed = false;
        ipcRenderer.removeListener(channel, forward);
      };
    };
  }
  return Object.freeze(api) as ParleyApi;
}

contextBridge.exposeInMainWorld('parley', buildParleyApi());
