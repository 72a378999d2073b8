// The real thing behind the bridge: the desktop service layer (DesktopService), exactly as the
// Electron main process runs it, with requests validated by the same dispatchRequest.
import { join } from 'node:path';
import { EVENT_NAMES } from '../../src-shared/ipc/contract.ts';
import {
  DesktopService,
  type DesktopServiceOptions,
} from '../../src-main/service/desktop-service.ts';
import { dispatchRequest } from '../../src-main/service/dispatch.ts';
import type { BridgeBackend } from './backend.ts';
import { BridgeSaveDialog } from './save-dialog.ts';

export interface ServiceBackend extends BridgeBackend {
  readonly service: DesktopService;
  /** Links the page asked to open (a browser tab is not a system browser: nothing opens). */
  readonly openedLinks: readonly string[];
  /** Where saved files go, and what the "user" answers the save dialog (tests decide). */
  readonly saveDialog: BridgeSaveDialog;
}

export async function openServiceBackend(options: DesktopServiceOptions): Promise<ServiceBackend> {
  const openedLinks: string[] = [];
  const saveDialog = new BridgeSaveDialog(join(options.dataDir, 'saved-files'));
  const service = await DesktopService.open({
    chooseSavePath: saveDialog.choose,
    openExternal: async (url) => {
      openedLinks.push(url);
      console.log(`[bridge] the page asked to open ${url}`);
    },
    ...options,
  });
  return {
    service,
    openedLinks,
    saveDialog,
    request: (name, input) =>
      dispatchRequest(service, name, input, {
        log: (level, event, fields) => console[level](`[bridge] ${event}`, JSON.stringify(fields)),
      }),
    subscribe(listener) {
      const offs = EVENT_NAMES.map((name) =>
        service.on(name, (payload) => listener(name, payload)),
      );
      return () => offs.forEach((off) => off());
    },
    close: () => service.close(),
  };
}
