import type { InviteInfo, Role, RoomInfo } from '../protocol/wire/messages.ts';
import { type AnswerOf, MembershipError, type RequestBody } from './membership-requests.ts';
import type { CreatedInvite, Redeemed, SessionPayloads } from './session-events.ts';
import { TypedEmitter } from './typed-emitter.ts';

/**
 * The membership requests a session offers (docs/protocol.md §11), one method each. Each gets
 * exactly one answer from the host, or fails with a MembershipError: the host's code
 * (`forbidden`, `not-member`, …), or `offline` / `disconnected` / `stopped` / `busy`.
 * Arguments no host would accept reject with ChatSessionError `invalid-request`. ChatSession
 * sends them (`request`) and knows the host the links name (`inviteLink`).
 */
export abstract class MembershipApi extends TypedEmitter<SessionPayloads> {
  protected abstract request<R extends RequestBody>(request: R): Promise<AnswerOf<R['t']>>;

  /** A link to `room` carrying `token`, for the connected host; undefined when offline. */
  protected abstract inviteLink(room: string, token: string): string | undefined;

  /** Redeems an invite token: this key becomes a member of its room (also the `redeemed` event). */
  async redeem(token: string): Promise<Redeemed> {
    const { room, role } = await this.request({ t: 'redeem', token });
    this.emit('redeemed', { room, role });
    return { room, role };
  }

  /** Makes an invite to `room` (admins and owners); the link carries its token, shown once. */
  async createInvite(
    room: string,
    options: { role: Role; uses: number | null; expiresInMs: number | null },
  ): Promise<CreatedInvite> {
    const answer = await this.request({ t: 'invite-create', room, ...options });
    const link = this.inviteLink(room, answer.token);
    if (link === undefined) throw new MembershipError('disconnected', 'the connection ended');
    return { link, invite: answer.invite };
  }

  /** The room's live invites (not revoked, expired or used up); tokens are never listed. */
  async listInvites(room: string): Promise<InviteInfo[]> {
    return (await this.request({ t: 'invite-list', room })).invites;
  }

  async revokeInvite(room: string, id: string): Promise<void> {
    await this.request({ t: 'invite-revoke', room, id });
  }

  /** Creates a room with this key as its owner (admins of any room may); it is then joined. */
  async createRoom(room: string, options: { open?: boolean } = {}): Promise<RoomInfo> {
    const open = options.open === undefined ? {} : { open: options.open };
    return (await this.request({ t: 'create', room, ...open })).info;
  }

  async setTopic(room: string, topic: string): Promise<void> {
    await this.request({ t: 'topic', room, topic });
  }

  /** Whether anyone who connects may join (owners only). */
  async setOpen(room: string, open: boolean): Promise<void> {
    await this.request({ t: 'set-open', room, open });
  }

  /** Gives up membership; the `removed` event (reason `parted`) drops the room. */
  async part(room: string): Promise<void> {
    await this.request({ t: 'part', room });
  }

  /** Removes the member with `key` (public key text); `ban` also refuses their future invites. */
  async remove(room: string, key: string, options: { ban?: boolean } = {}): Promise<void> {
    await this.request({ t: 'remove', room, key, ban: options.ban ?? false });
  }

  async unban(room: string, key: string): Promise<void> {
    await this.request({ t: 'unban', room, key });
  }

  async setRole(room: string, key: string, role: Role): Promise<void> {
    await this.request({ t: 'set-role', room, key, role });
  }

  /** Opens (or finds) the direct-message room with `key`; it is then joined. */
  async openDm(key: string): Promise<RoomInfo> {
    return (await this.request({ t: 'dm', key })).info;
  }
}
