import { encodeBase64Url } from '../../../src-shared/base64url.ts';
import { inspectMessage } from '../../e2ee/host-checks.ts';
import { decodePayload, encodePayload, eventOf, eventPayload } from '../../e2ee/payload.ts';
import { E2eeError, RoomGroup, type RosterEntry, roomGroupId } from '../../e2ee/room-group.ts';
import { type ChatEvent, relationMatches, relationOf } from '../../protocol/wire/chat-event.ts';
import type { ChatMessage, CommitItem, RoomEvent } from '../../protocol/wire/messages.ts';
import { eventText } from '../../store/outbox-store.ts';
import { MAX_RETRY_AFTER_MS } from '../host-bounds.ts';
import { MembershipError } from '../membership-requests.ts';
import type { OutboxEntry } from '../outbox.ts';
import { fingerprintOfKey } from '../key-fingerprint.ts';
import type {
  DecryptFailure,
  DevicesUpdate,
  EncryptionState,
  GroupMember,
  KeyChanged,
  MessageE2ee,
  SessionMessage,
} from '../session-events.ts';
import type { TimelineItem } from '../timeline.ts';
import { CryptoQueue } from './crypto-queue.ts';
import type { E2eeOptions } from './e2ee-options.ts';
import { type GroupRecord, type PendingRecord, encodeGroupRecord } from './group-record.ts';
import { type ClaimAnswer, commitJitterMs, diffIsEmpty, reconcileDiff } from './reconcile-diff.ts';
import { DEVICE_WAIT_MS, readyToSend, removalDue, waitingForDevices } from './send-ready.ts';

/** Own messages remembered by id, so their echo in this session shows their text. */
const MAX_SENT_REMEMBERED = 1000;

/** What a RoomCrypto needs from its session: the wire, the events, and the room's members. */
export interface RoomCryptoHost {
  readonly room: string;
  /** The room's name in the device's E2EE store (group-record.ts groupName). */
  readonly storeName: string;
  /** Our Parley key (public key text). */
  readonly ownKey: string;
  /** The device, store, pins and suite; the device changes when it is rotated. */
  options(): E2eeOptions;
  /** The current connection (compared after each await: a changed one ends the step), or undefined. */
  connection(): object | undefined;
  /** The room finished its join on this connection (it may send and commit). */
  synced(): boolean;
  /** Keys the host lists as members of the room (with a role). */
  memberKeys(): ReadonlySet<string>;
  /** Keys with a connection in the room now. */
  onlineKeys(): ReadonlySet<string>;
  emitMessage(message: SessionMessage): void;
  emitEvent(event: RoomEvent): void;
  emitSynced(): void;
  emitEncryption(state: EncryptionState): void;
  emitDevices(update: DevicesUpdate): void;
  emitKeyChanged(change: KeyChanged): void;
  /** A local step failed: reported as an `e2ee-failed` error (no key material in `message`). */
  failed(message: string): void;
  /** `kp-claim`: the members' devices and KeyPackages for those not in `have`. */
  claim(have: string[]): Promise<ClaimAnswer>;
  /** `commit`: the callbacks run in the host's message order (not a microtask later). */
  commit(
    body: { commit: string; welcome?: string; to?: string[] },
    committed: (answer: { seq: number; epoch: number }) => void,
    refused: (error: MembershipError) => void,
  ): void;
  /**
   * Writes `send {room, id, mls, epoch, rel?, file?}` (`epoch`: the one it was sealed at, which
   * the host checks without decoding `mls`); false when there is no connection.
   */
  writeSend(id: string, mls: string, epoch: number, relation: SendRelation): boolean;
  /** The outbox entry goes back in the queue (with the later ones of the room), after `delayMs`. */
  requeue(id: string, delayMs: number): void;
  /** The outbox may have something to send now. */
  pump(): void;
  /** Runs `action` after `ms` unless the connection ends first. */
  later(ms: number, action: () => void): void;
  /** A new device key (the room broke): the session reconnects with it. */
  rotateDevice(): Promise<void>;
  random(): number;
  now(): number;
}

