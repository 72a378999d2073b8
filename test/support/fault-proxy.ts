import net, { type AddressInfo, type Socket } from 'node:net';
import { once } from 'node:events';
import type { KeyPair } from '../../src-main/protocol/crypto/crypto-backend.ts';
import { initiateChannel } from '../../src-main/protocol/client-handshake.ts';
import { acceptChannel } from '../../src-main/protocol/host-handshake.ts';
import type { SecureChannel } from '../../src-main/protocol/secure-channel.ts';
import { concatBytes } from '../../src-shared/bytes.ts';

/**
 * A fault-injection TCP proxy on 127.0.0.1 for tests: a hostile network between a client and
 * a host. Each direction of each connection is cut into units — the first line (preface or
 * status line), then frames (`u16 length ‖ body`) — which a test may drop, alter, duplicate,
 * hold back and replay, or reorder; the bytes that leave may then be split into 1-byte writes,
 * coalesced, delayed, truncated (the connection is cut) or black-holed (silently dropped while
 * the connection stays open). `startMitmProxy` is the man in the middle with its own key.
 */

export type Direction = 'toHost' | 'toClient';

/** One unit of a direction's stream, as it was sent (before any fault). */
export interface Unit {
  readonly connection: number;
  readonly direction: Direction;
  /** `line` is the preface (toHost) or the status line (toClient); everything after is frames. */
  readonly kind: 'line' | 'frame';
  /** Frames are numbered from 0 per direction: toHost 0 = msg 1, 1 = msg 3; toClient 0 = msg 2. */
  readonly index: number;
  /** The unit's bytes on the wire (a frame's 2-byte length prefix included). */
  readonly wire: Uint8Array;
}

/** Decides what leaves in place of a unit: nothing (drop), it, an altered copy, several. */
export type UnitRewriter = (unit: Unit) => Uint8Array[];

export interface Shaping {
  /** Write in pieces of this many bytes, one event-loop turn apart. */
  readonly splitInto?: number;
  /** Hold output and write all of it at once, this long after the first byte waits. */
  readonly coalesceMs?: number;
  /** Forward each piece this much later (order is kept). */
  readonly delayMs?: number;
  /** Forward this many bytes, then cut both sockets (no end-of-session ever arrives). */
  readonly truncateAfter?: number;
  /** Forward this many bytes, then drop everything while keeping the connection open. */
  readonly blackholeAfter?: number;
}

export interface FaultPlan {
  readonly rewrite?: UnitRewriter;
  readonly toHost?: Shaping;
  readonly toClient?: Shaping;
}

export interface ProxyConnection {
  readonly id: number;
  /** Bytes that arrived at the proxy from each side, as sent. */
  readonly received: Record<Direction, Uint8Array[]>;
  /** Bytes the proxy wrote on, after faults; and how many writes that took. */
  readonly forwarded: Record<Direction, { bytes: number; writes: number }>;
  readonly closed: Promise<void>;
  /** Cuts both sockets now: a truncation, no goodbye. */
  cut(): void;
}

export interface FaultProxy {
  readonly port: number;
  readonly connections: ProxyConnection[];
  /** Plans are looked up per connection when it opens, so a test may change them between. */
  plan: (connection: number) => FaultPlan;
  received(direction: Direction): Uint8Array;
  close(): Promise<void>;
}

const MAX_LINE = 4096;

/** Splits one direction's stream into units, whatever the reads look like. */
class UnitParser {
  readonly #connection: number;
  readonly #direction: Direction;
  #buffer: Uint8Array = new Uint8Array(0);
  #seenLine = false;
  #raw = false;
  #index = 0;

  constructor(connection: number, direction: Direction) {
    this.#connection = connection;
    this.#direction = direction;
  }

