import { fingerprint } from '../../src-shared/fingerprint.ts';
import type { HostAddress } from '../../src-shared/invite.ts';
import { HostKeyMismatch, sameKey } from '../protocol/host-key.ts';
import { decodeMessage } from '../protocol/wire/codec.ts';
import { HostInfo } from '../protocol/wire/messages.ts';
import type { KnownHost, KnownHosts, TrustMethod } from '../store/known-hosts.ts';
import type { Authority } from '../trust/authority.ts';
import type { AuthoritySource } from '../trust/authority-store.ts';
import { type CertificateProblem, CertificateRejected } from '../trust/certificate-error.ts';
import { formatIpAddress } from '../trust/host-names.ts';
import type { VerifiedChain } from '../trust/verify-chain.ts';

/**
 * One answer to "is this the host we meant?", for the line client and the desktop app alike
 * (docs/trust.md has the rules for people):
 *
 * 1. An invite's key wins: the user gave it explicitly. Any other key is refused, whatever
 *    certificate comes with it.
 * 2. A known host (pinned earlier) must present its pinned key — unless the host's certificate
 *    chain verifies to an imported authority for this host name and the NEW key: then the pin
 *    is replaced (method 'authority'), without a question, and `replacedFingerprint` tells the
 *    UI to show it. A changed key with no valid certificate is refused, never re-pinned.
 * 3. An unknown host whose chain verifies is pinned (method 'authority'); otherwise — only if
 *    the policy says so — trust on first use.
 *
 * A chain that does not verify never stops a connection that a pin or the policy allows; its
 * problem (which check failed) travels with the decision or the refusal so the UI can show it.
 */

/** The host is not in known hosts and nothing vouches for it. Carries what a UI must show. */
export class HostKeyUnknown extends Error {
  override readonly name = 'HostKeyUnknown';
  readonly code = 'host-key-unknown';
  readonly fingerprint: string;
  readonly key: Uint8Array;
  readonly address: HostAddress;

  /** The host presented a certificate, but it was not accepted: why. */
  readonly certificateProblem: CertificateProblem | undefined;

  constructor(address: HostAddress, key: Uint8Array, certificateProblem?: CertificateProblem) {
    const print = fingerprint(key);
    super(
      `the host ${address.host}:${address.port} is not known (fingerprint ${print}); ` +
        'compare the fingerprint with its owner before trusting it, or use an invite link' +
        (certificateProblem
          ? `; its certificate was not accepted: ${certificateProblem.message}`
          : ''),
    );
    this.fingerprint = print;
    this.key = key.slice();
    this.address = address;
    this.certificateProblem = certificateProblem;
  }
}

/** Where the key a host failed to present came from: the invite link, or the pinned entry. */
export type ExpectedKeyFrom = 'invite' | 'pinned';

/**
 * The host did not present the key of the invite link the user connected with. Not "the key
 * changed": the link may be wrong or forged, or someone may be intercepting the connection.
 */
export class InviteKeyMismatch extends HostKeyMismatch {
  readonly expectedFrom = 'invite';

  constructor(expected: Uint8Array, actual: Uint8Array) {
    super(expected, actual);
    this.message =
      `the host's key does not match the invite link: expected ${this.expectedFingerprint}, ` +
      `got ${this.actualFingerprint}. The link may be wrong or forged, or someone may be ` +
      'intercepting the connection; nothing was sent.';
  }
}

/** Where a refused key was expected from: any mismatch but an invite's is against a pin. */
export function expectedKeyFrom(mismatch: HostKeyMismatch): ExpectedKeyFrom {
  return mismatch instanceof InviteKeyMismatch ? 'invite' : 'pinned';
}

/**
 * A known host presented another key and a certificate chain that does not vouch for it: refused
 * like any HostKeyMismatch (it is one), with why the certificate did not count.
 */
export class HostKeyChangedUnvouched extends HostKeyMismatch {
  readonly certificateProblem: CertificateProblem;

