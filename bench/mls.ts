// What end-to-end encryption (MLS, RFC 9420, through ts-mls) costs a client, next to what the
// plaintext path costs per message in the same run (docs/benchmarks.md, "End-to-end encryption").
// Everything here is client-side work: the host only relays MLS bytes it cannot read.
//
// - per message: a 200-byte text in Parley's payload envelope, encrypted (createApplicationMessage
//   + encode) by one member and decrypted (decode + processPrivateMessage) by another, on each of
//   Parley's providers (WebCrypto, and the pure noble fallback of src-main/e2ee/noble-provider.ts); the plaintext path is encoding a `send` item and sealing it with the transport
//   cipher, and opening + parsing the `msg` item on the other side.
// - per membership change: one commit adding one device, then one removing it, at N members; the
//   committer's time, and another member's time to process the commit.
// - late join: the added device's processing of its Welcome (the ratchet tree inside) at N.
//
// The credential is a 144-byte basic credential like Parley's; its signature check (one Ed25519
// verification per new leaf, src-main/e2ee) is not in these figures.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import {
  type CiphersuiteImpl,
  type ClientState,
  type KeyPackage,
  type PrivateKeyPackage,
  createApplicationMessage,
  createCommit,
  createGroup,
  decodeMlsMessage,
  defaultCapabilities,
  defaultLifetime,
  emptyPskIndex,
  encodeMlsMessage,
  generateKeyPackage,
  joinGroup,
  processPrivateMessage,
  processPublicMessage,
} from 'ts-mls';
import { type ProviderName, loadSuiteWith } from '../src-main/e2ee/mls-suite.ts';
import { selectBackend } from '../src-main/protocol/crypto/select-backend.ts';
import { CipherState } from '../src-main/protocol/noise/cipher-state.ts';
import { decodeMessage, encodeMessage } from '../src-main/protocol/wire/codec.ts';
import { HostMessage } from '../src-main/protocol/wire/messages.ts';
import { decodeBase64Url, encodeBase64Url } from '../src-shared/base64url.ts';

const TEXT_BYTES = 200;
/** Parley's credential: "PARLEY-DEVICE-V1" ‖ parley key ‖ person key ‖ person signature. */
const CREDENTIAL_BYTES = 144;

/** Parley's two providers (src-main/e2ee/mls-suite.ts): WebCrypto, and the pure noble one. */
export type MlsProvider = ProviderName;

export interface MlsMessageResult {
  provider: MlsProvider;
  /** Means over `messages` messages, in microseconds of CPU time. */
  encryptUs: number;
  decryptUs: number;
  /** The `mls` field's length on the wire (base64url characters) for a 200-byte text. */
  wireChars: number;
  messages: number;
}

export interface PlaintextPathResult {
  backend: string;
  /** Encode a `send {room, id, text}` item + seal it with ChaCha20-Poly1305. */
  sendUs: number;
  /** Open a `msg` item + parse and validate it (JSON + zod). */
  receiveUs: number;
}

export interface MlsGroupResult {
  provider: MlsProvider;
  /** Members in the group once the device is added (before the removal). */
  members: number;
  /** Medians over `rounds` rounds, in milliseconds of CPU time. */
  addCommitMs: number;
  addProcessMs: number;
  removeCommitMs: number;
  removeProcessMs: number;
  joinMs: number;
  /** Sizes on the wire (base64url characters) of the add's commit and its Welcome. */
  addCommitChars: number;
  welcomeChars: number;
  rounds: number;
}

export interface MlsBenchResult {
  plaintext: PlaintextPathResult;
  messages: MlsMessageResult[];
  groups: MlsGroupResult[];
}

interface Member {
  readonly publicPackage: KeyPackage;
  readonly privatePackage: PrivateKeyPackage;
}

/** Parley's suite 1, built as the app builds it, on one provider. */
async function suiteOn(provider: MlsProvider): Promise<CiphersuiteImpl> {
  return (await loadSuiteWith(provider)).impl;
}

