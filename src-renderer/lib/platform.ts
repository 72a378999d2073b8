import type { IpcResult, ParleyApi } from '../../src-shared/ipc/contract.ts';

/** The one thing the UI talks to: `window.parley` (tests pass their own). */
export type Platform = ParleyApi;

/** A request that came back `ok: false`, as an exception for code that prefers them. */
export class RequestFailed extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'RequestFailed';
    this.code = code;
  }
}

export async function unwrap<T>(result: Promise<IpcResult<T>>): Promise<T> {
  const settled = await result;
  if (!settled.ok) throw new RequestFailed(settled.error.code, settled.error.message);
  return settled.value;
}

/** A failure's message for people; a thrown non-request error is a bug, said so plainly. */
export function describeError(error: unknown): string {
  if (error instanceof RequestFailed) return error.message;
  return 'Something went wrong. Please try again.';
}