/** What the host must see of an encrypted event (chat-event.ts relationOf). */
export type SendRelation = ReturnType<typeof relationOf>;

/** The connection of a pending commit restored from the store: never a live one. */
const RESTORED = {};

interface PendingCommit {
  readonly commit: string;
  readonly next: RoomGroup;
  readonly erase: () => void;
  /** The connection it was written on: not seen by the end of a later join, it was not taken. */
  readonly connection: object;
}

/**
 * One end-to-end encrypted room's MLS group, kept in step with the host's order (design16
 * "The client"). Everything of the room passes through one queue in seq order: messages are
 * decrypted with the group as it was at their place in the timeline, commits move the group
 * on, a Welcome puts this device in, sends are encrypted at the epoch the host is at. A group
 * is adopted only once the host has ordered it (our commit answered `committed`, or seen in a
 * replay with the same bytes); a commit that cannot be followed breaks the room: its state is
 * dropped, the device is rotated, and it waits to be added again.
 */
export class RoomCrypto {
  readonly #host: RoomCryptoHost;
  readonly #queue: CryptoQueue;
  #group: RoomGroup | undefined;
  /** The highest seq the group has taken in (kept with the state). */
  #lastSeq = -1;
  /** The room's epoch as the host last told us. */
  #hostEpoch: number | undefined;
  #pending: PendingCommit | undefined;
  #state: EncryptionState['state'] | undefined;
  /** The state moved on since it was last written (messages read): written when idle. */
  #dirty = false;
  #reconcileScheduled = false;
  /** A reconcile is scheduled or running: the group may be about to take someone in. */
  #reconcileDue = false;
  /** The host refused a send at our epoch: nothing goes out until a commit moves it on. */
  #commitWanted = false;
  /** Listed devices that had no KeyPackage yet, and until when sends wait for them. */
  readonly #awaited = new Set<string>();
  #awaitUntil = 0;
  #breaking = false;
  /** No longer a member: nothing is written, sent or committed any more. */
  #retired = false;
  /** Parley key + person key pairs already reported as changed. */
  readonly #flagged = new Set<string>();
  /** Our own events by message id: a sender cannot decrypt its own, so its echo shows these. */
  readonly #sent = new Map<string, ChatEvent>();

