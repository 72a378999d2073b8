import { rotateDevice } from '../../e2ee/device-identity.ts';
import { makeKeyPackages } from '../../e2ee/key-packages.ts';
import type { KeyPair } from '../../protocol/crypto/crypto-backend.ts';
import type { Member } from '../../protocol/wire/messages.ts';
import type { MembershipError } from '../membership-requests.ts';
import { KEY_PACKAGE_LOW, KEY_PACKAGE_TARGET, type E2eeOptions } from './e2ee-options.ts';
import { type GroupRecord, decodeGroupRecord, groupName, groupPrefix } from './group-record.ts';
import type { ClaimAnswer } from './reconcile-diff.ts';
import { RoomCrypto, type RoomCryptoHost, type SendRelation } from './room-crypto.ts';

/** What the session's end-to-end encryption needs from the ChatSession it belongs to. */
export interface SessionPort extends Pick<
  RoomCryptoHost,
  | 'connection'
  | 'emitMessage'
  | 'emitDevices'
  | 'emitEncryption'
  | 'emitKeyChanged'
  | 'requeue'
  | 'pump'
  | 'later'
  | 'random'
  | 'now'
> {
  roomSynced(room: string): boolean;
  members(room: string): readonly Member[];
  emitEvent(room: string, event: Parameters<RoomCryptoHost['emitEvent']>[0]): void;
  emitSynced(room: string): void;
  writeSend(room: string, id: string, mls: string, epoch: number, relation: SendRelation): boolean;
  failed(message: string, room?: string): void;
  claim(room: string, have: string[]): Promise<ClaimAnswer>;
  publish(kps: string[]): Promise<void>;
  commit(room: string, ...rest: Parameters<RoomCryptoHost['commit']>): void;
  /** Hangs up so the next hello names the (new) device. */
  reconnect(reason: string): void;
}

/**
 * A session's end-to-end encryption: its device (named in the hello), the KeyPackages the host
 * holds for it, and one RoomCrypto per E2EE room. The rooms' stored states are read before the
 * first connect, so a rejoin's replay is measured from where each group stopped.
 */
/**
 * `e2ee-room/<hostId>/<room>`: this device joined the room as end-to-end encrypted. Kept apart
 * from the group (a device still waiting for its Welcome has none), so a host that later says
 * the room is plaintext is not believed, even after a restart (chat-session #joined).
 */
const MARK = new Uint8Array([1]);
function markPrefix(hostId: string): string {
  return `e2ee-room/${hostId}/`;
}

export class SessionCrypto {
  #options: E2eeOptions;
  readonly #identity: KeyPair;
  readonly #hostId: string;
  readonly #ownKey: string;
  readonly #port: SessionPort;
  readonly #rooms = new Map<string, RoomCrypto>();
  readonly #stored = new Map<string, GroupRecord>();
  /** Rooms this device has joined as end-to-end encrypted (kept in the store, see known()). */
  readonly #marked = new Set<string>();
  #publishing = false;
  #rotating: Promise<void> | undefined;

  constructor(
    options: E2eeOptions,
    identity: KeyPair,
    hostId: string,
    ownKey: string,
    port: SessionPort,
  ) {
    this.#options = options;
    this.#identity = identity;
    this.#hostId = hostId;
    this.#ownKey = ownKey;
    this.#port = port;
  }

  /** The device key the hello names. */
  get deviceText(): string {
    return this.#options.device.deviceText;
  }

