import { MAX_ITEM_LEN } from '../protocol/records.ts';
import { encodeMessage } from '../protocol/wire/codec.ts';
import { MAX_GROUP_DEVICES, MAX_KEY_PACKAGES } from '../protocol/wire/constants.ts';
import type { ClientMessage, HostErrorCode, HostMessage } from '../protocol/wire/messages.ts';
import type { PendingSend } from './commit-queue.ts';
import type { ConnectedClient } from './connected-client.ts';
import type { Fanout } from './fanout.ts';
import { failureFields } from './failure-fields.ts';
import type { AppendResult, HostDatabase, NewMessage, StoredWelcome } from './host-database.ts';
import type { HostLog } from './host-log.ts';
import { MembershipHandler } from './membership-handler.ts';
import type { HostMlsChecks } from './mls-gate.ts';
import type { RoomRecord } from './room-store.ts';
import type { TimelineItems } from './timeline-items.ts';

export type MlsRequest = Extract<ClientMessage, { t: 'kp-publish' | 'kp-claim' | 'commit' }>;

/**
 * A KeyPackage of suite 1 with a Parley credential takes about 450 characters; this leaves room
 * for extensions while 20 of them still fit one `kps` answer.
 */
export const MAX_KEY_PACKAGE_TEXT = 3000;
/** After a storage fault, when a client should try again. */
const STORAGE_RETRY_MS = 1000;
/** The most a commit, Welcome or MLS message item carries besides its data (see fitsItem). */
const ITEM_ENVELOPE_BYTES = 600;
/** A `kps` answer's fields besides its KeyPackages and devices. */
const KPS_ENVELOPE_BYTES = 200;

/** A refusal carried out of a request's steps to its one answer. */
class MlsRefused extends Error {
  readonly code: HostErrorCode;
  readonly epoch: number | undefined;

  constructor(code: HostErrorCode, reason: string, epoch?: number) {
    super(reason);
    this.code = code;
    this.epoch = epoch;
  }
}

/**
 * The host as MLS Delivery Service (docs/protocol.md §12): it keeps devices' KeyPackages and
 * hands them out, orders each room's commits (the first for an epoch wins, in the commit
 * queue's transaction), and relays Welcomes. It reads only public MLS headers, never logs MLS
 * data, and answers a room the key may not see as one that does not exist.
 */
export class MlsHandler {
  readonly #db: HostDatabase;
  readonly #fanout: Fanout;
  readonly #membership: MembershipHandler;
  readonly #timeline: TimelineItems;
  readonly #log: HostLog;
  readonly #now: () => number;
  readonly #enqueue: (client: ConnectedClient, message: NewMessage, rid: number) => void;
  readonly #onClientFailure: (client: ConnectedClient, error: unknown) => void;
  readonly #serialize: (work: () => void) => void;

  constructor(deps: {
    db: HostDatabase;
    /** Deliveries to connections other than the requester's. */
    fanout: Fanout;
    membership: MembershipHandler;
    timeline: TimelineItems;
    log: HostLog;
    now: () => number;
    /** Into the commit queue: answered in `committed` once stored (or found stale). */
    enqueue: (client: ConnectedClient, message: NewMessage, rid: number) => void;
    onClientFailure: (client: ConnectedClient, error: unknown) => void;
    /**
     * Runs database work that comes back from a promise (a KeyPackage checked); a cluster node
     * queues it for its next turn (see RequestHandler's `serialize`). Default: at once.
     */
    serialize?: (work: () => void) => void;
  }) {
    this.#db = deps.db;
    this.#fanout = deps.fanout;
    this.#membership = deps.membership;
    this.#timeline = deps.timeline;
    this.#log = deps.log;
    this.#now = deps.now;
    this.#enqueue = deps.enqueue;
    this.#onClientFailure = deps.onClientFailure;
    this.#serialize = deps.serialize ?? ((work) => work());
  }

