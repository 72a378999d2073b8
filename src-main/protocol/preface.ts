import { ProtocolError, type ProtocolErrorCode } from './errors.ts';

/**
 * The client's first bytes: `PARLEY/1 <Noise protocol name>\n`. They are also the Noise
 * prologue, so a man in the middle who rewrites the suite breaks the handshake.
 * The host answers with one status line, `PARLEY/1 OK\n` or `PARLEY/1 ERROR <code> <text>\n`,
 * before its first handshake message, so a client can always tell a refusal from a frame.
 */
export const PROTOCOL_VERSION = 'PARLEY/1';
export const MAX_LINE_LEN = 256;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodePreface(protocolName: string): Uint8Array {
  return encoder.encode(`${PROTOCOL_VERSION} ${protocolName}\n`);
}

export const STATUS_OK = encoder.encode(`${PROTOCOL_VERSION} OK\n`);

export function encodeErrorLine(code: ProtocolErrorCode | string, text: string): Uint8Array {
  const clean = text.replace(/[^\x20-\x7e]/g, '?').slice(0, 160);
  return encoder.encode(`${PROTOCOL_VERSION} ERROR ${code} ${clean}\n`);
}

/**
 * Reads one `\n`-terminated ASCII line from the front of a stream. Returns undefined until
 * the newline arrives; refuses lines longer than MAX_LINE_LEN without waiting for more.
 */
export class LineReader {
  #pending = new Uint8Array(0);

  push(chunk: Uint8Array): { line: Uint8Array; text: string; rest: Uint8Array } | undefined {
    const data = new Uint8Array(this.#pending.length + chunk.length);
    data.set(this.#pending);
    data.set(chunk, this.#pending.length);
    const end = data.indexOf(0x0a);
    if (end === -1) {
      if (data.length > MAX_LINE_LEN) {
        throw new ProtocolError('bad-preface', 'the first line is too long (not a Parley peer?)');
      }
      this.#pending = data;
      return undefined;
    }
    if (end + 1 > MAX_LINE_LEN) {
      throw new ProtocolError('bad-preface', 'the first line is too long (not a Parley peer?)');
    }
    const line = data.subarray(0, end + 1);
    let text: string;
    try {
      text = decoder.decode(line.subarray(0, end));
    } catch {
      throw new ProtocolError('bad-preface', 'the first line is not text (not a Parley peer?)');
    }
    if (!/^[\x20-\x7e]*$/.test(text)) {
      throw new ProtocolError('bad-preface', 'the first line is not printable ASCII');
    }
    return { line, text, rest: data.subarray(end + 1) };
  }
}

/** Parses the client's preface line (without the newline) into the protocol name. */
export function parsePreface(text: string): string {
  const [version, protocolName, ...extra] = text.split(' ');
  if (!version?.startsWith('PARLEY/') || !protocolName || extra.length > 0) {
    throw new ProtocolError('bad-preface', 'expected "PARLEY/1 <Noise protocol name>"');
  }
  if (version !== PROTOCOL_VERSION) {
    throw new ProtocolError(
      'unsupported-version',
      `this host speaks ${PROTOCOL_VERSION}, not ${version}`,
    );
  }
  return protocolName;
}

/** Parses the host's status line; throws `host-refused` with the host's reason on ERROR. */
export function parseStatusLine(text: string): void {
  if (text === `${PROTOCOL_VERSION} OK`) return;
  const error = /^PARLEY\/1 ERROR ([a-z-]+) ?(.*)$/.exec(text);
  if (error) {
    throw new ProtocolError('host-refused', `the host refused: ${error[2] || error[1]}`, {
      hostCode: error[1],
    });
  }
  throw new ProtocolError('bad-preface', 'the host did not answer like a Parley host');
}
