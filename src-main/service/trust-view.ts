import type { ConnectionState } from '../../src-shared/ipc/domain.ts';
import type { HostTrust } from '../client/host-trust.ts';

/** How the UI should describe the trust behind this connection. */
export function trustView(
  trust: HostTrust,
  viaInvite: boolean,
): Pick<ConnectionState, 'trust' | 'authority' | 'replacedFingerprint' | 'certificateProblem'> {
  const method = viaInvite
    ? 'invite'
    : trust.method === 'authority'
      ? 'authority'
      : trust.newlyPinned
        ? 'first-use'
        : 'known';
  return {
    trust: method,
    ...(method === 'authority' && trust.authority ? { authority: trust.authority } : {}),
    ...(trust.replacedFingerprint ? { replacedFingerprint: trust.replacedFingerprint } : {}),
    ...(trust.certificateProblem ? { certificateProblem: trust.certificateProblem } : {}),
  };
}