  constructor(host: RoomCryptoHost, stored: GroupRecord | undefined) {
    this.#host = host;
    this.#queue = new CryptoQueue((error) =>
      host.failed(`a step of "${host.room}"'s encryption failed: ${describe(error)}`),
    );
    if (stored) {
      const { suite, device, pins } = host.options();
      try {
        this.#group = RoomGroup.decode(suite, device, pins, stored.state);
        this.#lastSeq = stored.lastSeq;
        const pending = stored.pending;
        if (pending) this.#pending = restorePending(host, pending);
      } catch (error) {
        host.failed(`"${host.room}"'s stored encryption state is unusable: ${describe(error)}`);
        // Another device's state (this install rotated its device since): the new device is
        // added like any other, so wait. A damaged state of THIS device would wait forever —
        // its leaf is still in everyone's group, so nobody adds it again —: rotate instead.
        const otherDevice = error instanceof E2eeError && error.reason === 'not-in-group';
        if (!otherDevice) this.#queue.enqueue(() => this.#broken('its stored state is damaged'));
      }
    }
  }

  /** The seq the stored state had reached: a rejoin's gap is measured from here. */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  get encrypted(): boolean {
    return this.#group !== undefined;
  }

  /** This key left the room for good: the state is about to be deleted; stop using it. */
  retire(): void {
    this.#retired = true;
  }

  /** Resolves once everything queued so far is done (tests, and a clean stop). */
  idle(): Promise<void> {
    return this.#queue.idle();
  }

  // ── what the session hands in, in the host's order ────────────────────────────────────

  /** The join's answer: the room's current epoch. */
  joined(epoch: number): void {
    this.#hostEpoch = epoch;
  }

  item(item: TimelineItem): void {
    this.#queue.enqueue(() => {
      switch (item.t) {
        case 'msg':
          return this.#message(item);
        case 'commit':
          return this.#commit(item);
        case 'event':
          return this.#event(item);
      }
    });
  }

  /** The join's history is in: `synced` is reported after everything before it. */
  synced(): void {
    this.#queue.enqueue(() => this.#synced());
  }

  welcome(seq: number, data: string): void {
    this.#queue.enqueue(() => this.#welcome(seq, data));
  }

  /** A rejoin missed more history than the session pages back for: commits may be lost. */
  gapLost(): void {
    this.#queue.enqueue(async () => {
      if (this.#group) await this.#broken('too much was missed while away to follow the group');
    });
  }

  /** Our own message was stored at `seq`: the state has seen the timeline up to it. */
  acked(seq: number): void {
    this.#queue.enqueue(async () => {
      // Only right after what the state took in: an ack can come before items of lower seq
      // (a gap the session is filling), and moving past them would skip their commits.
      if (seq !== this.#lastSeq + 1 || !this.#group) return;
      this.#lastSeq = seq;
      this.#dirty = true;
      await this.#settle();
    });
  }

  /** Members joined or left, or a member's devices changed: the group should follow. */
  membershipChanged(): void {
    this.#scheduleReconcile();
  }

  /** The host said it is at `epoch` (a `stale-epoch` answer). */
  hostAt(epoch: number): void {
    this.#hostEpoch = Math.max(this.#hostEpoch ?? 0, epoch);
  }

  /**
   * The host refused a message of ours as `stale-epoch`. Either a commit we have not applied
   * yet moved the room on, or the host wants the epoch moved before it takes more messages (a
   * member left and the group still holds them): sends wait for the next commit, and our
   * reconcile makes one if nobody else does.
   */
  sendRefused(epoch: number | undefined): void {
    if (epoch !== undefined) this.hostAt(epoch);
    this.#commitWanted = true;
    this.#scheduleReconcile();
  }

  /** The connection ended: nothing waits on its timers; a pending commit waits for the replay. */
  disconnected(): void {
    this.#reconcileScheduled = false;
    this.#reconcileDue = false;
  }

  /** Whether the outbox may encrypt for this room now (send-ready.ts). */
  readyToSend(): boolean {
    const group = this.#group;
    const roster = group?.roster() ?? [];
    const inGroup = new Set(roster.map((entry) => entry.device));
    return (
      !this.#breaking &&
      !this.#retired &&
      readyToSend({
        hasGroup: group !== undefined,
        commitPending: this.#pending !== undefined || this.#commitWanted,
        removalDue: group ? removalDue(roster, group.ownLeaf, this.#host.memberKeys()) : false,
        addDue:
          this.#reconcileDue ||
          waitingForDevices(this.#awaited, inGroup, this.#awaitUntil, this.#host.now()),
        localEpoch: group?.epoch,
        hostEpoch: this.#hostEpoch,
      })
    );
  }

  /** Encrypts `entry` at its turn and writes it; not ready then, it goes back to the outbox. */
  send(entry: OutboxEntry): void {
    const connection = this.#host.connection();
    this.#queue.enqueue(() => this.#send(entry, connection));
  }

  // ── the steps ─────────────────────────────────────────────────────────────────────────

  async #message(message: ChatMessage): Promise<void> {
    const { mls, text: _text, ev: _ev, ...rest } = message;
    const fp = fingerprintOfKey(message.key);
    const emit = (event: ChatEvent | undefined, e2ee: MessageE2ee) =>
      this.#host.emitMessage({
        ...rest,
        fp,
        text: event ? eventText(event) : '',
        ...(event ? { event } : {}),
        e2ee,
      });
    const fail = (reason: DecryptFailure) => emit(undefined, { status: 'failed', reason });
    const ownEvent = message.key === this.#host.ownKey ? this.#sent.get(message.id) : undefined;
    if (ownEvent !== undefined && !message.deleted) {
      // Our own message (a sender cannot decrypt its own): we know what it said.
      if (!relationMatches(ownEvent, message)) return fail('tampered');
      const { device } = this.#host.options();
      emit(ownEvent, { status: 'ok', device: device.deviceText, person: personOf(device) });
      return;
    }
    const group = this.#group;
    // Taken in already (the state got past it), or history from before this device was in
    // the group (a join's replay, never sealed for it): not shown again, not shown as failed.
    if (message.seq <= this.#lastSeq && group) return;
    if (!group && message.history) return;
    if (message.deleted) {
      // A tombstone: its ciphertext is gone from the host; nothing to open, nothing to check.
      const { rel: _rel, file: _file, ...tombstone } = rest;
      this.#host.emitMessage({ ...tombstone, fp, text: '' });
      if (group) {
        this.#lastSeq = Math.max(this.#lastSeq, message.seq);
        this.#dirty = true;
        await this.#settle();
      }
      return;
    }
    if (mls === undefined) return fail('tampered'); // plaintext where only ciphertext belongs
    if (!group) return fail('not-in-group');
    // The host takes a message only at the room's current epoch, and we apply the timeline in
    // its order: a genuine one is always for the group's epoch now. One for an earlier epoch
    // (which MLS would still open with retained keys) was moved or made after the fact — e.g.
    // by a removed member's old state: never shown as authentic.
    const stale = inspectMessage(mls)?.epoch !== group.epoch;
    let processed;
    try {
      processed = await group.process(mls);
    } catch (error) {
      const reason = failureOf(error);
      if (reason === 'replay' && message.key === this.#host.ownKey) {
        // Most likely this device's own line, from before a restart: its keys were spent when
        // it was sealed, so it never opens here, and the session no longer remembers its text
        // (stopped after sending, before the ack moved the stored seq past it). The desktop
        // keeps it in local history, the line client printed it when sent: not shown again,
        // and not as a failure. Lines of our other devices open normally (other leaves).
        this.#lastSeq = Math.max(this.#lastSeq, message.seq);
        this.#dirty = true;
        return this.#settle();
      }
      return fail(reason);
    }
    if (processed.kind !== 'application') return fail('tampered');
    if (stale) {
      const present = group.roster().some((entry) => entry.device === processed.sender.device);
      return fail(present ? 'tampered' : 'not-in-group');
    }
    if (this.#group === group) this.#group = processed.next;
    this.#lastSeq = Math.max(this.#lastSeq, message.seq);
    this.#dirty = true;
    const { sender } = processed;
    const payload = decodePayload(processed.payload);
    const event = payload ? eventOf(payload) : undefined;
    if (sender.parleyKey !== message.key) fail('forged');
    else if (!payload || !event) fail('undecryptable');
    // Moved under another id, or the host-visible relation is not the one the sender sealed.
    else if (payload.id !== message.id || !relationMatches(event, message)) fail('tampered');
    else {
      const keyChanged = this.#keyChanged(sender);
      emit(event, {
        status: 'ok',
        device: sender.device,
        person: sender.personKey,
        ...(keyChanged ? { keyChanged: true as const } : {}),
      });
    }
    await this.#settle();
  }

  async #commit(item: CommitItem): Promise<void> {
    this.#hostEpoch = Math.max(this.#hostEpoch ?? 0, item.epoch + 1);
    // Taken in already, unless it is exactly the commit the group waits for: a seq the host
    // inflated (a Welcome's) must not make every later commit, and so the room, be skipped for
    // good; applying it brings lastSeq back to the host's real numbering.
    if (item.seq <= this.#lastSeq && item.epoch !== this.#group?.epoch) return;
    const pending = this.#pending;
    if (pending && pending.commit === item.data) {
      // Our own commit, seen in a replay after a reconnect: the host took it.
      return this.#adopt(pending, item.seq);
    }
    const group = this.#group;
    if (!group) return; // not in the group (yet): the Welcome brings it past this point
    if (group.epoch === 0) {
      // The group we made here was never ordered: another member's was first. Theirs is the
      // room's; ours is dropped, and their reconcile adds this device (a Welcome follows).
      this.#group = undefined;
      this.#pending = undefined;
      return;
    }
    if (item.epoch < group.epoch) return; // already past it (a Welcome after it)
    if (item.epoch > group.epoch) {
      return this.#broken(`commits of "${this.#host.room}" were missed`);
    }
    let processed;
    try {
      processed = await group.process(item.data);
    } catch (error) {
      return this.#broken(`a commit could not be applied (${failureOf(error)})`);
    }
    if (processed.kind !== 'commit') return this.#broken('a commit that is not one');
    if (pending) {
      // Someone else's commit got the epoch first: ours is stale; reconcile again after.
      this.#pending = undefined;
    }
    this.#lastSeq = item.seq;
    if (!processed.next.active) {
      this.#group = undefined;
      await this.#forget();
      this.#setState('joining', 'this device was removed from the group');
      return;
    }
    this.#group = processed.next;
    this.#commitWanted = false;
    // Before the write, so sends wait for it. Someone else's commit usually leaves the group
    // as the room is: then no claim (every member would claim after every commit otherwise).
    if (this.#groupLagsRoom()) this.#scheduleReconcile();
    await this.#save();
    this.#reportRoster();
    this.#host.pump();
  }

  #event(event: RoomEvent): void {
    this.#host.emitEvent(event);
    if (['joined', 'left', 'removed', 'banned'].includes(event.action) && !event.history) {
      this.#scheduleReconcile();
    }
  }

  #synced(): void {
    const pending = this.#pending;
    if (pending && pending.connection !== this.#host.connection()) {
      // Written on an earlier connection and not in the replay: the host never took it.
      this.#pending = undefined;
      if (this.#group?.epoch === 0 && this.#hostEpoch !== 0) this.#group = undefined;
    }
    this.#host.emitSynced();
    // A group made here and not yet ordered by the host (epoch 0) does not count yet.
    const inGroup = this.#group !== undefined && this.#group.epoch > 0;
    if (!this.#breaking) this.#setState(inGroup ? 'encrypted' : 'joining');
    // The roster as the join found it (a group restored from the store has not been reported).
    if (inGroup) this.#reportRoster();
    this.#scheduleReconcile();
    this.#host.pump();
  }

  async #welcome(seq: number, data: string): Promise<void> {
    if (this.#group && this.#lastSeq >= seq) return;
    const { suite, device, pins, store } = this.#host.options();
    let group: RoomGroup;
    try {
      // Bound to this room: another room's Welcome (moved here by the host) is refused.
      group = await RoomGroup.join(suite, device, pins, store, data, this.#host.room);
    } catch (error) {
      // Not for a KeyPackage of this device (an older device's), or damaged: wait for another.
      this.#host.failed(`a Welcome to "${this.#host.room}" could not be used: ${describe(error)}`);
      return;
    }
    this.#group = group;
    this.#pending = undefined;
    this.#commitWanted = false;
    this.#lastSeq = seq;
    this.#hostEpoch = Math.max(this.#hostEpoch ?? 0, group.epoch);
    this.#scheduleReconcile();
    await this.#save();
    this.#reportRoster();
    if (this.#host.synced()) this.#setState('encrypted');
    this.#host.pump();
  }

  async #send(entry: OutboxEntry, connection: object | undefined): Promise<void> {
    const group = this.#group;
    if (!connection || connection !== this.#host.connection() || !group || !this.readyToSend()) {
      this.#host.requeue(entry.id, 0);
      return;
    }
    const event: ChatEvent = entry.event ?? { type: 'text', text: entry.text };
    let sealed;
    // Stated beside the ciphertext (wire v5): the host checks it without parsing the message.
    const epoch = group.epoch;
    try {
      sealed = await group.encrypt(encodePayload(eventPayload(entry.id, event)));
    } catch (error) {
      this.#host.failed(`a message could not be encrypted: ${describe(error)}`);
      this.#host.requeue(entry.id, 5000);
      return;
    }
    // Adopted whatever happens next: the old state must never encrypt again (key reuse).
    this.#group = sealed.next;
    this.#remember(entry.id, event);
    await this.#save();
    const relation = relationOf(event);
    if (
      connection !== this.#host.connection() ||
      !this.#host.writeSend(entry.id, sealed.data, epoch, relation)
    ) {
      this.#host.requeue(entry.id, 0);
    }
  }

  // ── reconcile: the group follows the room (design16) ──────────────────────────────────

  #scheduleReconcile(): void {
    if (this.#reconcileScheduled || !this.#host.connection()) return;
    this.#reconcileScheduled = true;
    this.#reconcileDue = true;
    const group = this.#group;
    const random = () => this.#host.random();
    const delay = group
      ? commitJitterMs(group.roster(), group.ownLeaf, this.#host.onlineKeys(), random)
      : Math.floor(random() * 300);
    this.#host.later(delay, () => {
      this.#reconcileScheduled = false;
      this.#queue.enqueue(async () => {
        try {
          await this.#reconcile();
        } finally {
          if (!this.#reconcileScheduled) this.#reconcileDue = false;
          this.#host.pump();
        }
      });
    });
  }

  async #reconcile(): Promise<void> {
    const host = this.#host;
    const connection = host.connection();
    if (!connection || !host.synced() || this.#pending || this.#breaking || this.#retired) return;
    let group = this.#group;
    if (!group) {
      if (this.#hostEpoch !== 0) return; // the group exists: wait for our Welcome
      // No group yet: make one; its first commit (at epoch 0) adds everyone.
      const { suite, device, pins } = host.options();
      group = await RoomGroup.create(suite, device, pins, roomGroupId(host.room));
      if (connection !== host.connection() || this.#group) return;
      this.#group = group;
    }
    if (group.epoch !== this.#hostEpoch) return; // commits to process first
    const roster = group.roster();
    let answer: ClaimAnswer;
    try {
      answer = await host.claim(roster.map((entry) => entry.device));
    } catch (error) {
      if (this.#retryLater(error)) return;
      if (!isDisconnect(error)) host.failed(`devices of "${host.room}": ${describe(error)}`);
      return;
    }
    if (connection !== host.connection() || this.#group !== group || this.#pending) return;
    this.#awaitNewDevices(roster, answer);
    const diff = reconcileDiff(roster, group.ownLeaf, answer);
    // The group's first commit is made even with nobody to add: it gives the host the group.
    if (diffIsEmpty(diff) && group.epoch > 0 && !this.#commitWanted) return;
    let prepared;
    try {
      prepared = await group.prepareCommit({ add: [...diff.add], remove: [...diff.remove] });
    } catch (error) {
      host.failed(`a commit for "${host.room}" could not be made: ${describe(error)}`);
      return;
    }
    if (connection !== host.connection() || this.#group !== group) return;
    const empty = diff.remove.length === 0 && prepared.to.length === 0;
    if (group.epoch > 0 && empty && !this.#commitWanted) return;
    const pending: PendingCommit = {
      commit: prepared.commit,
      next: prepared.next,
      erase: () => prepared.erase(),
      connection,
    };
    this.#pending = pending;
    // Kept before it leaves: the host may store it and we stop before its answer.
    await this.#save();
    if (connection !== host.connection() || this.#pending !== pending) return;
    host.commit(
      {
        commit: prepared.commit,
        ...(prepared.welcome !== undefined ? { welcome: prepared.welcome, to: prepared.to } : {}),
      },
      (answer) => this.#queue.enqueue(() => this.#committed(pending, answer)),
      (error) => this.#queue.enqueue(() => this.#refused(pending, error)),
    );
  }

  /**
   * Whether the group may not match the room: a leaf of a key that is no longer a member, or
   * a member with no leaf at all. (New devices of members are announced by `devices`.)
   */
  #groupLagsRoom(): boolean {
    const group = this.#group;
    if (!group) return false;
    const roster = group.roster();
    const members = this.#host.memberKeys();
    if (removalDue(roster, group.ownLeaf, members)) return true;
    const withLeaf = new Set(roster.map((entry) => entry.parleyKey));
    return [...members].some((key) => !withLeaf.has(key));
  }

  /**
   * Devices of members the host lists without a KeyPackage are publishing their first ones
   * (their `devices` notice will bring them): sends wait a little for them to be added.
   */
  #awaitNewDevices(roster: readonly RosterEntry[], answer: ClaimAnswer): void {
    const inGroup = new Set(roster.map((entry) => entry.device));
    const offered = new Set(answer.kps.map((kp) => kp.device));
    const members = this.#host.memberKeys();
    let fresh = false;
    for (const { key, device } of answer.devices) {
      if (inGroup.has(device) || offered.has(device) || !members.has(key)) continue;
      if (this.#awaited.has(device)) continue; // waited for once already: not again
      this.#awaited.add(device);
      fresh = true;
    }
    if (!fresh) return;
    this.#awaitUntil = this.#host.now() + DEVICE_WAIT_MS;
    this.#host.later(DEVICE_WAIT_MS, () => this.#host.pump());
  }

  async #committed(pending: PendingCommit, answer: { seq: number; epoch: number }): Promise<void> {
    this.#hostEpoch = Math.max(this.#hostEpoch ?? 0, answer.epoch);
    if (this.#pending !== pending) return; // adopted already (seen in a replay) or dropped
    await this.#adopt(pending, answer.seq);
  }

  #refused(pending: PendingCommit, error: MembershipError): void {
    if (this.#pending !== pending) return;
    if (error.code === 'disconnected') return; // maybe taken: the rejoin's replay will say
    this.#pending = undefined;
    if (error.code === 'stale-epoch') {
      if (error.epoch !== undefined) this.hostAt(error.epoch);
      // Our new group lost the race to another member's: theirs is the room's, wait to be added.
      if (this.#group?.epoch === 0) this.#group = undefined;
      this.#scheduleReconcile();
      this.#host.pump();
      return;
    }
    if (this.#retryLater(error)) return;
    if (error.code !== 'offline' && error.code !== 'stopped') {
      this.#host.failed(`a commit for "${this.#host.room}" was refused (${error.code})`);
    }
  }

  /**
   * The host is busy (`rate-limited`: a reconnect reconciles every room at once; `internal`):
   * reconcile again once it said it may work. Returns whether that is the case.
   */
  #retryLater(error: unknown): boolean {
    if (!(error instanceof MembershipError)) return false;
    if (error.code !== 'rate-limited' && error.code !== 'internal') return false;
    const wait = Math.min(error.retryAfterMs ?? 1000, MAX_RETRY_AFTER_MS);
    this.#host.later(Math.max(1, wait), () => this.#scheduleReconcile());
    return true;
  }

  async #adopt(pending: PendingCommit, seq: number): Promise<void> {
    this.#group = pending.next;
    this.#commitWanted = false;
    pending.erase();
    this.#pending = undefined;
    this.#lastSeq = Math.max(this.#lastSeq, seq);
    this.#scheduleReconcile();
    await this.#save();
    this.#reportRoster();
    if (this.#host.synced()) this.#setState('encrypted');
    this.#host.pump();
  }

  // ── state, roster, breaking ───────────────────────────────────────────────────────────

  async #broken(reason: string): Promise<void> {
    this.#breaking = true;
    this.#group = undefined;
    this.#pending = undefined;
    this.#dirty = false;
    await this.#forget();
    this.#setState('broken', reason);
    try {
      await this.#host.rotateDevice();
    } catch (error) {
      this.#host.failed(`a new device key could not be made: ${describe(error)}`);
    }
    this.#breaking = false;
    this.#setState('joining', reason);
  }

  async #forget(): Promise<void> {
    try {
      await this.#host.options().store.delete(this.#host.storeName);
    } catch (error) {
      this.#host.failed(
        `"${this.#host.room}"'s encryption state could not be deleted: ${describe(error)}`,
      );
    }
  }

  /** Writes the state when nothing else is queued (a burst of messages, one write). */
  async #settle(): Promise<void> {
    if (this.#dirty && this.#queue.length === 0) await this.#save();
  }

  async #save(): Promise<void> {
    const group = this.#group;
    if (!group || this.#retired) return;
    this.#dirty = false;
    const pending = this.#pending;
    const record = encodeGroupRecord({
      lastSeq: this.#lastSeq,
      state: group.encode(),
      ...(pending ? { pending: { commit: pending.commit, state: pending.next.encode() } } : {}),
    });
    try {
      await this.#host.options().store.set(this.#host.storeName, record);
    } catch (error) {
      this.#host.failed(
        `"${this.#host.room}"'s encryption state could not be saved: ${describe(error)}`,
      );
    }
  }

  #setState(state: EncryptionState['state'], reason?: string): void {
    if (this.#state === state && state !== 'broken') return;
    this.#state = state;
    this.#host.emitEncryption({
      room: this.#host.room,
      state,
      ...(reason !== undefined ? { reason } : {}),
    });
  }

  /** Reports the group's devices by member, and any person key that is not the pinned one. */
  #reportRoster(): void {
    const group = this.#group;
    if (!group) return;
    const members = new Map<string, { person: string; devices: string[]; keyChanged: boolean }>();
    for (const entry of group.roster()) {
      const keyChanged = this.#keyChanged(entry);
      const known = members.get(entry.parleyKey);
      if (known) {
        known.devices.push(entry.device);
        known.keyChanged ||= keyChanged;
      } else {
        members.set(entry.parleyKey, {
          person: entry.personKey,
          devices: [entry.device],
          keyChanged,
        });
      }
    }
    const list: GroupMember[] = [...members].map(([key, member]) => ({ key, ...member }));
    this.#host.emitDevices({ room: this.#host.room, members: list });
  }

  /** Whether this leaf's person key differs from the pin; reported once per key and person. */
  #keyChanged(entry: RosterEntry): boolean {
    const { pins } = this.#host.options();
    const verdict = pins.check(entry.parleyKey, entry.personKey);
    if (verdict === 'new') {
      // The authentication service pins on first sight; this covers a pin it could not write.
      pins.accept(entry.parleyKey, entry.personKey).catch(() => undefined);
      return false;
    }
    if (verdict === 'same') return false;
    const flag = `${entry.parleyKey} ${entry.personKey}`;
    if (!this.#flagged.has(flag)) {
      this.#flagged.add(flag);
      this.#host.emitKeyChanged({
        key: entry.parleyKey,
        previous: pins.personOf(entry.parleyKey) ?? '',
        person: entry.personKey,
      });
    }
    return true;
  }

  #remember(id: string, event: ChatEvent): void {
    this.#sent.set(id, event);
    if (this.#sent.size > MAX_SENT_REMEMBERED) {
      const oldest = this.#sent.keys().next().value;
      if (oldest !== undefined) this.#sent.delete(oldest);
    }
  }
}