  /** Reads the stored group of every room of this host (before connecting). */
  async load(): Promise<void> {
    const prefix = groupPrefix(this.#hostId);
    const { store } = this.#options;
    for (const name of await store.list(prefix)) {
      const bytes = await store.get(name);
      const record = bytes ? decodeGroupRecord(bytes) : undefined;
      if (record) this.#stored.set(name.slice(prefix.length), record);
    }
    const marks = markPrefix(this.#hostId);
    for (const name of await store.list(marks)) this.#marked.add(name.slice(marks.length));
  }

  /** The room's crypto, made (from its stored state, if any) on first use. */
  room(room: string): RoomCrypto {
    let crypto = this.#rooms.get(room);
    if (!crypto) {
      crypto = new RoomCrypto(this.#hostFor(room), this.#stored.get(room));
      if (!this.#marked.has(room)) {
        this.#marked.add(room);
        this.#options.store.set(markPrefix(this.#hostId) + room, MARK).catch((error: unknown) => {
          this.#port.failed(`"${room}" could not be noted as encrypted: ${describe(error)}`);
        });
      }
      this.#stored.delete(room);
      this.#rooms.set(room, crypto);
    }
    return crypto;
  }

  /**
   * Whether this device knows `room` as end-to-end encrypted: it joined it as such in this
   * session, or holds its stored group. A host that says otherwise is not believed.
   */
  known(room: string): boolean {
    return this.#rooms.has(room) || this.#stored.has(room) || this.#marked.has(room);
  }

  /** The room's crypto if it is an end-to-end encrypted room this session joined. */
  get(room: string): RoomCrypto | undefined {
    return this.#rooms.get(room);
  }

  /**
   * The room is gone from this session. `forget`: this key is no longer a member (removed,
   * banned, parted), so its stored state goes too; a later invite brings a fresh Welcome, and
   * an old state would only make the rejoin page back through everything said meanwhile.
   */
  drop(room: string, options: { forget?: boolean } = {}): void {
    const crypto = this.#rooms.get(room);
    this.#rooms.delete(room);
    this.#stored.delete(room);
    if (!options.forget) return;
    this.#marked.delete(room);
    this.#options.store.delete(markPrefix(this.#hostId) + room).catch(() => undefined);
    crypto?.retire();
    // After what is still queued for the room, so nothing writes the state back.
    void (crypto?.idle() ?? Promise.resolve())
      .then(() => this.#options.store.delete(groupName(this.#hostId, room)))
      .catch((error: unknown) => {
        this.#port.failed(`"${room}"'s encryption state could not be deleted: ${describe(error)}`);
      });
  }

  /** Resolves when every room's queue is idle, or after `maxMs`. */
  async idle(maxMs: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, maxMs);
    });
    const rooms = Promise.all([...this.#rooms.values()].map((crypto) => crypto.idle()));
    await Promise.race([rooms, timeout]);
    clearTimeout(timer);
  }

  disconnected(): void {
    for (const crypto of this.#rooms.values()) crypto.disconnected();
  }

  /**
   * After a welcome: the host holds `held` KeyPackages of this device; keep it at 10. Returns
   * undefined when none are needed, else a promise that settles (never rejects) once published
   * or given up.
   */
  topUp(held: number | undefined): Promise<void> | undefined {
    if (held === undefined || held >= KEY_PACKAGE_LOW || this.#publishing) return undefined;
    return this.#publish(held);
  }

  async #publish(held: number): Promise<void> {
    this.#publishing = true;
    const connection = this.#port.connection();
    try {
      const { suite, device, store } = this.#options;
      // The private halves are in the store before any KeyPackage leaves (a Welcome may follow).
      const kps = await makeKeyPackages(suite, device, store, KEY_PACKAGE_TARGET - held);
      if (connection !== this.#port.connection()) return; // the next welcome asks again
      await this.#port.publish(kps);
    } catch (error) {
      const code = (error as Partial<MembershipError> | null)?.code;
      if (code !== 'disconnected' && code !== 'offline' && code !== 'stopped') {
        this.#port.failed(`KeyPackages could not be published: ${describe(error)}`);
      }
    } finally {
      this.#publishing = false;
    }
  }

  /**
   * A room broke: this install takes a new device key (the old leaf's state is gone, and the
   * host only hands out KeyPackages for the hello's device), then reconnects to name it; the
   * next welcome publishes its KeyPackages. Rooms that broke together rotate once.
   */
  rotate(): Promise<void> {
    this.#rotating ??= (async () => {
      try {
        const device = await rotateDevice(this.#options.store, this.#identity);
        this.#options = { ...this.#options, device };
        this.#port.reconnect('this device took a new key to rejoin a broken encrypted room');
      } finally {
        this.#rotating = undefined;
      }
    })();
    return this.#rotating;
  }

  #hostFor(room: string): RoomCryptoHost {
    const port = this.#port;
    return {
      room,
      storeName: groupName(this.#hostId, room),
      ownKey: this.#ownKey,
      options: () => this.#options,
      connection: () => port.connection(),
      synced: () => port.roomSynced(room),
      memberKeys: () =>
        new Set(port.members(room).flatMap((m) => (m.role !== undefined ? [m.key] : []))),
      onlineKeys: () => new Set(port.members(room).flatMap((m) => (m.online ? [m.key] : []))),
      emitMessage: (message) => port.emitMessage(message),
      emitEvent: (event) => port.emitEvent(room, event),
      emitSynced: () => port.emitSynced(room),
      emitEncryption: (state) => port.emitEncryption(state),
      emitDevices: (update) => port.emitDevices(update),
      emitKeyChanged: (change) => port.emitKeyChanged(change),
      failed: (message) => port.failed(message, room),
      claim: (have) => port.claim(room, have),
      commit: (...args) => port.commit(room, ...args),
      writeSend: (id, mls, epoch, relation) => port.writeSend(room, id, mls, epoch, relation),
      requeue: (id, delayMs) => port.requeue(id, delayMs),
      pump: () => port.pump(),
      later: (ms, action) => port.later(ms, action),
      rotateDevice: () => this.rotate(),
      random: () => port.random(),
      now: () => port.now(),
    };
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
