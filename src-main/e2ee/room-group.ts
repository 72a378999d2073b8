import { createHash, randomBytes } from 'node:crypto';
import {
  createApplicationMessage,
  createCommit,
  createGroup,
  decodeGroupState,
  decodeMlsMessage,
  emptyPskIndex,
  encodeGroupState,
  encodeMlsMessage,
  joinGroup,
  processPublicMessage,
  zeroOutUint8Array,
  type ClientState,
  type IncomingMessageCallback,
  type KeyPackage,
  type MLSMessage,
  type PrivateMessage,
  type Proposal,
  type PublicMessage,
} from 'ts-mls';
import { verifyKeyPackage, makeKeyPackageRef } from 'ts-mls/keyPackage.js';
import { unprotectPrivateMessage } from 'ts-mls/messageProtection.js';
import {
  CodecError,
  CryptoError,
  CryptoVerificationError,
  MlsError,
  ValidationError,
} from 'ts-mls/mlsError.js';
import { decodeBase64Url, encodeBase64Url } from '../../src-shared/base64url.ts';
import { concatBytes } from '../../src-shared/bytes.ts';
import { equalBytes } from '../../src-shared/equal-bytes.ts';
import { MAX_GROUP_DEVICES, MAX_MLS_TEXT } from '../protocol/wire/messages.ts';
import { parleyClientConfig } from './client-config.ts';
import { parseCredential, verifyCredential, type DeviceIdentity } from './device-identity.ts';
import { E2eeError, type E2eeFailure } from './e2ee-error.ts';
import type { E2eeStore } from './e2ee-store.ts';
import {
  consumeKeyPackage,
  decodeKeyPackageText,
  findKeyPackage,
  hex,
  newKeyPackage,
} from './key-packages.ts';
import type { MlsSuite } from './mls-suite.ts';
import type { PersonPins } from './person-pins.ts';
import { entryAt, rosterOf, type RosterEntry } from './roster.ts';

export { E2eeError, type E2eeFailure } from './e2ee-error.ts';
export type { RosterEntry } from './roster.ts';

export type Processed =
  | { kind: 'application'; next: RoomGroup; sender: RosterEntry; payload: Uint8Array }
  | { kind: 'commit'; next: RoomGroup; added: RosterEntry[]; removed: RosterEntry[] };

export interface PreparedCommit {
  /** The commit (a PublicMessage, so the host can read its epoch) as base64url. */
  readonly commit: string;
  /** The Welcome for the added devices, if any. */
  readonly welcome?: string;
  /** The devices the Welcome is for. */
  readonly to: string[];
  /** The group after the commit: adopt it only once the host answered `committed`. */
  readonly next: RoomGroup;
  /** KeyPackages left out: undecodable, not a valid Parley device, expired, or already in. */
  readonly skipped: string[];
  /** Wipes the secrets the commit consumed from the current state: call after adopting `next`. */
  erase(): void;
}

const STATE_VERSION = 1;
const MLS_VERSION = 'mls10';
const ROOM_GROUP_CONTEXT = 'parley room group v1';
const GROUP_NONCE_BYTES = 16;

/**
 * A group id bound to its room: nonce (16 random bytes) ‖ SHA-256(context ‖ 0 ‖ room ‖ nonce)[0..16].
 * Every member checks it when a Welcome brings it into a room's group (`join`'s `room`), so a
 * host cannot hand a member one room's Welcome in another room: that member would otherwise
 * show the first room's lines (the host relays their ciphertext) as said in the second, and
 * seal what it says in the second to the first room's group.
 */
export function roomGroupId(
  room: string,
  nonce: Uint8Array = new Uint8Array(randomBytes(GROUP_NONCE_BYTES)),
): Uint8Array {
  if (nonce.length !== GROUP_NONCE_BYTES) throw new Error('a group nonce is 16 bytes');
  const digest = createHash('sha256')
    .update(ROOM_GROUP_CONTEXT)
    .update(new Uint8Array([0]))
    .update(room, 'utf8')
    .update(nonce)
    .digest();
  return concatBytes(nonce, new Uint8Array(digest.subarray(0, 16)));
}