/**
 * Our commit from before a stop, maybe taken by the host: adopted if the join's replay shows
 * it, dropped at `synced` if not (its connection is no live one). Unusable: dropped (the replay's
 * copy then breaks the room, as it did before such commits were kept).
 */
function restorePending(host: RoomCryptoHost, pending: PendingRecord): PendingCommit | undefined {
  const { suite, device, pins } = host.options();
  try {
    return {
      commit: pending.commit,
      next: RoomGroup.decode(suite, device, pins, pending.state),
      erase: () => undefined,
      connection: RESTORED,
    };
  } catch {
    return undefined;
  }
}

function personOf(device: E2eeOptions['device']): string {
  return encodeBase64Url(device.personKey);
}

/** What a reader is told about a message that did not open (never the library's words). */
function failureOf(error: unknown): DecryptFailure {
  if (!(error instanceof E2eeError)) return 'undecryptable';
  switch (error.reason) {
    case 'tampered':
    case 'replay':
    case 'not-in-group':
      return error.reason;
    case 'bad-credential':
      return 'forged';
    default:
      return 'undecryptable';
  }
}

function isDisconnect(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'disconnected' || code === 'offline' || code === 'stopped';
}

function describe(error: unknown): string {
  if (error instanceof E2eeError) return error.reason;
  return error instanceof Error ? error.message : String(error);
}
