import type { ChatMessageView, HostId } from '../../src-shared/ipc/domain.ts';
import { formatBytes } from '../../src-shared/files.ts';
import type { SessionState } from '../client/session-events.ts';
import type { FileRef } from '../protocol/wire/chat-event.ts';
import { ServiceError } from './service-error.ts';
import type { EmitEvent } from './service-events.ts';
import type { ServiceLog } from './service-log.ts';

/**
 * What the desktop's file requests need of a host's ChatSession (design17.md, "Session API"):
 * the upload and download with progress and cancel, and the host's limit. A port, so the
 * requests are tested without a host and the app passes the live session as it is.
 */
export interface FileSession {
  /** Only a connected session knows the host's limit (0 while away). */
  readonly state: SessionState;
  readonly nick: string;
  /** The rooms the session is in (joined or joining). */
  readonly rooms: readonly string[];
  /** Plaintext bytes the host takes now; 0: no files (or not connected yet). */
  readonly maxFileBytes: number;
  /** Resolves once uploaded and queued: the message id, and the file as the message names it. */
  sendFile(
    room: string,
    file: OutgoingFile,
    options?: UploadOptions,
  ): Promise<{ id: string; file?: FileRef }>;
  fetchFile(room: string, file: FileRef, options?: TransferOptions): Promise<Uint8Array>;
}

export interface OutgoingFile {
  readonly bytes: Uint8Array;
  readonly name: string;
  readonly mime: string;
  readonly width?: number;
  readonly height?: number;
  readonly text?: string;
  readonly reply?: number;
}

export interface TransferOptions {
  readonly onProgress?: (done: number, total: number) => void;
  readonly signal?: AbortSignal;
}

export interface UploadOptions extends TransferOptions {
  /** The file event's client message id: the one the UI was given when the upload started. */
  readonly id?: string;
}

/** Asks the user where to save a file (a save dialog that confirms overwriting); undefined: cancelled. */
export type ChooseSavePath = (suggestedName: string) => Promise<string | undefined>;

/** What the file requests need from the rest of the service. */
export interface FileRequestsDeps {
  /** The host's running session; throws ServiceError (not one of ours, not connected now). */
  readonly session: (hostId: HostId) => FileSession;
  /** The file a message of local history carries (none: not kept, deleted, or no file). */
  readonly fileOf: (hostId: HostId, room: string, seq: number) => FileRef | undefined;
  /**
   * Keeps our own queued message in local history with the file it carries (as `send` does once
   * a message is in the outbox), and tells the UI the row as kept (with its quote, if a reply).
   */
  readonly keepQueued: (
    hostId: HostId,
    view: ChatMessageView,
    meta: { file?: FileRef; reply?: number },
  ) => void;
  readonly emit: EmitEvent;
  readonly self: { readonly key: string; readonly fp: string };
  readonly now: () => number;
  readonly log: ServiceLog;
  readonly chooseSavePath?: ChooseSavePath;
}

/** The transfer codes ChatSession rejects with (src-main/client/files/file-transfer.ts). */
const TRANSFER_CODES = new Set([
  'file-too-large',
  'quota-exceeded',
  'cancelled',
  'not-connected',
  'file-failed',
  'no-such-file',
  'not-joined',
  'stopped',
  'invalid-request',
] as const);
export type TransferCode = typeof TRANSFER_CODES extends Set<infer C> ? C : never;

/** The session's reason a transfer failed, if it gave one (anything else: undefined). */
export function transferCode(error: unknown): TransferCode | undefined {
  if (!(error instanceof Error) || !('code' in error)) return undefined;
  const code = (error as { code: unknown }).code;
  return TRANSFER_CODES.has(code as TransferCode) ? (code as TransferCode) : undefined;
}

/**
 * Why an upload failed, in words the user can act on (the `fileProgress` event's `error`).
 * Never the host's raw text: it may quote what was sent.
 */
export function uploadFailureText(error: unknown, maxFileBytes: number): string {
  switch (transferCode(error)) {
    case 'file-too-large':
      return maxFileBytes > 0
        ? `The host takes files of up to ${formatBytes(maxFileBytes)}.`
        : 'This host does not take files.';
    case 'quota-exceeded':
      return "The host's room for files is full: try a smaller file, or later.";
    case 'not-connected':
    case 'stopped':
      return 'The connection was lost during the upload: send the file again.';
    case 'not-joined':
      return 'You are not in this room any more.';
    case 'invalid-request':
      return 'The host did not take this file.';
    default:
      return 'The upload failed: send the file again.';
  }
}

/** A download's failure as the request's error. */
export function downloadFailure(error: unknown): ServiceError {
  switch (transferCode(error)) {
    case 'no-such-file':
      return new ServiceError(
        'not-found',
        'The host no longer has this file (it was deleted, or kept past its time).',
      );
    case 'not-connected':
    case 'stopped':
      return new ServiceError('not-connected', 'Not connected to the host: try again once it is.');
    case 'not-joined':
      return new ServiceError('not-found', 'You are not in this room now.');
    case 'file-failed':
      return new ServiceError(
        'refused',
        'The file could not be opened: what the host sent was altered or cut short.',
      );
    case 'cancelled':
      return new ServiceError('not-connected', 'The download was stopped.');
    default:
      return new ServiceError('internal', 'The file could not be downloaded.');
  }
}
