import type { EventName, IpcResult, RequestName } from '../../src-shared/ipc/contract.ts';

/**
 * What the bridge serves: the contract's requests and events, whatever implements them — the
 * real service layer (DesktopService through dispatchRequest); tests may put a stand-in here.
 */
export interface BridgeBackend {
  /** Validates and runs one request; never throws (a failure is an `ok: false` result). */
  request(name: RequestName, input: unknown): Promise<IpcResult<unknown>>;
  /** Every contract event, in order; returns an unsubscribe. */
  subscribe(listener: (name: EventName, payload: unknown) => void): () => void;
  close(): Promise<void>;
}
