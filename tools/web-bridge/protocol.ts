/**
 * The bridge's WebSocket messages: the `window.parley` contract carried as JSON, one request
 * or event per message. Shared by the Node side (server.ts) and the page side
 * (browser/adapter.ts); types only, so it costs the page nothing.
 */
import type { EventName, IpcResult, RequestName } from '../../src-shared/ipc/contract.ts';

/** Where the page finds the bridge: same origin as the page, so `connect-src 'self'` allows it. */
export const BRIDGE_PATH = '/__parley/bridge';

export type BridgeClientMessage = {
  readonly t: 'req';
  readonly id: number;
  readonly name: RequestName;
  readonly input: unknown;
};

export type BridgeServerMessage =
  | { readonly t: 'res'; readonly id: number; readonly result: IpcResult<unknown> }
  | { readonly t: 'evt'; readonly name: EventName; readonly payload: unknown };
