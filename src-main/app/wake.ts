// Waking from sleep or unlocking the screen: the network is likely back (or a different one),
// so every host waiting to reconnect tries at once instead of at the end of a countdown that
// ran while the machine slept. The service decides which hosts wait (networkChanged).
import { powerMonitor } from 'electron';

/** The part of Electron's powerMonitor used here, so a test can stand in for it. */
export interface PowerEvents {
  on(event: 'resume' | 'unlock-screen', listener: () => void): unknown;
  off(event: 'resume' | 'unlock-screen', listener: () => void): unknown;
}

/** Calls `networkChanged` on every resume and unlock; returns a function that stops it. */
export function retryOnWake(
  networkChanged: () => Promise<unknown>,
  log: (error: unknown) => void,
  monitor: PowerEvents = powerMonitor,
): () => void {
  const nudge = (): void => {
    networkChanged().catch(log);
  };
  monitor.on('resume', nudge);
  monitor.on('unlock-screen', nudge);
  return () => {
    monitor.off('resume', nudge);
    monitor.off('unlock-screen', nudge);
  };
}
