// Dev and test builds only: `window.parley` over the bridge's WebSocket, for a page that is
// not running in Electron. The bridge's Vite plugin injects this module into the page before
// the app's own entry; src-renderer never imports it, so the shipped app cannot contain it.
import type {
  EventName,
  IpcResult,
  ParleyApi,
  RequestName,
} from '../../../src-shared/ipc/contract.ts';
import { BRIDGE_PATH, type BridgeClientMessage, type BridgeServerMessage } from '../protocol.ts';

type Listener = (payload: unknown) => void;

const RETRY_MS = 1000;

function createBridgeApi(url: string): ParleyApi {
  const pending = new Map<number, (result: IpcResult<unknown>) => void>();
  const listeners = new Map<EventName, Set<Listener>>();
  const outbox: string[] = [];
  let nextId = 1;
  let socket: WebSocket;
  let wasOpen = false;

  function open(): void {
    socket = new WebSocket(url);
    socket.addEventListener('open', () => {
      // The bridge restarted (dev): its state is not ours any more, so start over.
      if (wasOpen) location.reload();
      wasOpen = true;
      for (const data of outbox.splice(0)) socket.send(data);
    });
    socket.addEventListener('message', (event: MessageEvent<string>) => {
      const message = JSON.parse(event.data) as BridgeServerMessage;
      if (message.t === 'res') {
        pending.get(message.id)?.(message.result);
        pending.delete(message.id);
      } else {
        for (const listener of listeners.get(message.name) ?? []) listener(message.payload);
      }
    });
    socket.addEventListener('close', () => {
      for (const resolve of pending.values()) {
        resolve({ ok: false, error: { code: 'internal', message: 'the bridge went away' } });
      }
      pending.clear();
      setTimeout(open, RETRY_MS);
    });
  }
  open();

  function request(name: RequestName, input: unknown): Promise<IpcResult<unknown>> {
    const id = nextId++;
    const message: BridgeClientMessage = { t: 'req', id, name, input };
    const data = JSON.stringify(message);
    return new Promise((resolve) => {
      pending.set(id, resolve);
      if (socket.readyState === WebSocket.OPEN) socket.send(data);
      else outbox.push(data);
    });
  }

  function subscribe(name: EventName, listener: Listener): () => void {
    let set = listeners.get(name);
    if (!set) listeners.set(name, (set = new Set()));
    const own = (payload: unknown): void => listener(payload);
    set.add(own);
    return () => set.delete(own);
  }

  // `onMessage(listener)` subscribes to `message`; any other name is a request. A Proxy keeps
  // this file free of the contract's runtime schemas.
  const methods = new Map<string, unknown>();
  return new Proxy({} as ParleyApi, {
    get(_target, property) {
      if (typeof property !== 'string' || property === 'then') return undefined;
      let method = methods.get(property);
      if (!method) {
        const event = /^on([A-Z])(.*)$/.exec(property);
        method = event
          ? (listener: Listener) =>
              subscribe(`${(event[1] ?? '').toLowerCase()}${event[2] ?? ''}` as EventName, listener)
          : (input: unknown) => request(property as RequestName, input);
        methods.set(property, method);
      }
      return method;
    },
  });
}

const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
Object.defineProperty(window, 'parley', {
  value: createBridgeApi(`${scheme}//${location.host}${BRIDGE_PATH}`),
  enumerable: true,
});