  /**
   * One MLS request: exactly one answer with its rid. `checks` is the MLS library, undefined
   * when it could not be loaded. A room the key may not see is refused before anything else,
   * so the answer is the same whether it exists or not.
   */
  handle(
    client: ConnectedClient,
    request: MlsRequest,
    checks: HostMlsChecks | undefined,
    now: number,
  ): void {
    const ref = 'room' in request ? request.room : undefined;
    if (!client.budget.manage.take(now)) {
      client.budget.refused.manage++;
      this.#log('debug', 'budget-refused', { fp: client.fingerprint, kind: 'manage' });
      this.#refuse(client, request.rid, ref, 'rate-limited', 'too many requests; wait a moment', {
        retryAfterMs: Math.max(1, client.budget.manage.waitMs(now)),
      });
      return;
    }
    try {
      if (ref !== undefined) this.#e2eeRoom(client, ref);
      if (client.device === undefined) {
        throw new MlsRefused('no-device', 'this connection named no device in its hello');
      }
      if (checks === undefined) {
        throw new MlsRefused(
          'internal',
          'the host cannot handle end-to-end encryption right now; try again',
        );
      }
      switch (request.t) {
        case 'kp-publish':
          return this.#publish(client, client.device, request, checks, now);
        case 'kp-claim':
          return this.#claim(client, client.device, request, now);
        case 'commit':
          return this.#commit(client, request, checks, now);
      }
    } catch (error) {
      this.#answerError(client, request.rid, ref, request.t, error);
    }
  }

  /** Its `welcome` is being sent: how many KeyPackages the host holds for its device. */
  keyPackagesFor(client: ConnectedClient): number | undefined {
    if (client.device === undefined) return undefined;
    try {
      this.#db.mls.touch(client.key, client.device, this.#now());
      return Math.min(MAX_KEY_PACKAGES, this.#db.mls.keyPackageCount(client.key, client.device));
    } catch (error) {
      this.#log('error', 'storage-failed', {
        operation: 'keyPackageCount',
        fp: client.fingerprint,
        ...failureFields(error),
      });
      return 0; // the client tops up; the store keeps at most MAX_KEY_PACKAGES anyway
    }
  }

  /** On a join of an end-to-end encrypted room: the Welcome waiting for this device. */
  welcomeFor(client: ConnectedClient, room: string): StoredWelcome | undefined {
    if (client.device === undefined) return undefined;
    return this.#db.mls.welcome(room, client.key, client.device);
  }

  /** A commit's turn in the commit queue came: it was stored, or another was first. */
  committed(send: PendingSend<ConnectedClient>, result: AppendResult): void {
    const room = send.message.room;
    const rid = send.rid ?? 0;
    if (result.staleEpoch !== undefined) {
      this.#refuse(
        send.origin,
        rid,
        room,
        'stale-epoch',
        'another commit for this epoch came first; process it and try again',
        { epoch: result.staleEpoch },
      );
      return;
    }
    const stored = result.message;
    const epoch = (stored.commit?.epoch ?? 0) + 1;
    send.origin.send({ t: 'committed', rid, room, seq: stored.seq, epoch });
    const bytes = this.#timeline.encode(stored, false, send.origin.keyText);
    // Other connections of the same key get it too: they are other devices, or the same one
    // in another window, and follow the group in seq order like everyone else.
    if (bytes) this.#fanout.toRoom(room, bytes, send.origin);
    for (const welcome of result.welcomes ?? []) this.#deliverWelcome(welcome);
  }

  /** The commit queue could not store a commit: the client may send it again. */
  commitFailed(send: PendingSend<ConnectedClient>): void {
    this.#refuse(
      send.origin,
      send.rid ?? 0,
      send.message.room,
      'internal',
      'the host could not store this commit; send it again',
      { retryAfterMs: STORAGE_RETRY_MS },
    );
  }

  // ── requests ────────────────────────────────────────────────────────────────────────

  #publish(
    client: ConnectedClient,
    device: string,
    request: Extract<MlsRequest, { t: 'kp-publish' }>,
    checks: HostMlsChecks,
    now: number,
  ): void {
    for (const kp of request.kps) {
      if (kp.length > MAX_KEY_PACKAGE_TEXT || checks.inspect(kp)?.wire !== 'key-package') {
        throw new MlsRefused('bad-key-package', 'that is not a KeyPackage this host takes');
      }
    }
    const expect = { parleyKey: client.key, device, now };
    void Promise.all(request.kps.map((kp) => checks.checkKeyPackage(kp, expect)))
      .then((verdicts) =>
        this.#serialized(() => {
          if (!client.open) return;
          const bad = verdicts.findIndex((verdict) => !verdict.ok);
          if (bad >= 0) {
            // The reason names what is wrong with the KeyPackage, never its contents.
            const verdict = verdicts[bad];
            const why = verdict && !verdict.ok ? verdict.reason.slice(0, 120) : 'invalid';
            throw new MlsRefused('bad-key-package', `KeyPackage ${bad + 1}: ${why}`);
          }
          const result = this.#db.mls.publish(client.key, device, request.kps, this.#now());
          client.send({ t: 'done', rid: request.rid });
          if (result.newDevice || result.retired.length > 0) this.#devicesChanged(client.key);
        }),
      )
      .catch((error: unknown) => {
        try {
          if (client.open) this.#answerError(client, request.rid, undefined, request.t, error);
        } catch (failure) {
          this.#onClientFailure(client, failure);
        }
      });
  }

  /** `work` run through `serialize`, as a promise of its outcome. */
  #serialized(work: () => void): Promise<void> {
    return new Promise((resolve, reject) =>
      this.#serialize(() => {
        try {
          work();
          resolve();
        } catch (error) {
          reject(error);
        }
      }),
    );
  }

  #claim(
    client: ConnectedClient,
    device: string,
    request: Extract<MlsRequest, { t: 'kp-claim' }>,
    now: number,
  ): void {
    const claimed = this.#db.mls.claim(request.room, device, new Set(request.have), now, {
      maxDevices: MAX_GROUP_DEVICES * 4,
      maxKeyPackages: MAX_KEY_PACKAGES,
    });
    const devices = claimed.devices.map(({ key, device: d }) => ({
      key: this.#timeline.identity(key).key,
      device: d,
    }));
    // The answer is one item: KeyPackages that do not fit are left for the next claim (those
    // taken from the store are few, and the device publishes more after its next welcome).
    let size =
      KPS_ENVELOPE_BYTES + encodeMessage({ t: 'kps', rid: 0, room: '', devices, kps: [] }).length;
    const kps: { key: string; device: string; kp: string }[] = [];
    for (const entry of claimed.keyPackages) {
      const item = {
        key: this.#timeline.identity(entry.key).key,
        device: entry.device,
        kp: entry.kp,
      };
      const cost = item.kp.length + 120;
      if (size + cost > MAX_ITEM_LEN) break;
      size += cost;
      kps.push(item);
    }
    client.send({ t: 'kps', rid: request.rid, room: request.room, devices, kps });
  }

  #commit(
    client: ConnectedClient,
    request: Extract<MlsRequest, { t: 'commit' }>,
    checks: HostMlsChecks,
    now: number,
  ): void {
    const header = checks.inspect(request.commit);
    if (
      header?.wire !== 'public' ||
      header.content !== 'commit' ||
      header.groupId === undefined ||
      header.epoch === undefined
    ) {
      throw new MlsRefused('bad-request', 'that is not an MLS commit');
    }
    if (request.welcome !== undefined && checks.inspect(request.welcome)?.wire !== 'welcome') {
      throw new MlsRefused('bad-request', 'that is not an MLS Welcome');
    }
    if (
      !fitsItem(client, request.room, request.commit) ||
      (request.welcome !== undefined && !fitsItem(client, request.room, request.welcome))
    ) {
      throw new MlsRefused('bad-request', 'this commit or Welcome is too large for one item');
    }
    if (client.removedFrom.has(request.room)) {
      throw new MlsRefused('unknown-room', MembershipHandler.unknownRoom(request.room));
    }
    this.#enqueue(
      client,
      {
        room: request.room,
        senderKey: client.key,
        nick: client.nick,
        text: '',
        clientMsgId: '',
        sentAt: now,
        commit: {
          groupId: header.groupId,
          epoch: header.epoch,
          data: request.commit,
          ...(request.welcome === undefined ? {} : { welcome: request.welcome }),
          ...(request.to === undefined ? {} : { to: request.to }),
        },
      },
      request.rid,
    );
  }

  // ── steps ───────────────────────────────────────────────────────────────────────────

  /**
   * The room, if the key is a member of it and it is end-to-end encrypted; a room it may not
   * see is one that does not exist, and one that is not encrypted takes no MLS.
   */
  #e2eeRoom(client: ConnectedClient, room: string): RoomRecord {
    const seen = this.#membership.seen(client, room);
    if (!seen) throw new MlsRefused('unknown-room', MembershipHandler.unknownRoom(room));
    if (!seen.record.e2ee) {
      throw new MlsRefused('e2ee-mismatch', `"${room}" is not end-to-end encrypted`);
    }
    if (!seen.member) throw new MlsRefused('unknown-room', MembershipHandler.unknownRoom(room));
    return seen.record;
  }

  /** A member key has a new device, or retired one: its rooms' members should reconcile. */
  #devicesChanged(key: Uint8Array): void {
    for (const room of this.#db.mls.e2eeRoomsOf(key)) {
      this.#fanout.toRoom(room, encodeMessage({ t: 'devices', room }));
    }
  }

  /** Live, to the device's connections in the room; later joins get it after `joined`. */
  #deliverWelcome(welcome: StoredWelcome): void {
    const keyText = this.#timeline.identity(welcome.key).key;
    const bytes = encodeMessage({
      t: 'mls-welcome',
      room: welcome.room,
      seq: welcome.seq,
      data: welcome.data,
    });
    this.#fanout.toDevice(keyText, welcome.device, welcome.room, bytes);
  }

  #answerError(
    client: ConnectedClient,
    rid: number,
    ref: string | undefined,
    operation: string,
    error: unknown,
  ): void {
    if (error instanceof MlsRefused) {
      this.#refuse(client, rid, ref, error.code, error.message, {
        ...(error.epoch === undefined ? {} : { epoch: error.epoch }),
        ...(error.code === 'internal' ? { retryAfterMs: STORAGE_RETRY_MS } : {}),
      });
      return;
    }
    this.#log('error', 'storage-failed', {
      operation,
      fp: client.fingerprint,
      ...failureFields(error),
    });
    this.#refuse(client, rid, ref, 'internal', 'the host could not do this; try again', {
      retryAfterMs: STORAGE_RETRY_MS,
    });
  }

  #refuse(
    client: ConnectedClient,
    rid: number,
    ref: string | undefined,
    code: HostErrorCode,
    message: string,
    extra: { retryAfterMs?: number; epoch?: number } = {},
  ): void {
    const error: HostMessage = {
      t: 'error',
      code,
      message,
      rid,
      ...(ref === undefined ? {} : { ref }),
      ...extra,
    };
    client.send(error);
  }
}

/**
 * Whether an item carrying this MLS data (a commit, a Welcome, a `msg`) fits one record item
 * for every recipient, at its largest: checked before anything is stored or acknowledged.
 */
export function fitsItem(client: ConnectedClient, room: string, data: string): boolean {
  const envelope = ITEM_ENVELOPE_BYTES + room.length + client.nick.length * 6;
  return data.length + envelope <= MAX_ITEM_LEN;
}
