import type { HostAddress } from '../../src-shared/invite.ts';
import type { CertificateProblem } from '../../src-shared/ipc/domain.ts';
import type { HostVerifier } from '../client/host-trust.ts';
import type { AskTrust } from './host-connection.ts';

/**
 * The verifier, with the certificate problem of the refused key passed on to the question:
 * host-trust's policy callback gets only the fingerprint, but the UI should say why a
 * certificate the host presented did not count.
 */
export function askingVerifier(
  build: (ask: (print: string, address: HostAddress) => Promise<boolean>) => HostVerifier,
  ask: AskTrust,
): HostVerifier {
  let problem: CertificateProblem | undefined;
  const inner = build((print, address) => ask(print, address, problem));
  return {
    address: inner.address,
    canConfirm: inner.canConfirm,
    verify: (hostKey, hostInfo) => inner.verify(hostKey, hostInfo),
    confirm: (unknown) => {
      problem = unknown.certificateProblem;
      return inner.confirm(unknown);
    },
  };
}