/** Whether a group id was made by `roomGroupId` for this room. */
export function groupIdIsFor(groupId: Uint8Array, room: string): boolean {
  if (groupId.length !== GROUP_NONCE_BYTES + 16) return false;
  return equalBytes(groupId, roomGroupId(room, groupId.subarray(0, GROUP_NONCE_BYTES)));
}

/**
 * One room's MLS group, immutable: every operation returns the group after it (`next`), and the
 * caller decides when to adopt it. The pitfalls, each of which splits a group or loses messages
 * (design16 "The client"; docs/protocol.md §12):
 *
 * - Adopt after accept. A commit's `next` is adopted only after the host answered `committed`,
 *   then `erase()` wipes what it consumed. On `stale-epoch` drop it and process the winner's
 *   commit with the current group (which `prepareCommit` left intact for exactly that).
 * - Skip the own echo. The host does not relay a commit to the connection that sent it, but
 *   history after a reconnect can hold it: `process` throws 'own-commit' (MLS cannot process its
 *   own commit); if the bytes equal the pending commit, adopt the pending state, else the room is
 *   broken. The device's own application messages cannot be read back either (their key is spent:
 *   'replay'); the client keeps what it sent and skips its own items by message id.
 * - Host order. Items are processed in the host's seq order, commits and messages alike; the
 *   host's order is the group's order, so every member reaches the same epoch the same way. A
 *   commit for another epoch is 'wrong-epoch'; it is never "fixed" by skipping or reordering.
 * - Encrypt once. `encrypt`'s `next` is adopted at once, whatever the host answers: the old group
 *   would encrypt the next message under a message key already used (MLS's reuse guard
 *   randomises the nonce, but a sender must not count on it). On `stale-epoch` the plaintext is
 *   encrypted again after the commit, under the new epoch's keys.
 * - 4-epoch retention. Receive keys of the last 4 epochs are kept, so a message sent just before
 *   a commit still opens after it; older ones are 'wrong-epoch' (the host refuses to store
 *   them anyway: `send` must be at the room's epoch).
 */
export class RoomGroup {
  readonly #suite: MlsSuite;
  readonly #device: DeviceIdentity;
  readonly #pins: PersonPins;
  readonly #state: ClientState;

  private constructor(
    suite: MlsSuite,
    device: DeviceIdentity,
    pins: PersonPins,
    state: ClientState,
  ) {
    this.#suite = suite;
    this.#device = device;
    this.#pins = pins;
    this.#state = state;
    pinSelf(pins, device);
  }

  /** A new group holding only this device (epoch 0); the first commit adds everyone else. */
  static async create(
    suite: MlsSuite,
    device: DeviceIdentity,
    pins: PersonPins,
    groupId: Uint8Array = new Uint8Array(randomBytes(32)),
  ): Promise<RoomGroup> {
    pinSelf(pins, device);
    const own = await newKeyPackage(suite, device);
    const state = await createGroup(
      Uint8Array.from(groupId),
      own.publicPackage,
      own.privatePackage,
      [],
      suite.impl,
      parleyClientConfig(pins),
    );
    return new RoomGroup(suite, device, pins, state);
  }

  /**
   * Enters a group from a Welcome sealed to one of this device's stored KeyPackages. With
   * `room`, the group's id must be bound to that room (`roomGroupId`), else 'wrong-group' and
   * the KeyPackage is kept (the right room's Welcome may still come for it).
   */
  static async join(
    suite: MlsSuite,
    device: DeviceIdentity,
    pins: PersonPins,
    store: E2eeStore,
    welcome: string,
    room?: string,
  ): Promise<RoomGroup> {
    pinSelf(pins, device);
    const message = decodeMessage(welcome);
    if (message.wireformat !== 'mls_welcome') throw new E2eeError('malformed', 'not a Welcome');
    if (message.welcome.cipherSuite !== suite.impl.name) {
      throw new E2eeError('malformed', 'a Welcome for another cipher suite');
    }
    for (const secret of message.welcome.secrets) {
      const held = await findKeyPackage(store, device, secret.newMember);
      if (held === undefined) continue;
      // The stored package must be this device's: a store copied from another device is no use.
      if (!equalBytes(held.publicPackage.leafNode.signaturePublicKey, device.deviceKey)) continue;
      const state = await mapErrors(() =>
        joinGroup(
          message.welcome,
          held.publicPackage,
          held.privatePackage,
          emptyPskIndex,
          suite.impl,
          undefined, // the tree travels in the Welcome (ratchet_tree extension)
          undefined,
          parleyClientConfig(pins),
        ),
      );
      if (room !== undefined && !groupIdIsFor(state.groupContext.groupId, room)) {
        throw new E2eeError('wrong-group', 'a Welcome to another room’s group');
      }
      await consumeKeyPackage(store, held.name);
      return new RoomGroup(suite, device, pins, state);
    }
    throw new E2eeError('no-key-package', 'the Welcome is for none of this device’s KeyPackages');
  }

