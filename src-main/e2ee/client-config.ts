import {
  defaultKeyPackageEqualityConfig,
  defaultKeyRetentionConfig,
  type AuthenticationService,
  type ClientConfig,
} from 'ts-mls';
import { encodeBase64Url } from '../../src-shared/base64url.ts';
import { parseCredential, verifyCredential } from './device-identity.ts';
import type { PersonPins } from './person-pins.ts';

/**
 * The MLS Authentication Service: a leaf is accepted only with a basic credential that parses as
 * a Parley device credential whose person signed exactly this leaf's signature key. The person
 * key is then reported to the pins (trust on first use). A *changed* person key is still accepted:
 * every member must apply the host's commits in the same order or the group splits; the client
 * flags the member instead (pins.check() === 'changed').
 */
export function parleyAuthService(pins: PersonPins): AuthenticationService {
  return {
    async validateCredential(credential, signaturePublicKey) {
      if (credential.credentialType !== 'basic') return false;
      const parsed = parseCredential(credential.identity);
      if (parsed === undefined || !verifyCredential(parsed, signaturePublicKey)) return false;
      const parleyKey = encodeBase64Url(parsed.parleyKey);
      const personKey = encodeBase64Url(parsed.personKey);
      if (pins.check(parleyKey, personKey) === 'new') {
        try {
          await pins.accept(parleyKey, personKey);
        } catch {
          // A pin that cannot be saved is asked again next time; the credential itself is valid.
        }
      }
      return true;
    },
  };
}

export function parleyClientConfig(pins: PersonPins): ClientConfig {
  return {
    // 4 past epochs of receive keys: a message sent just before a commit still opens after it.
    keyRetentionConfig: defaultKeyRetentionConfig,
    lifetimeConfig: {
      // Our KeyPackages live 60 days, the host accepts up to 90.
      maximumTotalLifetime: BigInt(90 * 24 * 3600),
      // The committer checks the lifetime of every KeyPackage it adds (ts-mls always does for the
      // sender). Receivers must not: the check also runs on the whole tree at join, and a member
      // who has not committed since it joined 60 days ago still has its KeyPackage leaf there;
      // a joiner refusing that tree could never enter the group.
      validateLifetimeOnReceive: false,
    },
    keyPackageEqualityConfig: defaultKeyPackageEqualityConfig,
    // Messages padded to at least 256 bytes: the host sees fewer length classes of short lines.
    paddingConfig: { kind: 'padUntilLength', padUntilLength: 256 },
    authService: parleyAuthService(pins),
  };
}
