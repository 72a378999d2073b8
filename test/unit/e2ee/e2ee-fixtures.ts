import { nodeBackend } from '../../../src-main/protocol/crypto/node-backend.ts';
import { deviceFrom, type DeviceIdentity } from '../../../src-main/e2ee/device-identity.ts';
import { memoryE2eeStore, type E2eeStore } from '../../../src-main/e2ee/e2ee-store.ts';
import { makeKeyPackages } from '../../../src-main/e2ee/key-packages.ts';
import {
  loadSuiteWith,
  type MlsSuite,
  type ProviderName,
} from '../../../src-main/e2ee/mls-suite.ts';
import { memoryPersonPins, type PersonPins } from '../../../src-main/e2ee/person-pins.ts';
import { RoomGroup } from '../../../src-main/e2ee/room-group.ts';
import { decodePayload, encodePayload, textPayload } from '../../../src-main/e2ee/payload.ts';
import type { KeyPair } from '../../../src-main/protocol/crypto/crypto-backend.ts';

/** One install of Parley in a test: an identity, a device, its store and its pins. */
export interface Member {
  readonly name: string;
  readonly identity: KeyPair;
  readonly device: DeviceIdentity;
  readonly store: E2eeStore;
  readonly pins: PersonPins;
  readonly suite: MlsSuite;
  group?: RoomGroup;
}

const suites = new Map<ProviderName, Promise<MlsSuite>>();
export function suiteOf(provider: ProviderName = 'webcrypto'): Promise<MlsSuite> {
  let suite = suites.get(provider);
  if (suite === undefined) {
    suite = loadSuiteWith(provider);
    suites.set(provider, suite);
  }
  return suite;
}

export async function member(
  name: string,
  options: { provider?: ProviderName; identity?: KeyPair } = {},
): Promise<Member> {
  const identity = options.identity ?? nodeBackend.generateKeyPair();
  const seed = crypto.getRandomValues(new Uint8Array(32));
  return {
    name,
    identity,
    device: deviceFrom(identity, seed),
    store: memoryE2eeStore(),
    pins: memoryPersonPins(),
    suite: await suiteOf(options.provider),
  };
}

export async function keyPackageOf(m: Member): Promise<string> {
  const [kp] = await makeKeyPackages(m.suite, m.device, m.store, 1);
  return kp!;
}

export async function createRoom(creator: Member): Promise<void> {
  creator.group = await RoomGroup.create(creator.suite, creator.device, creator.pins);
}

/**
 * `committer` adds and removes; the host accepts; every other member in `others` processes the
 * commit; the added ones join from the Welcome. Returns the commit and welcome texts.
 */
export async function commitAndDeliver(
  committer: Member,
  change: { add?: Member[]; remove?: Member[] },
  others: Member[],
): Promise<{ commit: string; welcome?: string; to: string[] }> {
  const adds = await Promise.all((change.add ?? []).map(keyPackageOf));
  const prepared = await committer.group!.prepareCommit({
    add: adds,
    remove: (change.remove ?? []).map((m) => m.device.deviceText),
  });
  committer.group = prepared.next;
  prepared.erase();
  for (const o of others) {
    const processed = await o.group!.process(prepared.commit);
    o.group = processed.next;
  }
  for (const a of change.add ?? []) {
    a.group = await RoomGroup.join(a.suite, a.device, a.pins, a.store, prepared.welcome!);
  }
  return {
    commit: prepared.commit,
    ...(prepared.welcome ? { welcome: prepared.welcome } : {}),
    to: prepared.to,
  };
}

let counter = 0;
export function nextId(): string {
  counter++;
  return `msg-${String(counter).padStart(8, '0')}`;
}

export async function say(from: Member, text: string): Promise<string> {
  const { data, next } = await from.group!.encrypt(encodePayload(textPayload(nextId(), text)));
  from.group = next;
  return data;
}

/** What `to` reads from `data`, adopting its next state. */
export async function read(to: Member, data: string): Promise<{ text: string; from: string }> {
  const processed = await to.group!.process(data);
  if (processed.kind !== 'application') throw new Error('expected an application message');
  to.group = processed.next;
  const payload = decodePayload(processed.payload);
  if (payload?.type !== 'text') throw new Error('expected a text payload');
  return { text: payload.text, from: processed.sender.parleyKey };
}

/** Several members at once, typed as a tuple: `const [a, b] = await members('a', 'b')`. */
export async function members<const N extends readonly string[]>(
  ...names: N
): Promise<{ [K in keyof N]: Member }> {
  return (await Promise.all(names.map((n) => member(n)))) as { [K in keyof N]: Member };
}