  constructor(expected: Uint8Array, actual: Uint8Array, certificateProblem: CertificateProblem) {
    super(expected, actual);
    this.certificateProblem = certificateProblem;
    this.message += ` Its certificate was not accepted: ${certificateProblem.message}.`;
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
  /**
   * An invite, or a certificate from an imported authority, replaced a different pinned key;
   * this was the old key's fingerprint. Show it: the connection went ahead without a question.
   */
  readonly replacedFingerprint?: string;
  /** With method 'authority': the name of the authority that vouched for the pinned key. */
  readonly authority?: string;
  /** The host's certificate chain verified on this connection. */
  readonly certificate?: HostCertificate;
  /** The host presented a certificate chain that was not accepted on this connection: why. */
  readonly certificateProblem?: CertificateProblem;
}

/** A host certificate that verified, as plain data for a UI. */
export interface HostCertificate {
  /** The imported authority it leads to. */
  readonly authority: string;
  readonly authorityFingerprint: string;
  /** SHA-256 of the host certificate, `AB:CD:…`. */
  readonly fingerprint: string;
  readonly names: readonly string[];
  /** ISO-8601. */
  readonly notAfter: string;
}

export interface HostVerifier {
  readonly address: HostAddress;
  /**
   * Runs inside the handshake, while the host waits for message 3, so it never asks anyone:
   * resolves with the trust decision or throws HostKeyMismatch (InviteKeyMismatch when the
   * invite's key was expected) / HostKeyUnknown. `hostInfo` is
   * message 2's payload, whose certificate chain (if any) is checked here.
   */
  verify(hostKey: Uint8Array, hostInfo?: Uint8Array): Promise<HostTrust>;
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
  /** The certificate authorities the user imported (an AuthorityStore, or a fixed list). */
  readonly authorities?: AuthoritySource | readonly Authority[];
  /** For certificate validity; default Date.now. */
  readonly now?: () => number;
}

export function createHostVerifier(options: HostVerifierOptions): HostVerifier {
  const { address, knownHosts, policy } = options;
  const inviteKey = options.inviteKey?.slice();
  const now = options.now ?? Date.now;
  const source = options.authorities;
  const authorities = (): readonly Authority[] =>
    source === undefined ? [] : 'list' in source ? source.list() : source;
  // A key this verifier pinned and has not yet reported as new.
  let justPinned: Uint8Array | undefined;

  const trustOf = (
    entry: KnownHost,
    newlyPinned: boolean,
    replacedFingerprint?: string,
  ): HostTrust => ({
    fingerprint: fingerprint(entry.key),
    method: entry.method,
    firstSeen: entry.firstSeen,
    newlyPinned,
    ...(replacedFingerprint ? { replacedFingerprint } : {}),
    ...(entry.method === 'authority' && entry.authority ? { authority: entry.authority } : {}),
  });

  /** Checks the chain; forge is loaded only when a host actually sends one. */
  const checkChain = async (
    chain: readonly Uint8Array[],
    hostKey: Uint8Array,
  ): Promise<{ verified: VerifiedChain } | { problem: CertificateProblem }> => {
    const { verifyHostChain } = await import('../trust/verify-chain.ts');
    try {
      return {
        verified: verifyHostChain({
          chain,
          authorities: authorities(),
          hostName: address.host,
          hostKey,
          now: now(),
        }),
      };
    } catch (error) {
      if (error instanceof CertificateRejected) return { problem: error.problem };
      // Whatever else went wrong, the chain did not verify: it vouches for nothing, and the
      // usual rules decide (a bug here must not block a host a pin allows).
      return {
        problem: {
          code: 'certificate-malformed',
          message: `the certificate chain could not be checked (${error instanceof Error ? error.name : 'error'})`,
        },
      };
    }
  };

  const wasJustPinned = (key: Uint8Array): boolean => {
    const fresh = justPinned !== undefined && sameKey(justPinned, key);
    if (fresh) justPinned = undefined;
    return fresh;
  };

  return {
    address,
    canConfirm: 'confirmNewHost' in policy,

    async verify(hostKey, hostInfo) {
      const known = knownHosts.get(address);
      if (inviteKey) {
        if (!sameKey(inviteKey, hostKey)) throw new InviteKeyMismatch(inviteKey, hostKey);
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
      const chain = hostInfo ? certificatesIn(hostInfo) : undefined;
      if (known) {
        if (sameKey(known.key, hostKey)) {
          const fresh = wasJustPinned(hostKey);
          // The pin decides; a chain only adds what the UI shows (and may upgrade a first-use pin).
          if (!chain || authorities().length === 0) return trustOf(known, fresh);
          const outcome = await checkChain(chain, hostKey);
          if ('problem' in outcome) {
            return { ...trustOf(known, fresh), certificateProblem: outcome.problem };
          }
          const entry = await knownHosts.pin(address, hostKey, 'authority', {
            authority: outcome.verified.authority.name,
          });
          return { ...trustOf(entry, fresh), certificate: summary(outcome.verified) };
        }
        if (!chain) throw new HostKeyMismatch(known.key, hostKey);
        const outcome = await checkChain(chain, hostKey);
        if ('problem' in outcome) {
          throw new HostKeyChangedUnvouched(known.key, hostKey, outcome.problem);
        }
        // An imported authority vouches for the new key under this name: re-pin, and say so.
        const { entry, previous } = await knownHosts.replace(address, hostKey, 'authority', {
          authority: outcome.verified.authority.name,
        });
        const replaced = previous && !sameKey(previous.key, hostKey);
        return {
          ...trustOf(entry, true, replaced ? fingerprint(previous.key) : undefined),
          certificate: summary(outcome.verified),
        };
      }
      let problem: CertificateProblem | undefined;
      if (chain) {
        const outcome = await checkChain(chain, hostKey);
        if ('verified' in outcome) {
          const entry = await knownHosts.pin(address, hostKey, 'authority', {
            authority: outcome.verified.authority.name,
          });
          return { ...trustOf(entry, true), certificate: summary(outcome.verified) };
        }
        problem = outcome.problem;
      }
      if ('trustNewHost' in policy && policy.trustNewHost) {
        return {
          ...trustOf(await knownHosts.pin(address, hostKey, 'first-use'), true),
          ...(problem ? { certificateProblem: problem } : {}),
        };
      }
      throw new HostKeyUnknown(address, hostKey, problem);
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

/** The certificate chain in message 2's payload, as DER; undefined if none (or unreadable). */
function certificatesIn(hostInfo: Uint8Array): Uint8Array[] | undefined {
  let info: HostInfo;
  try {
    info = decodeMessage(HostInfo, hostInfo);
  } catch {
    return undefined; // the session reports an unreadable host info itself
  }
  return info.certs?.map((base64) => new Uint8Array(Buffer.from(base64, 'base64')));
}

function summary(verified: VerifiedChain): HostCertificate {
  const { leaf, authority } = verified;
  return {
    authority: authority.name,
    authorityFingerprint: authority.fingerprint,
    fingerprint: leaf.fingerprint,
    names: [...leaf.dnsNames, ...leaf.ipAddresses.map(formatIpAddress)],
    notAfter: leaf.notAfter.toISOString(),
  };
}
