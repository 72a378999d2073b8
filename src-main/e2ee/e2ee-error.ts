/**
 * Why an MLS operation failed, in words the client can act on (design16 "The client"):
 * - malformed: not an MLS message we accept (bad encoding, a proposal, a private commit…)
 * - wrong-group: another group's message (same room name, another group id)
 * - wrong-epoch: an epoch this state does not hold (too old: beyond the 4 retained; or ahead)
 * - tampered: decryption or a signature/MAC check failed
 * - replay: the key for that message was already used (the same ciphertext twice)
 * - not-in-group: this device is no longer a member (removed by a commit)
 * - bad-credential: a leaf's credential is not a person-signed Parley device
 * - too-large: a group beyond MAX_GROUP_DEVICES, or a message beyond the wire's limit
 * - no-key-package: a Welcome for none of this device's stored KeyPackages
 * - own-commit: the group's own commit came back; adopt the pending state instead
 * Messages never include key material or plaintext.
 */
export type E2eeFailure =
  | 'malformed'
  | 'wrong-group'
  | 'wrong-epoch'
  | 'tampered'
  | 'replay'
  | 'not-in-group'
  | 'bad-credential'
  | 'too-large'
  | 'no-key-package'
  | 'own-commit';

export class E2eeError extends Error {
  override readonly name = 'E2eeError';
  readonly reason: E2eeFailure;
  constructor(reason: E2eeFailure, message?: string) {
    super(message ?? reason);
    this.reason = reason;
  }
}
