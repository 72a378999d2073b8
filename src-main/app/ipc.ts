// IPC between main and the renderer: one ipcMain.handle per request of the contract, each
// answered by dispatchRequest (validation, typed errors, never a throw across IPC), and the
// service's contract events forwarded to the window.
import { type IpcMainInvokeEvent, type WebContents, ipcMain } from 'electron';
import {
  EVENT_NAMES,
  type EventName,
  REQUEST_NAMES,
  eventChannel,
  requestChannel,
} from '../../src-shared/ipc/contract.ts';
import { fail } from '../../src-shared/result.ts';
import { type DispatchLog, type RequestHandlers, dispatchRequest } from '../service/dispatch.ts';

export interface IpcOptions {
  /** Only our own window's top frame may call: not a subframe, not another window. */
  readonly isTrustedSender: (event: IpcMainInvokeEvent) => boolean;
  readonly log?: DispatchLog;
}

/** Registers the handlers; returns a function that removes them. */
export function registerIpcHandlers(service: RequestHandlers, options: IpcOptions): () => void {
  for (const name of REQUEST_NAMES) {
    ipcMain.handle(requestChannel(name), (event, input: unknown) => {
      if (!options.isTrustedSender(event)) {
        options.log?.('warn', 'ipc-untrusted-sender', { name });
        return fail('refused', 'this page may not talk to Parley');
      }
      return dispatchRequest(service, name, input, options.log ? { log: options.log } : {});
    });
  }
  return () => {
    for (const name of REQUEST_NAMES) ipcMain.removeHandler(requestChannel(name));
  };
}

/** Subscribes to one contract event of the service; returns the unsubscribe. */
export type Subscribe = (name: EventName, listener: (payload: unknown) => void) => () => void;

/**
 * Sends each contract event to the window's renderer as it happens. `target` is read at each
 * event, so a recreated window keeps receiving; a destroyed one is skipped.
 */
export function forwardEvents(
  subscribe: Subscribe,
  target: () => WebContents | undefined,
): () => void {
  const unsubscribers = EVENT_NAMES.map((name) =>
    subscribe(name, (payload) => {
      const contents = target();
      if (contents && !contents.isDestroyed()) contents.send(eventChannel(name), payload);
    }),
  );
  return () => {
    for (const unsubscribe of unsubscribers) unsubscribe();
  };
}

/** True for a call from the main frame of `contents` (the window we created). */
export function isFromMainFrame(
  event: IpcMainInvokeEvent,
  contents: WebContents | undefined,
): boolean {
  return (
    contents !== undefined && event.sender === contents && event.senderFrame === contents.mainFrame
  );
}
