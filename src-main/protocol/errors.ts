/**
 * Every way the secure channel can fail, as a code a program can switch on and a message a
 * person can read. Messages never contain key material or plaintext.
 */
export type ProtocolErrorCode =
  | 'bad-preface' // the first line is not `PARLEY/1 <protocol name>`
  | 'unsupported-version'
  | 'unsupported-suite'
  | 'host-refused' // the host answered the preface with an error line
  | 'frame-too-large'
  | 'bad-frame'
  | 'handshake-failed' // a handshake message did not decrypt or parse
  | 'handshake-timeout'
  | 'decrypt-failed' // a transport message failed authentication: tampering or desync
  | 'bad-record' // a decrypted record is not a well-formed list of items
  | 'nonce-exhausted'
  | 'invalid-key'
  | 'connection-lost' // the socket ended without an end-of-session item (truncation)
  | 'closed'; // using a channel that is already closed

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  readonly code: ProtocolErrorCode;
  /** For `host-refused`: the code on the host's status line (e.g. `full`, `busy`, `shutdown`). */
  readonly hostCode?: string;

  constructor(
    code: ProtocolErrorCode,
    message: string,
    options?: { cause?: unknown; hostCode?: string },
  ) {
    super(message, options);
    this.code = code;
    if (options?.hostCode) this.hostCode = options.hostCode;
  }
}
