// The wire's numbers and names that need no schema: versions, limits, close reasons. Kept apart
// from messages.ts and chat-event.ts (which re-export them), because those build zod schemas
// when imported, and a host that has not yet had a connection should not pay for that: zod and
// the schemas are ~4.5 MiB of a host's RSS at start (#18, bench/footprint.ts). The host imports
// these from here, and its schemas on its first connection (host-schemas-loader.ts).

/**
 * 5: less per delivery — `msg` and `commit` items carry no `fp` (a client derives it from `key`),
 * and an end-to-end encrypted `send` states its MLS `epoch` so the host relays the ciphertext
 * without decoding it (docs/protocol.md, "Changes in version 5"). 4 was the conversation's
 * events — replies, edits, deletions, reactions, files, read positions (§13); 3 end-to-end
 * encrypted rooms (MLS, §12), 2 private rooms (membership, invites, room events). A host refuses
 * any other version.
 */
export const WIRE_VERSION = 5;
export const MAX_TEXT_BYTES = 16 * 1024;
/** Host info's certificate chain: at most this many certificates of at most 12 KiB each. */
export const MAX_CERTS = 8;
export const MAX_CERT_BASE64 = 16384;

/** The most an MLS message may take on the wire as text; the item limit (65516) binds first. */
export const MAX_MLS_TEXT = 65_536;
/** KeyPackages a device may hand the host at once, and the most it keeps per device. */
export const MAX_KEY_PACKAGES = 20;
/** A room's MLS group holds at most this many devices (docs/security.md, room sizes). */
export const MAX_GROUP_DEVICES = 100;

export const MAX_EVENT_TEXT_BYTES = 16 * 1024;
/** The largest file a client may offer at all; a host's own limit (HostInfo) is usually lower. */
export const MAX_FILE_BYTES = 1024 * 1024 * 1024;
/** Plaintext bytes per file chunk: its ciphertext (+16) in base64url fits one channel item. */
export const FILE_CHUNK_BYTES = 32 * 1024;
/** Chunks a file may have: MAX_FILE_BYTES / FILE_CHUNK_BYTES. */
export const MAX_FILE_CHUNKS = MAX_FILE_BYTES / FILE_CHUNK_BYTES;
/** A file chunk's ciphertext (FILE_CHUNK_BYTES + the 16-byte tag) as unpadded base64url. */
export const MAX_CHUNK_TEXT = Math.ceil(((FILE_CHUNK_BYTES + 16) * 4) / 3);

/** Reasons a host gives in the channel's end-of-session item. */
export const CloseCode = {
  shutdown: 'shutdown',
  nickTaken: 'nick-taken',
  badHello: 'bad-hello',
  protocolError: 'protocol-error',
  flooding: 'flooding',
  slowReader: 'slow-reader',
  idleTimeout: 'idle-timeout',
  full: 'full',
  /** The host failed while serving this connection; nobody else was affected. Reconnect. */
  internal: 'internal',
  /** The client speaks another wire version (its hello's `v`): update one side. */
  version: 'version',
  bye: 'bye',
} as const;