function newMember(impl: CiphersuiteImpl): Promise<Member> {
  const credential = { credentialType: 'basic' as const, identity: randomBytes(CREDENTIAL_BYTES) };
  return generateKeyPackage(credential, defaultCapabilities(), defaultLifetime, [], impl);
}

function payload(id: string): Uint8Array {
  return new TextEncoder().encode(
    JSON.stringify({ v: 1, type: 'text', id, text: 'x'.repeat(TEXT_BYTES) }),
  );
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/**
 * CPU time of this process in ms (user + system), not wall time: like the AEAD figures, the cost
 * on one core whatever else the machine runs. WebCrypto's work on libuv's threads counts too.
 */
function cpuNow(): number {
  const used = process.cpuUsage();
  return (used.user + used.system) / 1000;
}

const round1 = (n: number): number => Math.round(n * 10) / 10;
const round2 = (n: number): number => Math.round(n * 100) / 100;

/** A commit's bytes, as a Parley client sends them: a PublicMessage, base64url. */
function wireText(message: Parameters<typeof encodeMlsMessage>[0]): string {
  return encodeBase64Url(encodeMlsMessage(message));
}

function decodeWire(text: string) {
  const bytes = decodeBase64Url(text);
  if (!bytes) throw new Error('not base64url');
  const decoded = decodeMlsMessage(bytes, 0)?.[0];
  if (!decoded) throw new Error('not an MLS message');
  return decoded;
}

/** The plaintext path of one message, per side, on the transport's default cipher. */
export function measurePlaintextPath(durationMs: number): PlaintextPathResult {
  const backend = selectBackend();
  const key = backend.randomBytes(32);
  const sender = new CipherState(backend, 'ChaChaPoly');
  const receiver = new CipherState(backend, 'ChaChaPoly');
  sender.initializeKey(key);
  receiver.initializeKey(key);
  const empty = new Uint8Array(0);
  const text = 'x'.repeat(TEXT_BYTES);
  const item = encodeMessage({
    t: 'msg',
    room: 'lobby',
    seq: 123456,
    id: 'r1s0n123456',
    from: 'alice',
    fp: 'ABCD EFGH IJKL MNOP QRST UVWX YZ23 4567',
    key: 'A'.repeat(43),
    text,
    ts: Date.now(),
  });
  const time = (step: () => void): number => {
    for (let i = 0; i < 1000; i++) step();
    let count = 0;
    const began = performance.now();
    const cpu = cpuNow();
    do {
      for (let i = 0; i < 100; i++) step();
      count += 100;
    } while (performance.now() - began < durationMs);
    return ((cpuNow() - cpu) * 1000) / count;
  };
  let n = 0;
  const sendUs = time(() => {
    sender.encryptWithAd(empty, encodeMessage({ t: 'send', room: 'lobby', id: `m${n++}`, text }));
  });
  // The receiver opens what a sender sealed: pairs of states, so nonces stay in step.
  const sealer = new CipherState(backend, 'ChaChaPoly');
  sealer.initializeKey(key);
  const opener = new CipherState(backend, 'ChaChaPoly');
  opener.initializeKey(key);
  const receiveUs = time(() => {
    const sealed = sealer.encryptWithAd(empty, item);
    decodeMessage(HostMessage, opener.decryptWithAd(empty, sealed));
  });
  // The receive step sealed too: take one seal (measured alone) off.
  const sealUs = time(() => {
    sealer.encryptWithAd(empty, item);
    opener.setNonce(opener.nonce + 1);
  });
  return {
    backend: backend.name,
    sendUs: round2(sendUs),
    receiveUs: round2(Math.max(0, receiveUs - sealUs)),
  };
}

/** Encrypt and decrypt 200-byte texts between two members of a group of 10. */
export async function measureMlsMessages(
  provider: MlsProvider,
  durationMs: number,
): Promise<MlsMessageResult> {
  const impl = await suiteOn(provider);
  const creator = await newMember(impl);
  let alice = await createGroup(
    randomBytes(32),
    creator.publicPackage,
    creator.privatePackage,
    [],
    impl,
  );
  const bob = await newMember(impl);
  const others = await Promise.all(Array.from({ length: 8 }, () => newMember(impl)));
  const added = await createCommit(
    { state: alice, cipherSuite: impl },
    {
      extraProposals: [bob, ...others].map((m) => ({
        proposalType: 'add' as const,
        add: { keyPackage: m.publicPackage },
      })),
      ratchetTreeExtension: true,
      wireAsPublicMessage: true,
    },
  );
  alice = added.newState;
  if (!added.welcome) throw new Error('no welcome');
  let bobState: ClientState = await joinGroup(
    added.welcome,
    bob.publicPackage,
    bob.privatePackage,
    emptyPskIndex,
    impl,
  );
  // Warm up both directions' code paths.
  for (let i = 0; i < 5; i++) {
    const sent = await createApplicationMessage(alice, payload(`w${i}`), impl);
    alice = sent.newState;
    const got = await processPrivateMessage(bobState, sent.privateMessage, emptyPskIndex, impl);
    bobState = got.newState;
  }
  const sent: string[] = [];
  const began = performance.now();
  let cpu = cpuNow();
  do {
    const made = await createApplicationMessage(alice, payload(`m${sent.length}`), impl);
    alice = made.newState;
    sent.push(
      wireText({
        wireformat: 'mls_private_message',
        version: 'mls10',
        privateMessage: made.privateMessage,
      }),
    );
  } while (performance.now() - began < durationMs && sent.length < 5000);
  const encryptUs = ((cpuNow() - cpu) * 1000) / sent.length;
  cpu = cpuNow();
  for (const text of sent) {
    const message = decodeWire(text);
    if (message.wireformat !== 'mls_private_message') throw new Error('not a private message');
    const got = await processPrivateMessage(bobState, message.privateMessage, emptyPskIndex, impl);
    if (got.kind !== 'applicationMessage') throw new Error('not an application message');
    bobState = got.newState;
  }
  const decryptUs = ((cpuNow() - cpu) * 1000) / sent.length;
  return {
    provider,
    encryptUs: round1(encryptUs),
    decryptUs: round1(decryptUs),
    wireChars: sent[0]?.length ?? 0,
    messages: sent.length,
  };
}

/**
 * A group of `members` − 1, then `rounds` times: the creator commits an add of a fresh device
 * (with the Welcome carrying the ratchet tree), a bystander processes it, the device joins from
 * the Welcome; then the creator commits its removal and the bystander processes that.
 */
export async function measureMlsGroup(
  provider: MlsProvider,
  members: number,
  rounds: number,
): Promise<MlsGroupResult> {
  const impl = await suiteOn(provider);
  const creator = await newMember(impl);
  let owner = await createGroup(
    randomBytes(32),
    creator.publicPackage,
    creator.privatePackage,
    [],
    impl,
  );
  const bystander = await newMember(impl);
  const rest = await Promise.all(Array.from({ length: members - 3 }, () => newMember(impl)));
  const setup = await createCommit(
    { state: owner, cipherSuite: impl },
    {
      extraProposals: [bystander, ...rest].map((m) => ({
        proposalType: 'add' as const,
        add: { keyPackage: m.publicPackage },
      })),
      ratchetTreeExtension: true,
      wireAsPublicMessage: true,
    },
  );
  owner = setup.newState;
  if (!setup.welcome) throw new Error('no welcome');
  let watcher: ClientState = await joinGroup(
    setup.welcome,
    bystander.publicPackage,
    bystander.privatePackage,
    emptyPskIndex,
    impl,
  );
  const process = async (commit: string): Promise<void> => {
    const message = decodeWire(commit);
    if (message.wireformat !== 'mls_public_message') throw new Error('not a public message');
    watcher = (await processPublicMessage(watcher, message.publicMessage, emptyPskIndex, impl))
      .newState;
  };
  const times = {
    addCommit: [] as number[],
    addProcess: [] as number[],
    join: [] as number[],
    removeCommit: [] as number[],
    removeProcess: [] as number[],
  };
  let addCommitChars = 0;
  let welcomeChars = 0;
  for (let round = 0; round < rounds; round++) {
    const device = await newMember(impl);
    let t = cpuNow();
    const add = await createCommit(
      { state: owner, cipherSuite: impl },
      {
        extraProposals: [{ proposalType: 'add', add: { keyPackage: device.publicPackage } }],
        ratchetTreeExtension: true,
        wireAsPublicMessage: true,
      },
    );
    const commit = wireText(add.commit);
    if (!add.welcome) throw new Error('no welcome');
    const welcome = wireText({ wireformat: 'mls_welcome', version: 'mls10', welcome: add.welcome });
    times.addCommit.push(cpuNow() - t);
    owner = add.newState;
    addCommitChars = commit.length;
    welcomeChars = welcome.length;

    t = cpuNow();
    await process(commit);
    times.addProcess.push(cpuNow() - t);

    t = cpuNow();
    const decoded = decodeWire(welcome);
    if (decoded.wireformat !== 'mls_welcome') throw new Error('not a welcome');
    const joined = await joinGroup(
      decoded.welcome,
      device.publicPackage,
      device.privatePackage,
      emptyPskIndex,
      impl,
    );
    times.join.push(cpuNow() - t);

    t = cpuNow();
    const remove = await createCommit(
      { state: owner, cipherSuite: impl },
      {
        extraProposals: [
          { proposalType: 'remove', remove: { removed: joined.privatePath.leafIndex } },
        ],
        ratchetTreeExtension: true,
        wireAsPublicMessage: true,
      },
    );
    const removal = wireText(remove.commit);
    times.removeCommit.push(cpuNow() - t);
    owner = remove.newState;

    t = cpuNow();
    await process(removal);
    times.removeProcess.push(cpuNow() - t);
  }
  return {
    provider,
    members,
    addCommitMs: round2(median(times.addCommit)),
    addProcessMs: round2(median(times.addProcess)),
    removeCommitMs: round2(median(times.removeCommit)),
    removeProcessMs: round2(median(times.removeProcess)),
    joinMs: round2(median(times.join)),
    addCommitChars,
    welcomeChars,
    rounds,
  };
}

/** The whole E2EE section: `quick` shortens the windows and the rounds. */
export async function measureMls(
  quick: boolean,
  log: (line: string) => void,
): Promise<MlsBenchResult> {
  const plaintext = measurePlaintextPath(quick ? 200 : 1000);
  log(`  plaintext path: send ${plaintext.sendUs} µs, receive ${plaintext.receiveUs} µs`);
  const messages: MlsMessageResult[] = [];
  const groups: MlsGroupResult[] = [];
  for (const provider of ['webcrypto', 'noble'] as const) {
    const m = await measureMlsMessages(provider, quick ? 500 : 2000);
    log(`  ${provider}: encrypt ${m.encryptUs} µs, decrypt ${m.decryptUs} µs per message`);
    messages.push(m);
  }
  for (const provider of ['webcrypto', 'noble'] as const) {
    for (const members of [10, 100]) {
      const g = await measureMlsGroup(provider, members, quick ? 2 : members === 100 ? 5 : 9);
      log(
        `  ${provider} N=${members}: add ${g.addCommitMs}/${g.addProcessMs} ms, remove ${g.removeCommitMs}/${g.removeProcessMs} ms (commit/process), join ${g.joinMs} ms`,
      );
      groups.push(g);
    }
  }
  return { plaintext, messages, groups };
}
