import {
  type HostAddress,
  formatHost,
  parseHostAddress,
  parseInvite,
} from '../../src-shared/invite.ts';
import type { ParsedInput } from './dispatch.ts';
import { ServiceError } from './service-error.ts';

/**
 * Where a Connect request goes, and what an invite link adds: the host's key, a room, and
 * maybe a token that makes us a member of it (for the session only: never stored or logged).
 */
export interface ConnectTarget {
  readonly address: HostAddress;
  readonly inviteKey?: Uint8Array;
  readonly inviteRoom?: string;
  readonly inviteToken?: string;
}

/** The target of a Connect request (an invite link, or a host and port typed in). */
export function connectTarget(input: ParsedInput<'connect'>): ConnectTarget {
  if ('invite' in input) {
    const invite = parseInvite(input.invite);
    if (!invite.ok) throw new ServiceError('invalid-invite', invite.error.message);
    const { host, port, hostKey, room, token } = invite.value;
    return {
      address: { host, port },
      inviteKey: hostKey,
      inviteRoom: room,
      ...(token === undefined ? {} : { inviteToken: token }),
    };
  }
  const bare = input.host.trim().replace(/^\[(.*)\]$/, '$1');
  const parsed = parseHostAddress(`${formatHost(bare)}:${input.port}`);
  if (!parsed.ok) throw new ServiceError('invalid-request', parsed.error.message);
  return { address: parsed.value };
}
