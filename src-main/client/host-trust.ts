import { fingerprint } from '../../src-shared/fingerprint.ts';
import type { HostAddress } from '../../src-shared/invite.ts';
import { HostKeyMismatch, sameKey } from '../protocol/host-key.ts';
import type { KnownHosts, TrustMethod } from '../store/known-hosts.ts';

/**
 * One answer to "is this the host we meant?", for the line client and the desktop app alike:
 * an invite's key wins (the user gave it explicitly), then a known host's pin, then — only if
 * the policy says so — trust on first use. A changed key is always refused, never re-pinned.
 */

/** The host is not in known hosts and nothing vouches for it. Carries what a UI must show. */
export class HostKeyUnknown extends Error {
  override readonly name = 'HostKeyUnknown';
  readonly code = 'host-key-unknown';
  readonly fingerprint: string;
  readonly key: Uint8Array;
  readonly address: HostAddress;

  constructor(address: HostAddress, key: Uint8Array) {
    const print = fingerprint(key);
    super(
      `the host ${address.host}:${address.port} is not known (fingerprint ${print}); ` +
        'compare the fingerprint with its owner before trusting it, or use an invite link',
    );
    this.fingerprint = print;
    this.key = key.slice();
    this.address = address;
  }
}

export type TrustPolicy =
  | { readonly trustNewHost: boolean }
  /** Asked outside the handshake, so a person may take their time to compare fingerprints. */
  | { readonly confirmNewHost: (fingerprint: string, address: HostAddress) => Promise<boolean> };

/** Why this connection's host key was accepted, for the UI to show. */
export interface HostTrust {
  readonly fingerprint: string;
  /** What vouched for the key when it was pinned. */
  readonly method: TrustMethod;
  readonly firstSeen: string;
  /** This connection is the first with this key: it was pinned just now. */
  readonly newlyPinned: boolean;
  /** An invite replaced a different pinned key; this was the old key's fingerprint. */
  readonly replacedFingerprint?: string;
}

export interface HostVerifier {
  readonly address: HostAddress;
  /**
   * Runs inside the handshake, while the host waits for message 3, so it never asks anyone:
   * resolves with the trust decision or throws HostKeyMismatch / HostKeyUnknown.
   */
  verify(hostKey: Uint8Array): Promise<HostTrust>;
  /** Whether a HostKeyUnknown may be resolved by `confirm` (the policy can ask a person). */
  readonly canConfirm: boolean;
  /**
   * After a HostKeyUnknown aborted a handshake: asks the policy; on yes pins exactly the key
   * that was shown (first use), so the next connection must present that same key.
   */
  confirm(unknown: HostKeyUnknown): Promise<boolean>;
}

export interface HostVerifierOptions {
  readonly address: HostAddress;
  /** From an invite link: the user vouches for this key explicitly. */
  readonly inviteKey?: Uint8Array;
  readonly knownHosts: KnownHosts;
  readonly policy: TrustPolicy;
}

export function createHostVerifier(options: HostVerifierOptions): HostVerifier {
  const { address, knownHosts, policy } = options;
  const inviteKey = options.inviteKey?.slice();
  // A key this verifier pinned and has not yet reported as new.
  let justPinned: Uint8Array | undefined;

  const trustOf = (
    entry: { key: Uint8Array; method: TrustMethod; firstSeen: string },
    newlyPinned: boolean,
    replacedFingerprint?: string,
  ): HostTrust => ({
    fingerprint: fingerprint(entry.key),
    method: entry.method,
    firstSeen: entry.firstSeen,
    newlyPinned,
    ...(replacedFingerprint ? { replacedFingerprint } : {}),
  });

  const wasJustPinned = (key: Uint8Array): boolean => {
    const fresh = justPinned !== undefined && sameKey(justPinned, key);
    if (fresh) justPinned = undefined;
    return fresh;
  };

  return {
    address,
    canConfirm: 'confirmNewHost' in policy,

    async verify(hostKey) {
      const known = knownHosts.get(address);
      if (inviteKey) {
        if (!sameKey(inviteKey, hostKey)) throw new HostKeyMismatch(inviteKey, hostKey);
        if (known && sameKey(known.key, hostKey) && known.method === 'invite') {
          return trustOf(known, wasJustPinned(hostKey));
        }
        const { entry, previous } = await knownHosts.replace(address, hostKey, 'invite');
        const replaced = previous && !sameKey(previous.key, hostKey);
        return trustOf(
          entry,
          !previous || Boolean(replaced),
          replaced ? fingerprint(previous.key) : undefined,
        );
      }
      if (known) {
        if (!sameKey(known.key, hostKey)) throw new HostKeyMismatch(known.key, hostKey);
        return trustOf(known, wasJustPinned(hostKey));
      }
      if ('trustNewHost' in policy && policy.trustNewHost) {
        return trustOf(await knownHosts.pin(address, hostKey, 'first-use'), true);
      }
      throw new HostKeyUnknown(address, hostKey);
    },

    async confirm(unknown) {
      if (!('confirmNewHost' in policy)) return false;
      if (!(await policy.confirmNewHost(unknown.fingerprint, address))) return false;
      await knownHosts.pin(address, unknown.key, 'first-use');
      justPinned = unknown.key.slice();
      return true;
    },
  };
}
