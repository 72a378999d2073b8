import { SvelteMap } from 'svelte/reactivity';
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
  readonly #host: () => string;
  /** Per host: the invite we connected with did not work, and why. Shown until dismissed. */
  readonly #refused = new SvelteMap<string, InviteRefused | null>();
  /** Per host: we were removed or banned from a room (not: we left it ourselves). */
  readonly #removed = new SvelteMap<string, RoomRemoved | null>();
  /** The live invites of the room whose invite dialog is open; null while loading. */
  invites: InviteView[] | null = $state.raw(null);

  constructor(api: Platform, host: () => string = () => '') {
    this.#api = api;
    this.#host = host;
  }

  /** The host on screen refused the invite we connected with: why. */
  get refused(): InviteRefused | null {
    return this.#refused.get(this.#host()) ?? null;
  }
  set refused(refusal: InviteRefused | null) {
    this.#refused.set(this.#host(), refusal);
  }

  /** We were removed or banned from a room of the host on screen. */
  get removed(): RoomRemoved | null {
    return this.#removed.get(this.#host()) ?? null;
  }
  set removed(removal: RoomRemoved | null) {
    this.#removed.set(this.#host(), removal);
  }

  listen(): () => void {
    const offs = [
      this.#api.onInviteRefused((refusal) => this.#refused.set(refusal.hostId, refusal)),
      this.#api.onRoomRemoved((removal) => {
        if (removal.reason !== 'parted') this.#removed.set(removal.hostId, removal);
      }),
      // The host left the sidebar: what was said about it is over.
      this.#api.onConnectionState(({ hostId, status }) => {
        if (status !== 'idle') return;
        this.#refused.delete(hostId);
        this.#removed.delete(hostId);
      }),
    ];
    return () => offs.forEach((off) => off());
  }

  async createInvite(room: string, request: InviteRequest): Promise<CreatedInvite> {
    const created = await unwrap(
      this.#api.createInvite({ hostId: this.#host(), room, ...request }),
    );
    await this.loadInvites(room);
    return created;
  }

  async loadInvites(room: string): Promise<void> {
    this.invites = await unwrap(this.#api.listInvites({ hostId: this.#host(), room }));
  }

  async revokeInvite(room: string, id: string): Promise<void> {
    await unwrap(this.#api.revokeInvite({ hostId: this.#host(), room, id }));
    this.invites = this.invites?.filter((invite) => invite.id !== id) ?? null;
  }

  async createRoom(room: string, open: boolean): Promise<string> {
    return (await unwrap(this.#api.createRoom({ hostId: this.#host(), room, open }))).room;
  }

  setTopic(room: string, topic: string): Promise<unknown> {
    return unwrap(this.#api.setTopic({ hostId: this.#host(), room, topic }));
  }

  /** Owners: open to everyone on the host, or invite-only; `rooms` then brings the new state. */
  setOpen(room: string, open: boolean): Promise<unknown> {
    return unwrap(this.#api.setOpen({ hostId: this.#host(), room, open }));
  }

  /** Admins: lifts a ban; the host's 'unbanned' event row follows. */
  unban(room: string, key: string): Promise<unknown> {
    return unwrap(this.#api.unban({ hostId: this.#host(), room, key }));
  }

  partRoom(room: string): Promise<unknown> {
    return unwrap(this.#api.partRoom({ hostId: this.#host(), room }));
  }

  removeMember(room: string, key: string, ban: boolean): Promise<unknown> {
    return unwrap(this.#api.removeMember({ hostId: this.#host(), room, key, ban }));
  }

  setRole(room: string, key: string, role: Role): Promise<unknown> {
    return unwrap(this.#api.setRole({ hostId: this.#host(), room, key, role }));
  }

  async openDm(key: string): Promise<string> {
    return (await unwrap(this.#api.openDm({ hostId: this.#host(), key }))).room;
  }
}
