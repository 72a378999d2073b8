import type { EventPayload } from '../../src-shared/ipc/contract.ts';
import type { InviteView, Role } from '../../src-shared/ipc/domain.ts';
import type { CreatedInvite, InviteRequest } from '../lib/membership.ts';
import { type Platform, unwrap } from '../lib/platform.ts';

export type InviteRefused = EventPayload<'inviteRefused'>;
export type RoomRemoved = EventPayload<'roomRemoved'>;

/**
 * Managing rooms (invites, roles, topic, open or invite-only, removing people and lifting bans,
 * direct messages) and what the host tells us about our own membership: an invite it refused,
 * a room we were removed from.
 * Requests reject with the host's reason (RequestFailed), for the dialog that asked.
 */
export class MembershipStore {
  readonly #api: Platform;
  /** The invite we connected with did not work: why. Shown until dismissed. */
  refused: InviteRefused | null = $state(null);
  /** We were removed or banned from a room (not: we left it ourselves). */
  removed: RoomRemoved | null = $state(null);
  /** The live invites of the room whose invite dialog is open; null while loading. */
  invites: InviteView[] | null = $state.raw(null);

  constructor(api: Platform) {
    this.#api = api;
  }

  listen(): () => void {
    const offs = [
      this.#api.onInviteRefused((refusal) => (this.refused = refusal)),
      this.#api.onRoomRemoved((removal) => {
        if (removal.reason !== 'parted') this.removed = removal;
      }),
      // Back at the connect form: what was said about the last host is over.
      this.#api.onConnectionState(({ status }) => {
        if (status !== 'idle') return;
        this.refused = null;
        this.removed = null;
      }),
    ];
    return () => offs.forEach((off) => off());
  }

  async createInvite(room: string, request: InviteRequest): Promise<CreatedInvite> {
    const created = await unwrap(this.#api.createInvite({ room, ...request }));
    await this.loadInvites(room);
    return created;
  }

  async loadInvites(room: string): Promise<void> {
    this.invites = await unwrap(this.#api.listInvites({ room }));
  }

  async revokeInvite(room: string, id: string): Promise<void> {
    await unwrap(this.#api.revokeInvite({ room, id }));
    this.invites = this.invites?.filter((invite) => invite.id !== id) ?? null;
  }

  async createRoom(room: string, open: boolean): Promise<string> {
    return (await unwrap(this.#api.createRoom({ room, open }))).room;
  }

  setTopic(room: string, topic: string): Promise<unknown> {
    return unwrap(this.#api.setTopic({ room, topic }));
  }

  /** Owners: open to everyone on the host, or invite-only; `rooms` then brings the new state. */
  setOpen(room: string, open: boolean): Promise<unknown> {
    return unwrap(this.#api.setOpen({ room, open }));
  }

  /** Admins: lifts a ban; the host's 'unbanned' event row follows. */
  unban(room: string, key: string): Promise<unknown> {
    return unwrap(this.#api.unban({ room, key }));
  }

  partRoom(room: string): Promise<unknown> {
    return unwrap(this.#api.partRoom({ room }));
  }

  removeMember(room: string, key: string, ban: boolean): Promise<unknown> {
    return unwrap(this.#api.removeMember({ room, key, ban }));
  }

  setRole(room: string, key: string, role: Role): Promise<unknown> {
    return unwrap(this.#api.setRole({ room, key, role }));
  }

  async openDm(key: string): Promise<string> {
    return (await unwrap(this.#api.openDm({ key }))).room;
  }
}