  push(chunk: Uint8Array): Unit[] {
    this.#buffer = concatBytes(this.#buffer, chunk);
    const units: Unit[] = [];
    for (;;) {
      if (this.#raw) {
        // Not our protocol (no line end in sight): pass bytes through as anonymous frames.
        if (this.#buffer.length > 0) units.push(this.#unit('frame', this.#buffer));
        this.#buffer = new Uint8Array(0);
        return units;
      }
      if (!this.#seenLine) {
        const end = this.#buffer.indexOf(0x0a);
        if (end === -1) {
          if (this.#buffer.length > MAX_LINE) this.#raw = true;
          else return units;
          continue;
        }
        this.#seenLine = true;
        units.push(this.#unit('line', this.#buffer.subarray(0, end + 1)));
        this.#buffer = this.#buffer.slice(end + 1);
        continue;
      }
      if (this.#buffer.length < 2) return units;
      const length = (this.#buffer[0]! << 8) | this.#buffer[1]!;
      if (this.#buffer.length < 2 + length) return units;
      units.push(this.#unit('frame', this.#buffer.subarray(0, 2 + length)));
      this.#buffer = this.#buffer.slice(2 + length);
    }
  }

  /** Whatever is left when the sender hangs up (an incomplete frame) goes out as is. */
  rest(): Uint8Array {
    const rest = this.#buffer;
    this.#buffer = new Uint8Array(0);
    return rest;
  }

  #unit(kind: 'line' | 'frame', wire: Uint8Array): Unit {
    return {
      connection: this.#connection,
      direction: this.#direction,
      kind,
      index: kind === 'line' ? -1 : this.#index++,
      wire: wire.slice(),
    };
  }
}

/** Writes one direction's output with the shaping asked for, strictly in order. */
class Outlet {
  readonly #to: Socket;
  readonly #shaping: Shaping;
  readonly #stats: { bytes: number; writes: number };
  readonly #cut: () => void;
  readonly #queue: { bytes: Uint8Array; at: number }[] = [];
  #running = false;
  #ending = false;
  #sent = 0;

  constructor(
    to: Socket,
    shaping: Shaping,
    stats: { bytes: number; writes: number },
    cut: () => void,
  ) {
    this.#to = to;
    this.#shaping = shaping;
    this.#stats = stats;
    this.#cut = cut;
  }

  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.#queue.push({ bytes, at: Date.now() });
    if (!this.#running) this.#run().catch(() => undefined);
  }

  /** The sender hung up: pass that on once everything queued is written. */
  end(): void {
    this.#ending = true;
    if (!this.#running) this.#run().catch(() => undefined);
  }

  async #run(): Promise<void> {
    this.#running = true;
    while (this.#queue.length > 0) {
      const first = this.#queue[0]!;
      const wait =
        first.at + (this.#shaping.delayMs ?? 0) + (this.#shaping.coalesceMs ?? 0) - Date.now();
      if (wait > 0) await sleep(wait);
      let bytes: Uint8Array;
      if (this.#shaping.coalesceMs !== undefined) {
        bytes = concatBytes(...this.#queue.splice(0).map((q) => q.bytes));
      } else {
        bytes = this.#queue.shift()!.bytes;
      }
      if (!(await this.#write(bytes))) {
        this.#queue.length = 0;
        break;
      }
    }
    this.#running = false;
    if (this.#ending && this.#queue.length === 0 && !this.#to.destroyed) this.#to.end();
  }

  /** Returns false once the connection is cut or black-holed. */
  async #write(bytes: Uint8Array): Promise<boolean> {
    let out = bytes;
    const { truncateAfter, blackholeAfter } = this.#shaping;
    const limit = Math.min(truncateAfter ?? Infinity, blackholeAfter ?? Infinity);
    const over = this.#sent + out.length > limit;
    if (over) out = out.subarray(0, Math.max(0, limit - this.#sent));
    const size = this.#shaping.splitInto ?? out.length;
    for (let offset = 0; offset < out.length; offset += size) {
      // The other side may have hung up meanwhile: then there is nobody to write to.
      if (this.#to.destroyed || !this.#to.writable) return false;
      const piece = out.subarray(offset, offset + size);
      try {
        this.#to.write(piece);
      } catch {
        return false;
      }
      this.#stats.bytes += piece.length;
      this.#stats.writes++;
      this.#sent += piece.length;
      if (this.#shaping.splitInto !== undefined) await nextTurn();
    }
    if (over) {
      if (truncateAfter !== undefined && this.#sent >= truncateAfter) {
        // Let the bytes already written leave before both sockets are cut.
        await sleep(20);
        this.#cut();
      }
      return false;
    }
    return true;
  }
}

export async function startFaultProxy(
  targetPort: number,
  plan: (connection: number) => FaultPlan = () => ({}),
): Promise<FaultProxy> {
  const connections: ProxyConnection[] = [];
  const sockets = new Set<Socket>();
  const proxy: FaultProxy = {
    port: 0,
    connections,
    plan,
    received: (direction) => concatBytes(...connections.flatMap((c) => c.received[direction])),
    async close() {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
  const server = net.createServer({ noDelay: true }, (client) => {
    const id = connections.length;
    const faults = proxy.plan(id);
    const host = net.connect({ port: targetPort, host: '127.0.0.1', noDelay: true });
    sockets.add(client).add(host);
    const cut = () => {
      client.destroy();
      host.destroy();
    };
    const connection: ProxyConnection = {
      id,
      received: { toHost: [], toClient: [] },
      forwarded: { toHost: { bytes: 0, writes: 0 }, toClient: { bytes: 0, writes: 0 } },
      closed: Promise.all([once(client, 'close'), once(host, 'close')]).then(() => undefined),
      cut,
    };
    connections.push(connection);
    const pipe = (from: Socket, to: Socket, direction: Direction) => {
      const parser = new UnitParser(id, direction);
      const outlet = new Outlet(to, faults[direction] ?? {}, connection.forwarded[direction], cut);
      from.on('data', (chunk: Buffer) => {
        connection.received[direction].push(new Uint8Array(chunk));
        for (const unit of parser.push(chunk)) {
          for (const bytes of faults.rewrite ? faults.rewrite(unit) : [unit.wire])
            outlet.push(bytes);
        }
      });
      from.on('end', () => {
        outlet.push(parser.rest());
        outlet.end();
      });
      from.on('error', () => undefined);
      // A hang-up is passed on once the bytes already queued for the other side are written.
      from.on('close', () => outlet.end());
    };
    pipe(client, host, 'toHost');
    pipe(host, client, 'toClient');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return Object.assign(proxy, { port: (server.address() as AddressInfo).port });
}

// ── rewriters ──────────────────────────────────────────────────────────────────────────

export interface FrameTarget {
  readonly direction: Direction;
  /** Frame index in that direction (see Unit.index). */
  readonly index: number;
  /** Only on this connection (default: every connection). */
  readonly connection?: number;
}

const hits = (unit: Unit, target: FrameTarget) =>
  unit.kind === 'frame' &&
  unit.direction === target.direction &&
  unit.index === target.index &&
  (target.connection === undefined || unit.connection === target.connection);

/** Flips one bit of a frame's wire bytes (bit 0..15 are the length prefix). */
export function flipBit(target: FrameTarget, bit: number): UnitRewriter {
  return (unit) => {
    if (!hits(unit, target)) return [unit.wire];
    const forged = unit.wire.slice();
    forged[Math.floor(bit / 8) % forged.length]! ^= 1 << (bit % 8);
    return [forged];
  };
}

export function dropFrame(target: FrameTarget): UnitRewriter {
  return (unit) => (hits(unit, target) ? [] : [unit.wire]);
}

/** Sends the frame twice in a row. */
export function duplicateFrame(target: FrameTarget): UnitRewriter {
  return (unit) => (hits(unit, target) ? [unit.wire, unit.wire] : [unit.wire]);
}

/** Sends the frame again later, right after frame `index + after`. */
export function replayFrame(target: FrameTarget, after: number): UnitRewriter {
  let saved: Uint8Array | undefined;
  return (unit) => {
    if (hits(unit, target)) saved = unit.wire;
    if (saved && hits(unit, { ...target, index: target.index + after })) return [unit.wire, saved];
    return [unit.wire];
  };
}

/** Swaps a frame with the next one in its direction. */
export function swapFrames(target: FrameTarget): UnitRewriter {
  let held: Uint8Array | undefined;
  return (unit) => {
    if (hits(unit, target)) {
      held = unit.wire;
      return [];
    }
    if (held && hits(unit, { ...target, index: target.index + 1 })) return [unit.wire, held];
    return [unit.wire];
  };
}

// ── the man in the middle ──────────────────────────────────────────────────────────────

export interface MitmConnection {
  /** Raw bytes the client sent the MITM: preface + msg 1, and msg 3 only if it trusted us. */
  readonly fromClient: Uint8Array[];
  /** Set once the client's message 3 (its hello) reached the MITM. */
  clientHello: Uint8Array | undefined;
  /** Plaintext the MITM read from each side once both handshakes completed. */
  readonly plaintext: Record<Direction, string[]>;
  readonly done: Promise<void>;
}

export interface MitmProxy {
  readonly port: number;
  readonly publicKey: Uint8Array;
  readonly connections: MitmConnection[];
  close(): Promise<void>;
}

/**
 * Terminates Noise on both sides with its own static key, using the project's own
 * acceptChannel/initiateChannel: to the client it is a host (its own key, the real host's
 * info), to the host a client (the client's hello, its own key). Everything is relayed in
 * plaintext, so a client that accepts the MITM's key is fully exposed — which is exactly what
 * the pin check must prevent.
 */
export async function startMitmProxy(targetPort: number, keyPair: KeyPair): Promise<MitmProxy> {
  const connections: MitmConnection[] = [];
  const sockets = new Set<Socket>();
  const decoder = new TextDecoder();
  const server = net.createServer((client) => {
    client.pause();
    const upstream = net.connect(targetPort, '127.0.0.1');
    // Either side may hang up or reset at any moment (a refusing client does); that is not ours to report.
    client.on('error', () => undefined);
    upstream.on('error', () => undefined);
    sockets.add(client).add(upstream);
    const record: MitmConnection = {
      fromClient: [],
      clientHello: undefined,
      plaintext: { toHost: [], toClient: [] },
      done: Promise.resolve(),
    };
    connections.push(record);
    client.on('data', (chunk: Buffer) => record.fromClient.push(new Uint8Array(chunk)));
    let helloArrived: (hello: Uint8Array) => void = () => undefined;
    let helloFailed: (error: Error) => void = () => undefined;
    const hello = new Promise<Uint8Array>((resolve, reject) => {
      helloArrived = resolve;
      helloFailed = reject;
    });
    let hostInfoArrived: (info: Uint8Array) => void = () => undefined;
    const hostInfo = new Promise<Uint8Array>((resolve) => (hostInfoArrived = resolve));
    let clientHello: Uint8Array | undefined;
    // To the host we are a client: we accept any host key, and say hello with the client's
    // own hello once we have it (read lazily, after the host's message 2 arrived).
    const toHost = initiateChannel(upstream, {
      staticKeyPair: keyPair,
      get hello() {
        return clientHello ?? new Uint8Array(0);
      },
      verifyHost: async (_key, info) => {
        hostInfoArrived(info);
        clientHello = await hello;
      },
    });
    // The client's preface and msg 1 wait (paused) until we can answer with the host's info.
    const toClient = hostInfo.then((info) => {
      const accepted = acceptChannel(client, { staticKeyPair: keyPair, hostInfo: info });
      client.resume();
      return accepted;
    });
    const relay = async (): Promise<void> => {
      let clientSide: SecureChannel;
      try {
        clientSide = await toClient;
      } catch {
        // The client refused our key (or hung up): its hello never existed for us to pass on.
        helloFailed(new Error('the client did not complete the handshake'));
        upstream.destroy();
        return;
      }
      record.clientHello = clientSide.peerPayload;
      helloArrived(clientSide.peerPayload);
      const hostSide = await toHost;
      clientSide.on('message', (m) => {
        record.plaintext.toHost.push(decoder.decode(m));
        hostSide.send(m);
      });
      hostSide.on('message', (m) => {
        record.plaintext.toClient.push(decoder.decode(m));
        clientSide.send(m);
      });
      clientSide.on('close', (info) => hostSide.close(info.code, info.reason));
      hostSide.on('close', (info) => clientSide.close(info.code, info.reason));
      clientSide.start();
      hostSide.start();
    };
    Object.assign(record, { done: relay().catch(() => client.destroy()) });
    toHost.catch(() => client.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    publicKey: keyPair.publicKey,
    connections,
    async close() {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
