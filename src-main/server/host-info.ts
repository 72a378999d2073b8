import { encodeMessage } from '../protocol/wire/codec.ts';
import { WIRE_VERSION } from '../protocol/wire/constants.ts';
import type { HostInfo } from '../protocol/wire/messages.ts';
import type { HostLimits } from './host-limits.ts';

export const SOFTWARE = 'parley/0.1.0';
/** Message 2 is one frame: 65535 bytes less e (32), encrypted s (48) and the payload's tag (16). */
const MAX_HOST_INFO_BYTES = 65535 - 32 - 48 - 16;

/**
 * What the host tells every client in handshake message 2 (name, rooms, the limits a client
 * should respect, its certificate chain), encoded once. Throws if it cannot fit the message.
 */
export function encodeHostInfo(info: {
  readonly name: string;
  readonly rooms: readonly string[];
  readonly limits: HostLimits;
  /** DER, the host's own certificate first. */
  readonly certificateChain?: readonly Uint8Array[];
}): Uint8Array {
  const hostInfo: HostInfo = {
    v: WIRE_VERSION,
    name: info.name,
    software: SOFTWARE,
    rooms: [...info.rooms],
    limits: {
      maxTextBytes: info.limits.maxTextBytes,
      messagesPerSecond: info.limits.messagesPerSecond,
      messageBurst: info.limits.messageBurst,
      // Ciphertext bytes (docs/protocol.md §13); 0: this host stores no files.
      maxFileBytes: info.limits.maxFileBytes,
      ...(info.limits.fileRetentionDays > 0
        ? { fileRetentionDays: info.limits.fileRetentionDays }
        : {}),
    },
    ...(info.certificateChain
      ? { certs: info.certificateChain.map((der) => Buffer.from(der).toString('base64')) }
      : {}),
  };
  const bytes = encodeMessage(hostInfo);
  if (bytes.length > MAX_HOST_INFO_BYTES) {
    throw new Error(
      `the host info (rooms, certificate chain) takes ${bytes.length} bytes; ` +
        `handshake message 2 carries at most ${MAX_HOST_INFO_BYTES}`,
    );
  }
  return bytes;
}
