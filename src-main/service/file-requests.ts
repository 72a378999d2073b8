import type { HostId } from '../../src-shared/ipc/domain.ts';
import type { ParsedInput } from './dispatch.ts';
import { FileDownloads } from './file-downloads.ts';
import type { FileRequestsDeps } from './file-ports.ts';
import { FileUploads } from './file-uploads.ts';

export type { ChooseSavePath, FileRequestsDeps, FileSession } from './file-ports.ts';

/**
 * The desktop's four file requests (sendFile, cancelFile, getFile, saveFile) in one place, so
 * DesktopService only forwards to them: uploads under way, and files fetched to be shown or
 * saved (with the in-memory cache of decrypted images, dropped with their messages).
 */
export class FileRequests {
  readonly #uploads: FileUploads;
  readonly #downloads: FileDownloads;

  constructor(deps: FileRequestsDeps) {
    this.#uploads = new FileUploads(deps);
    this.#downloads = new FileDownloads(deps);
  }

  sendFile(input: ParsedInput<'sendFile'>): { id: string } {
    return this.#uploads.start(input);
  }

  cancelFile(input: ParsedInput<'cancelFile'>): Record<string, never> {
    this.#uploads.cancel(input.hostId, input.id);
    return {};
  }

  getFile(input: ParsedInput<'getFile'>): Promise<{ data: string; mime: string; name: string }> {
    return this.#downloads.getFile(input);
  }

  saveFile(input: ParsedInput<'saveFile'>): Promise<{ saved: boolean }> {
    return this.#downloads.saveFile(input);
  }

  /** A message was deleted (by anyone): its decrypted image leaves memory at once. */
  messageDeleted(hostId: HostId, room: string, seq: number): void {
    this.#downloads.forgetMessage(hostId, room, seq);
  }

  /** A room's history was dropped (we left it or were removed). */
  roomForgotten(hostId: HostId, room: string): void {
    this.#downloads.images.forgetRoom(hostId, room);
  }

  /** A host left the sidebar. */
  hostGone(hostId: HostId): void {
    this.#downloads.images.forgetHost(hostId);
  }

  /** The app quits: uploads stop, decrypted images leave memory. */
  close(): void {
    this.#uploads.close();
    this.#downloads.close();
  }
}
