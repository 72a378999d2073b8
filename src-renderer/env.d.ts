import type { ParleyApi } from '../src-shared/ipc/contract.ts';

declare global {
  interface Window {
    /** The platform: the preload's contract object in Electron, the bridge adapter in a browser. */
    readonly parley: ParleyApi;
  }
}

export {};
