import { FILE_CHUNK_BYTES } from '../protocol/wire/constants.ts';

/** Every limit the host enforces; each has a clear error for the offender and no effect on others. */
export interface HostLimits {
  /** Longest message text, in UTF-8 bytes. */
  readonly maxTextBytes: number;
  /** Chat messages per second per connection (token bucket), and the burst allowed. */
  readonly messagesPerSecond: number;
  readonly messageBurst: number;
  /** Sends refused for the rate limit, in a row, before the client is disconnected for flooding. */
  readonly floodStrikes: number;
  /** All requests per second per connection; beyond it the client is disconnected at once. */
  readonly requestsPerSecond: number;
  readonly requestBurst: number;
  /**
   * File chunks sent or asked for (`file-chunk`, `file-get`) per second per connection, apart
   * from the requests above: up to 64 MiB/s of ciphertext; beyond it, disconnected at once.
   */
  readonly chunksPerSecond: number;
  readonly chunkBurst: number;
  /** Authenticated connections in total, and connections of any kind from one address. */
  readonly maxClients: number;
  readonly maxClientsPerIp: number;
  /**
   * Handshakes in progress at once, apart from maxClients; a new connection beyond it evicts
   * the oldest. Stalled handshakes then cannot crowd out clients, nor starve new ones.
   */
  readonly maxHandshakes: number;
  readonly handshakeTimeoutMs: number;
  /** Silence after which the host pings, and after which it hangs up. */
  readonly pingAfterMs: number;
  readonly idleTimeoutMs: number;
  /** Bytes waiting to be written to one client before it is dropped as a slow reader. */
  readonly maxQueueBytes: number;
  /** At most one typing notice per member per room in this interval. */
  readonly typingIntervalMs: number;
  /**
   * Budgets per key for requests that cost others something (docs/protocol.md §10): a rename
   * is a durable write and a notice to every room; a join or leave a notice to every member;
   * a history page reads and sends up to 500 messages. Beyond a budget the request is refused
   * with `rate-limited` and `retryAfterMs`; typing notices beyond theirs are dropped.
   */
  readonly renamesPerMinute: number;
  readonly renameBurst: number;
  readonly membershipPerSecond: number;
  readonly membershipBurst: number;
  readonly historyPagesPerSecond: number;
  readonly historyBurst: number;
  readonly typingPerSecond: number;
  readonly typingBurst: number;
  /**
   * Invite redemptions that fail, per key and per address (docs/protocol.md §10): a guesser
   * runs out long before a 144-bit token could be found, and is refused before any lookup.
   */
  readonly redeemFailuresPerMinute: number;
  readonly redeemFailureBurst: number;
  readonly addressRedeemFailuresPerMinute: number;
  readonly addressRedeemFailureBurst: number;
  /** Membership requests (invites, roles, topics, rooms, DMs) per key: each is a durable write. */
  readonly managePerSecond: number;
  readonly manageBurst: number;
  /**
   * Members an open room takes by joining (invites and DMs are not counted against it): keys
   * cost nothing, and every join lists every member, so without it anyone could grow an open
   * room past what clients accept (50 000 members, docs/protocol.md §8.5) and lock it.
   */
  readonly openRoomMembers: number;
  /** Messages kept per room, and how many of them a client gets on join. */
  readonly historyLimit: number;
  readonly historyOnJoin: number;
  /**
   * Files (docs/protocol.md §13): the largest one as ciphertext bytes (0: no files), what all
   * files may take together (each key a quarter of it), and the days a file is kept (0: as
   * long as its message).
   */
  readonly maxFileBytes: number;
  readonly fileQuotaBytes: number;
  readonly fileRetentionDays: number;
}

const MIB = 1024 * 1024;

/**
 * The ciphertext of a file of `plaintextBytes`: each chunk of up to FILE_CHUNK_BYTES carries a
 * 16-byte GCM tag (an empty file is one chunk). What `--max-file-mb` becomes in host info.
 */
export function fileCiphertextBytes(plaintextBytes: number): number {
  if (plaintextBytes <= 0) return 0;
  return plaintextBytes + 16 * Math.ceil(plaintextBytes / FILE_CHUNK_BYTES);
}

/** The limits that `--max-file-mb`, `--file-quota-mb` and `--file-retention-days` set. */
export function fileLimits(options: {
  maxFileMb?: number | undefined;
  fileQuotaMb?: number | undefined;
  fileRetentionDays?: number | undefined;
}): Partial<HostLimits> {
  return {
    ...(options.maxFileMb === undefined
      ? {}
      : { maxFileBytes: fileCiphertextBytes(options.maxFileMb * MIB) }),
    ...(options.fileQuotaMb === undefined ? {} : { fileQuotaBytes: options.fileQuotaMb * MIB }),
    ...(options.fileRetentionDays === undefined
      ? {}
      : { fileRetentionDays: options.fileRetentionDays }),
  };
}

export const DEFAULT_LIMITS: HostLimits = {
  maxTextBytes: 16 * 1024,
  messagesPerSecond: 10,
  messageBurst: 30,
  floodStrikes: 50,
  requestsPerSecond: 200,
  requestBurst: 400,
  chunksPerSecond: 2000,
  chunkBurst: 2000,
  maxClients: 1000,
  maxClientsPerIp: 50,
  maxHandshakes: 256,
  handshakeTimeoutMs: 10_000,
  pingAfterMs: 30_000,
  idleTimeoutMs: 75_000,
  maxQueueBytes: 4 * 1024 * 1024,
  typingIntervalMs: 2000,
  renamesPerMinute: 6,
  renameBurst: 3,
  membershipPerSecond: 2,
  membershipBurst: 20,
  historyPagesPerSecond: 5,
  historyBurst: 30,
  typingPerSecond: 1,
  typingBurst: 5,
  redeemFailuresPerMinute: 5,
  redeemFailureBurst: 5,
  addressRedeemFailuresPerMinute: 10,
  addressRedeemFailureBurst: 10,
  managePerSecond: 5,
  manageBurst: 30,
  openRoomMembers: 10_000,
  historyLimit: 1000,
  historyOnJoin: 100,
  maxFileBytes: fileCiphertextBytes(25 * MIB),
  fileQuotaBytes: 1024 * MIB,
  fileRetentionDays: 30,
};