  /** A group from `encode()`'s bytes (the device's store). */
  static decode(
    suite: MlsSuite,
    device: DeviceIdentity,
    pins: PersonPins,
    bytes: Uint8Array,
  ): RoomGroup {
    if (bytes[0] !== STATE_VERSION) throw new E2eeError('malformed', 'not a stored group state');
    let decoded: ReturnType<typeof decodeGroupState>;
    try {
      decoded = decodeGroupState(bytes, 1);
    } catch {
      decoded = undefined;
    }
    if (decoded === undefined || decoded[1] + 1 !== bytes.length) {
      throw new E2eeError('malformed', 'a damaged group state');
    }
    const state: ClientState = { ...decoded[0], clientConfig: parleyClientConfig(pins) };
    const own = state.ratchetTree[state.privatePath.leafIndex * 2];
    if (own?.nodeType !== 'leaf' || !equalBytes(own.leaf.signaturePublicKey, device.deviceKey)) {
      throw new E2eeError('not-in-group', 'the stored group state is another device’s');
    }
    return new RoomGroup(suite, device, pins, state);
  }

  encode(): Uint8Array {
    const body = encodeGroupState(this.#state);
    const out = new Uint8Array(body.length + 1);
    out[0] = STATE_VERSION;
    out.set(body, 1);
    return out;
  }

  get epoch(): number {
    return Number(this.#state.groupContext.epoch);
  }

  get groupId(): Uint8Array {
    return Uint8Array.from(this.#state.groupContext.groupId);
  }

  get ownLeaf(): number {
    return this.#state.privatePath.leafIndex;
  }

  /** False once a processed commit removed this device: it can neither send nor read on. */
  get active(): boolean {
    return this.#state.groupActiveState.kind === 'active';
  }

  roster(): RosterEntry[] {
    return rosterOf(this.#state.ratchetTree);
  }

  async encrypt(payload: Uint8Array): Promise<{ data: string; next: RoomGroup }> {
    this.#requireActive();
    const result = await mapErrors(() =>
      createApplicationMessage(this.#state, payload, this.#suite.impl),
    );
    for (const secret of result.consumed) zeroOutUint8Array(secret);
    const data = encodeMessage({
      version: MLS_VERSION,
      wireformat: 'mls_private_message',
      privateMessage: result.privateMessage,
    });
    if (data.length > MAX_MLS_TEXT) throw new E2eeError('too-large', 'the message is too long');
    return { data, next: this.#with(result.newState) };
  }

  /**
   * A commit that adds these KeyPackages (base64url MLSMessages from `kps`) and removes these
   * devices. Every commit that removes carries an UpdatePath (RFC 9420 §12.4.2; ts-mls requires it
   * for removes), so a removed device cannot derive the new epoch's secrets.
   */
  async prepareCommit(o: { add: string[]; remove: string[] }): Promise<PreparedCommit> {
    this.#requireActive();
    const roster = this.roster();
    const removeLeaves = new Set<number>();
    for (const device of o.remove) {
      const entry = roster.find((e) => e.device === device);
      if (entry !== undefined && entry.leaf !== this.ownLeaf) removeLeaves.add(entry.leaf);
    }
    const staying = new Set(roster.filter((e) => !removeLeaves.has(e.leaf)).map((e) => e.device));
    const adds: { text: string; kp: KeyPackage; device: string }[] = [];
    const skipped: string[] = [];
    for (const text of o.add) {
      const kp = decodeKeyPackageText(text);
      const device = kp === undefined ? undefined : encodeBase64Url(kp.leafNode.signaturePublicKey);
      if (
        kp === undefined ||
        device === undefined ||
        staying.has(device) ||
        !(await this.#usableKeyPackage(kp))
      ) {
        skipped.push(text);
        continue;
      }
      staying.add(device);
      adds.push({ text, kp, device });
    }
    if (staying.size > MAX_GROUP_DEVICES) {
      throw new E2eeError('too-large', `a group holds at most ${MAX_GROUP_DEVICES} devices`);
    }
    const proposals: Proposal[] = [
      ...[...removeLeaves].map((removed): Proposal => ({
        proposalType: 'remove',
        remove: { removed },
      })),
      ...adds.map((a): Proposal => ({ proposalType: 'add', add: { keyPackage: a.kp } })),
    ];
    const result = await mapErrors(() =>
      createCommit(
        { state: this.#state, cipherSuite: this.#suite.impl, pskIndex: emptyPskIndex },
        { wireAsPublicMessage: true, ratchetTreeExtension: true, extraProposals: proposals },
      ),
    );
    const commit = encodeMessage(result.commit);
    const welcome =
      result.welcome === undefined
        ? undefined
        : encodeMessage({
            version: MLS_VERSION,
            wireformat: 'mls_welcome',
            welcome: result.welcome,
          });
    if (commit.length > MAX_MLS_TEXT || (welcome?.length ?? 0) > MAX_MLS_TEXT) {
      throw new E2eeError('too-large', 'the commit or its Welcome is too long for one item');
    }
    const consumed = result.consumed;
    let erased = false;
    return {
      commit,
      ...(welcome === undefined ? {} : { welcome }),
      to: adds.map((a) => a.device),
      next: this.#with(result.newState),
      skipped,
      erase() {
        if (erased) return;
        erased = true;
        for (const secret of consumed) zeroOutUint8Array(secret);
      },
    };
  }

  /**
   * Reads one timeline item (a `msg`'s `mls`, or a `commit`). Throws E2eeError, never anything
   * else, for a stranger's bytes. An application message's `sender` is the one its leaf's
   * credential names: the caller must check it against the `msg`'s key (the host names the
   * sender of what it relays; only the credential is proof) and the payload's id against the
   * `msg`'s id.
   */
  async process(data: string): Promise<Processed> {
    const message = decodeMessage(data);
    if (message.wireformat === 'mls_private_message') {
      return this.#processApplication(message.privateMessage);
    }
    if (message.wireformat === 'mls_public_message') {
      return this.#processCommit(message.publicMessage);
    }
    throw new E2eeError('malformed', 'neither a message nor a commit');
  }

  async #processApplication(pm: PrivateMessage): Promise<Processed> {
    this.#checkGroup(pm.groupId);
    // Private handshake messages are not part of Parley's protocol: commits travel as public.
    if (pm.contentType !== 'application') throw new E2eeError('malformed', 'a private handshake');
    this.#requireActive();
    const state = this.#state;
    const current = state.groupContext.epoch;
    if (pm.epoch > current) throw new E2eeError('wrong-epoch', 'a message from a later epoch');
    const past = pm.epoch < current ? state.historicalReceiverData.get(pm.epoch) : undefined;
    if (pm.epoch < current && past === undefined) {
      throw new E2eeError('wrong-epoch', 'a message from an epoch no longer held');
    }
    const keys =
      past ??
      ({
        senderDataSecret: state.keySchedule.senderDataSecret,
        secretTree: state.secretTree,
        ratchetTree: state.ratchetTree,
        groupContext: state.groupContext,
      } as const);
    const result = await mapErrors(() =>
      unprotectPrivateMessage(
        keys.senderDataSecret,
        pm,
        keys.secretTree,
        keys.ratchetTree,
        keys.groupContext,
        state.clientConfig.keyRetentionConfig,
        this.#suite.impl,
      ),
    );
    const content = result.content.content;
    if (content.contentType !== 'application' || content.sender.senderType !== 'member') {
      throw new E2eeError('malformed', 'not an application message from a member');
    }
    const sender = entryAt(keys.ratchetTree, content.sender.leafIndex);
    if (sender === undefined) throw new E2eeError('bad-credential', 'a sender without credential');
    let nextState: ClientState;
    if (past === undefined) {
      nextState = { ...state, secretTree: result.tree };
    } else {
      const historical = new Map(state.historicalReceiverData);
      historical.set(pm.epoch, { ...past, secretTree: result.tree });
      nextState = { ...state, historicalReceiverData: historical };
    }
    const payload = Uint8Array.from(content.applicationData);
    // The generation's key is spent: wiping it makes a replay of the same ciphertext fail.
    for (const secret of result.consumed) zeroOutUint8Array(secret);
    return { kind: 'application', next: this.#with(nextState), sender, payload };
  }

  async #processCommit(pm: PublicMessage): Promise<Processed> {
    this.#checkGroup(pm.content.groupId);
    if (pm.content.contentType !== 'commit') throw new E2eeError('malformed', 'not a commit');
    if (pm.content.sender.senderType !== 'member') {
      throw new E2eeError('malformed', 'a commit from outside the group');
    }
    this.#requireActive();
    if (pm.content.epoch !== this.#state.groupContext.epoch) {
      throw new E2eeError(
        'wrong-epoch',
        `a commit for epoch ${pm.content.epoch}, not ${this.epoch}`,
      );
    }
    if (pm.content.sender.leafIndex === this.ownLeaf) {
      throw new E2eeError('own-commit', 'this device’s own commit: adopt the pending state');
    }
    const before = this.roster();
    let refused = false;
    // Parley commits only add and remove (and refresh the committer's path); anything else
    // (PSKs, reinit, extensions, external joins) is not ours and is refused.
    const onlyAddRemove: IncomingMessageCallback = (incoming) => {
      if (incoming.kind !== 'commit') return 'reject';
      const fine = incoming.proposals.every(
        (p) => p.proposal.proposalType === 'add' || p.proposal.proposalType === 'remove',
      );
      if (!fine) refused = true;
      return fine ? 'accept' : 'reject';
    };
    const result = await mapErrors(() =>
      processPublicMessage(this.#state, pm, emptyPskIndex, this.#suite.impl, onlyAddRemove),
    );
    if (refused || result.actionTaken === 'reject') {
      throw new E2eeError('malformed', 'a commit with proposals Parley does not make');
    }
    const next = this.#with(result.newState);
    if (next.active) {
      // The committer's UpdatePath carries a new leaf node for it, checked by ts-mls only for a
      // self-consistent credential: it could say "this device is alice's" (vouched for by the
      // committer's own person key) or take another device key. Parley commits never change
      // the committer's identity (ts-mls keeps its credential and key), so any change is a lie.
      // Thrown before wiping `consumed`: those secrets are still the current group's.
      const leaf = pm.content.sender.leafIndex;
      const was = before.find((e) => e.leaf === leaf);
      const now = next.roster().find((e) => e.leaf === leaf);
      if (
        was === undefined ||
        now === undefined ||
        was.parleyKey !== now.parleyKey ||
        was.personKey !== now.personKey ||
        was.device !== now.device
      ) {
        throw new E2eeError('bad-credential', 'a commit that changes its sender’s identity');
      }
    }
    for (const secret of result.consumed) zeroOutUint8Array(secret);
    const after = next.active ? next.roster() : before.filter((e) => e.leaf !== this.ownLeaf);
    const afterDevices = new Set(after.map((e) => e.device));
    const beforeDevices = new Set(before.map((e) => e.device));
    return {
      kind: 'commit',
      next,
      added: after.filter((e) => !beforeDevices.has(e.device)),
      removed: before.filter((e) => !afterDevices.has(e.device)),
    };
  }

  /** A KeyPackage we may add: suite 1, signed, a person-signed Parley credential, not expired. */
  async #usableKeyPackage(kp: KeyPackage): Promise<boolean> {
    if (kp.cipherSuite !== this.#suite.impl.name) return false;
    const leaf = kp.leafNode;
    if (leaf.leafNodeSource !== 'key_package' || leaf.credential.credentialType !== 'basic') {
      return false;
    }
    const parsed = parseCredential(leaf.credential.identity);
    if (parsed === undefined || !verifyCredential(parsed, leaf.signaturePublicKey)) return false;
    const now = BigInt(Math.floor(Date.now() / 1000));
    if (leaf.lifetime.notBefore > now || leaf.lifetime.notAfter < now) return false;
    try {
      return await verifyKeyPackage(kp, this.#suite.impl.signature);
    } catch {
      return false;
    }
  }

  #checkGroup(groupId: Uint8Array): void {
    if (!equalBytes(groupId, this.#state.groupContext.groupId)) {
      throw new E2eeError('wrong-group', 'a message of another group');
    }
  }

  #requireActive(): void {
    if (!this.active) throw new E2eeError('not-in-group', 'this device was removed from the group');
  }

  #with(state: ClientState): RoomGroup {
    return new RoomGroup(this.#suite, this.#device, this.#pins, state);
  }

  /** For diagnostics: the reference of a KeyPackage, as the Welcome names it. */
  static async keyPackageRef(suite: MlsSuite, kp: KeyPackage): Promise<string> {
    return hex(await makeKeyPackageRef(kp, suite.impl.hash));
  }
}

/**
 * Our own Parley key's person key is known for certain: it is pinned (over whatever pin is
 * there) before any leaf of the group is seen. Otherwise a ghost device the host slips in under
 * our own key, vouched for by a person key of the host's making, would be pinned as ours on first
 * sight, and our real devices flagged as the changed ones; now the ghost is the one flagged.
 * The pin is set in memory at once; a failed write is retried at the next group.
 */
function pinSelf(pins: PersonPins, device: DeviceIdentity): void {
  const key = encodeBase64Url(device.parleyKey);
  const person = encodeBase64Url(device.personKey);
  if (pins.check(key, person) !== 'same') pins.accept(key, person).catch(() => undefined);
}

function decodeMessage(data: string): MLSMessage {
  const bytes = data.length <= MAX_MLS_TEXT ? decodeBase64Url(data) : undefined;
  if (bytes === undefined) throw new E2eeError('malformed', 'not base64url MLS data');
  let decoded: ReturnType<typeof decodeMlsMessage>;
  try {
    decoded = decodeMlsMessage(bytes, 0);
  } catch {
    decoded = undefined;
  }
  if (decoded === undefined || decoded[1] !== bytes.length || decoded[0].version !== MLS_VERSION) {
    throw new E2eeError('malformed', 'not an MLS message');
  }
  return decoded[0];
}

function encodeMessage(message: MLSMessage): string {
  return encodeBase64Url(encodeMlsMessage(message));
}

/** ts-mls's errors as E2eeError reasons; their messages carry no secrets but we do not pass them on. */
async function mapErrors<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof E2eeError) throw error;
    throw new E2eeError(reasonOf(error), describe(error));
  }
}

function reasonOf(error: unknown): E2eeFailure {
  const text = error instanceof Error ? error.message : '';
  if (/gen in the past/i.test(text)) return 'replay';
  if (/credential/i.test(text)) return 'bad-credential';
  if (/epoch/i.test(text)) return 'wrong-epoch';
  if (/senderdata|PrivateMessageContent/i.test(text)) return 'tampered';
  if (error instanceof CryptoVerificationError || error instanceof CryptoError) return 'tampered';
  if (error instanceof CodecError) return 'malformed';
  if (error instanceof ValidationError) return 'malformed';
  if (error instanceof MlsError) return 'malformed';
  // Not ts-mls's: the AEAD (WebCrypto's OperationError, noble's "invalid tag") refused the bytes.
  return 'tampered';
}

function describe(error: unknown): string {
  // ts-mls's messages name the check that failed (e.g. "Signature invalid"), never key material.
  return error instanceof MlsError ? `MLS: ${error.message}` : 'MLS: decryption failed';
}
