import { isValidRoomName } from '../../src-shared/identifiers.ts';
import { MAX_RETRY_AFTER_MS } from './host-bounds.ts';
import type { MembershipError } from './membership-requests.ts';
import type { InviteRefused, Redeemed } from './session-events.ts';

export interface RedeemerHooks {
  /**
   * Sends `redeem` on the current connection; one of the callbacks is called as its answer is
   * handled, so a refusal is reported before the host's next message (the join it refuses).
   */
  readonly redeem: (
    token: string,
    redeemed: (redeemed: Redeemed) => void,
    failed: (error: MembershipError) => void,
  ) => void;
  /** Runs `action` after `ms`, unless the connection ends first. */
  readonly later: (ms: number, action: () => void) => void;
  readonly redeemed: (redeemed: Redeemed) => void;
  readonly refused: (refused: InviteRefused) => void;
}

/**
 * The invite token a session was started with: redeemed after each welcome until the host
 * admits the key, then forgotten. Refused for good (unknown, expired, used up, revoked,
 * banned): reported once and forgotten. Refused for now (rate-limited, internal): again after
 * the host's wait. Cut off by a disconnect: again after the next welcome. The token goes
 * nowhere but the `redeem` request: not into errors, events or logs.
 */
export class InviteRedeemer {
  readonly #hooks: RedeemerHooks;
  #token: string | undefined;
  #inFlight = false;

  constructor(token: string | undefined, hooks: RedeemerHooks) {
    this.#token = token;
    this.#hooks = hooks;
  }

  get waiting(): boolean {
    return this.#token !== undefined;
  }

  /** A welcome: redeem the token on this connection, if it is still wanted. */
  redeem(): void {
    const token = this.#token;
    if (token === undefined || this.#inFlight) return;
    this.#inFlight = true;
    this.#hooks.redeem(
      token,
      (redeemed) => {
        this.#inFlight = false;
        if (this.#token !== token) return;
        this.#token = undefined;
        this.#hooks.redeemed(redeemed);
      },
      (error) => {
        this.#inFlight = false;
        if (this.#token === token) this.#failed(error);
      },
    );
  }

  /** The session stopped: nothing more is redeemed. */
  forget(): void {
    this.#token = undefined;
  }

  #failed(error: MembershipError): void {
    switch (error.code) {
      case 'rate-limited':
      case 'internal': {
        const wait = Math.min(error.retryAfterMs ?? 1000, MAX_RETRY_AFTER_MS);
        this.#hooks.later(Math.max(1, wait), () => this.redeem());
        return;
      }
      case 'offline':
      case 'disconnected':
      case 'stopped':
      case 'busy':
        return; // the next welcome tries again
      default:
        this.#token = undefined;
        this.#hooks.refused({
          code: error.code,
          message: error.message,
          ...(error.ref !== undefined && isValidRoomName(error.ref) ? { room: error.ref } : {}),
        });
    }
  }
}
