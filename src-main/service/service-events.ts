import type { EventName, EventPayload } from '../../src-shared/ipc/contract.ts';
import type { HostId } from '../../src-shared/ipc/domain.ts';
import type { ShownNotification } from './notification-policy.ts';

/** A desktop notification to show, and the host its room is on (a click opens that room). */
export type HostNotification = ShownNotification & { readonly hostId: HostId };

/** The service's events: one per contract event, plus what only the shell sees. */
export type ServiceEvents = { [N in EventName]: EventPayload<N> } & {
  /** A desktop notification to show (already decided by the notification policy). */
  notify: HostNotification;
};

export type EmitEvent = <N extends keyof ServiceEvents>(name: N, payload: ServiceEvents[N]) => void;
