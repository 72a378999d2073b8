import type { IpcErrorCode } from '../../src-shared/ipc/contract.ts';

/**
 * A request the service refuses for a reason the user can act on. `dispatchRequest` turns it
 * into `{ ok: false, error: { code, message } }`; anything else thrown becomes `internal`.
 * The message is shown to the user: it never contains message text or key material.
 */
export class ServiceError extends Error {
  override readonly name = 'ServiceError';
  readonly code: IpcErrorCode;

  constructor(code: IpcErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
