// One load-generator thread: it owns a share of the benchmark's connections (senders and
// receivers), decrypts everything they receive, and reports counts and a latency histogram.
// bench/run.ts drives it with request/response messages. A connection speaks Parley's protocol
// (bench/wire.ts) or IRC to the ngircd baseline (bench/irc-wire.ts: every PRIVMSG line parsed,
// as every Parley record is decrypted); the flow control and the clock are the same for both.
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import type { KeyPair } from '../src-main/protocol/crypto/crypto-backend.ts';
import { selectBackend } from '../src-main/protocol/crypto/select-backend.ts';
import { Histogram } from './histogram.ts';
import {
  type IrcConnection,
  PRIVMSG,
  commandIs,
  connectIrc,
  joinIrc,
  trailingStart,
} from './irc-wire.ts';
import { type BenchCipher, type BenchConnection, connectBench } from './wire.ts';

export type LoadProtocol = 'parley' | 'irc';

export interface WorkerInit {
  readonly id: number;
  readonly workers: number;
  /** Float64 slots per worker: [delivered, sent] — read by every worker for flow control. */
  readonly shared: SharedArrayBuffer;
  readonly keys: KeyPair[];
}

export interface ConnectionSpec {
  readonly index: number;
  readonly room: string | null;
  readonly sender: boolean;
  /** Parley (the default) or IRC (`room` is then the channel `#<room>`). */
  readonly protocol?: LoadProtocol;
  /** The port to connect to instead of the target's: one node of a cluster (bench/cluster.ts). */
  readonly port?: number;
}

export interface RunOptions {
  readonly mode: 'saturate' | 'fixed';
  readonly members: number;
  readonly runId: string;
  readonly textBytes: number;
  /**
   * saturate: unacknowledged messages per sender, and receivers' average lag, in messages. IRC has
   * no acknowledgement: its senders are bounded by the receivers' lag alone (sending in turn, so
   * that one sender does not take the whole budget); run.ts sets `lagLimit` for both.
   */
  readonly window: number;
  readonly lagLimit: number;
  /** fixed: messages per second from each sender, senders spread evenly over the interval. */
  readonly ratePerSec: number;
  readonly senders?: number;
  /**
   * Also time each message from its send to its ack (Parley only): the report's `ackHistogram`.
   * Off unless asked, so the sections that do not show it cost the load threads nothing more.
   */
  readonly timeAcks?: boolean;
}

export interface Report {
  readonly deliveries: number;
  readonly records: number;
  readonly sent: number;
  readonly acks: number;
  readonly histogram: { counts: Float64Array; max: number };
  /** Send → ack times of this thread's senders, with `timeAcks`. */
  readonly ackHistogram?: { counts: Float64Array; max: number };
  readonly closes: string[];
}

type Command =
  | { cmd: 'ready' }
  | {
      cmd: 'target';
      port: number;
      hostKey: Uint8Array;
      cipher: BenchCipher;
      protocol?: LoadProtocol;
    }
  | { cmd: 'open'; specs: ConnectionSpec[]; concurrency: number }
  | { cmd: 'run'; options: RunOptions }
  | { cmd: 'measure' }
  | { cmd: 'report' }
  | { cmd: 'halt' }
  | { cmd: 'closeAll' }
  | { cmd: 'handshakes'; durationMs: number; concurrency: number; fresh: boolean; keyFrom: number };

const init = workerData as WorkerInit;
const shared = new Float64Array(init.shared);
const backend = selectBackend();
const DELIVERED = 0;
const SENT = 1;
const SLOTS = 2;

// One clock for every thread and process on the machine: CLOCK_MONOTONIC (what hrtime reads),
// in milliseconds. performance.now() is the same clock with a per-thread origin.
const clockOffset = Number(process.hrtime.bigint()) / 1e6 - performance.now();
const now = (): number => performance.now() + clockOffset;

let target:
  { port: number; hostKey: Uint8Array; cipher: BenchCipher; protocol: LoadProtocol } | undefined;

type Member = {
  readonly spec: ConnectionSpec;
  inflight: number;
  counter: number;
  /** fixed mode: when this sender's next message is due (ms, CLOCK_MONOTONIC). */
  nextAt: number;
  /** With `timeAcks`: send times by message counter (mod SENT_SLOTS), for the ack latency. */
  sentAt?: Float64Array;
} & (
  | { readonly protocol: 'parley'; readonly connection: BenchConnection }
  | { readonly protocol: 'irc'; readonly connection: IrcConnection }
);

const members: Member[] = [];
const senders: Member[] = [];
const histogram = new Histogram();
const ackHistogram = new Histogram();
/** More than any sender window (run.ts caps windows at 1024 messages in flight). */
const SENT_SLOTS = 4096;
let measuring = false;
let deliveries = 0; // since 'measure'
let totalDelivered = 0; // since 'run' (flow control)
let totalSent = 0;
let acks = 0;
let closes: string[] = [];
let running: RunOptions | undefined;
let retryArmed = false;
let fixedTimer: NodeJS.Timeout | undefined;

const T = 0x74; // `{"t":"` puts the type's first letter at offset 6
const CH = { m: 0x6d, a: 0x61, p: 0x70, i: 0x69, w: 0x77, s: 0x73, y: 0x79, tilde: 0x7e };

function isType(record: Uint8Array, start: number, first: number, second: number): boolean {
  return record[start + 2] === T && record[start + 6] === first && record[start + 7] === second;
}

/** Reads the send time the sender put in the text as `~<ms>~`; NaN if absent. */
function sendTime(record: Uint8Array, start: number, end: number): number {
  let i = record.indexOf(CH.tilde, start);
  if (i < 0 || i >= end) return NaN;
  i++;
  let value = 0;
  let c = record[i] ?? 0;
  while (c >= 0x30 && c <= 0x39) {
    value = value * 10 + (c - 0x30);
    c = record[++i] ?? 0;
  }
  if (c === 0x2e) {
    let scale = 0.1;
    c = record[++i] ?? 0;
    while (c >= 0x30 && c <= 0x39) {
      value += (c - 0x30) * scale;
      scale /= 10;
      c = record[++i] ?? 0;
    }
  }
  return value;
}

function answerPing(connection: BenchConnection, record: Uint8Array, start: number, end: number) {
  const ping = JSON.parse(Buffer.from(record.subarray(start, end)).toString()) as { n: number };
  connection.queueJson(`{"t":"pong","n":${ping.n}}`);
}

/** The steady-state handler: count deliveries, time them, take acks, answer pings. */
function runHandler(member: Member, connection: BenchConnection) {
  return (record: Uint8Array, start: number, end: number): void => {
    const first = record[start + 6];
    if (first === CH.m && record[start + 7] === CH.s) {
      totalDelivered++;
      if (measuring) {
        deliveries++;
        const sent = sendTime(record, start, end);
        if (sent === sent) histogram.record(now() - sent);
      }
    } else if (first === CH.a) {
      member.inflight--;
      acks++;
      if (measuring && member.sentAt) timeAck(member.sentAt, record, start, end);
    } else if (first === CH.p && record[start + 7] === CH.i) {
      answerPing(connection, record, start, end);
    }
  };
}

/** The IRC receive handler: count and time each PRIVMSG (JOIN/QUIT lines of others pass by). */
function ircRunHandler() {
  return (line: Uint8Array, start: number, end: number): void => {
    if (!commandIs(line, start, end, PRIVMSG)) return;
    totalDelivered++;
    if (measuring) {
      deliveries++;
      // From the trailing text: the prefix `nick!~user@host` has a tilde of its own.
      const text = trailingStart(line, start, end);
      const sent = text < 0 ? NaN : sendTime(line, text, end);
      if (sent === sent) histogram.record(now() - sent);
    }
  };
}

/**
 * The ack names the message (`"id":"bench-<run>-<index>-<counter>"`): its counter finds the send
 * time, so acks that come out of order (or a duplicate) are timed right all the same.
 */
function timeAck(sentAt: Float64Array, record: Uint8Array, start: number, end: number): void {
  const ack = JSON.parse(Buffer.from(record.subarray(start, end)).toString()) as { id?: string };
  const counter = Number(ack.id?.slice(ack.id.lastIndexOf('-') + 1));
  if (!Number.isSafeInteger(counter)) return;
  const sent = sentAt[counter % SENT_SLOTS] ?? NaN;
  if (sent === sent) ackHistogram.record(now() - sent);
}

function publish(): void {
  shared[init.id * SLOTS + DELIVERED] = totalDelivered;
  shared[init.id * SLOTS + SENT] = totalSent;
}

/**
 * Receivers, on average, are at most `lagLimit` messages behind what was sent. This thread's own
 * counts are read live (the shared slots lag until the next publish), so a sender that checks
 * before each message never overshoots the bound by what it just sent.
 */
function lagAllows(options: RunOptions): boolean {
  let sent = totalSent;
  let delivered = totalDelivered;
  for (let w = 0; w < init.workers; w++) {
    if (w === init.id) continue;
    delivered += shared[w * SLOTS + DELIVERED] ?? 0;
    sent += shared[w * SLOTS + SENT] ?? 0;
  }
  const receivers = options.members - 1;
  return sent * receivers - delivered <= options.lagLimit * receivers;
}

let padding = '';

function sendOne(member: Member, options: RunOptions): void {
  const stamp = `~${now().toFixed(3)}~`;
  if (padding.length !== options.textBytes - stamp.length) {
    padding = 'x'.repeat(Math.max(0, options.textBytes - stamp.length));
  }
  member.counter++;
  totalSent++;
  if (member.protocol === 'irc') {
    member.connection.queueLine(`PRIVMSG #${member.spec.room ?? ''} :${stamp}${padding}`);
    return;
  }
  member.inflight++;
  if (member.sentAt) member.sentAt[member.counter % SENT_SLOTS] = now();
  member.connection.queueJson(
    `{"t":"send","room":"${member.spec.room ?? ''}","id":"bench-${options.runId}-${member.spec.index}-${member.counter}","text":"${stamp}${padding}"}`,
  );
}

let ircTurn = 0;
let ircBlocked = false;

/** IRC senders, in turn, one message each, while the receivers' lag allows. */
function pumpIrc(options: RunOptions): void {
  ircBlocked = false;
  let idle = 0;
  while (idle < senders.length) {
    if (!lagAllows(options)) {
      ircBlocked = true;
      armRetry();
      break;
    }
    const sender = senders[ircTurn++ % senders.length] as Member;
    if (sender.connection.closed) {
      idle++;
      continue;
    }
    idle = 0;
    sendOne(sender, options);
  }
  publish();
}

function pump(member: Member): void {
  const options = running;
  if (!options || options.mode !== 'saturate' || member.connection.closed) return;
  if (member.protocol === 'irc') {
    pumpIrc(options);
    return;
  }
  while (member.inflight < options.window) {
    if (!lagAllows(options)) {
      armRetry();
      break;
    }
    sendOne(member, options);
  }
  publish();
}

function armRetry(): void {
  if (retryArmed) return;
  retryArmed = true;
  setTimeout(() => {
    retryArmed = false;
    for (const sender of senders) pump(sender);
  }, 1);
}

/**
 * Each sender at `ratePerSec` on a fixed schedule (late ticks catch up, so the offered load does
 * not sag when the machine is busy). Sender i of S starts i/S of an interval late: ten senders at
 * 10 msg/s make one message every 10 ms, as people talking independently would, not ten at once.
 */
function startFixedRate(options: RunOptions): void {
  const interval = 1000 / options.ratePerSec;
  const spread = Math.max(1, options.senders ?? 1);
  const start = now();
  for (const sender of senders)
    sender.nextAt = start + ((sender.spec.index % spread) / spread) * interval;
  const tick = (): void => {
    if (running !== options) return;
    let next = Infinity;
    for (const sender of senders) {
      while (sender.nextAt <= now()) {
        if (!sender.connection.closed) sendOne(sender, options);
        sender.nextAt += interval;
      }
      next = Math.min(next, sender.nextAt);
    }
    publish();
    fixedTimer = setTimeout(tick, Math.max(0, next - now()));
  };
  tick();
}

async function openIrc(spec: ConnectionSpec): Promise<void> {
  if (!target) throw new Error('no target');
  const connection = await connectIrc({ port: spec.port ?? target.port, nick: `k${spec.index}` });
  try {
    if (spec.room !== null) await joinIrc(connection, `#${spec.room}`);
  } catch (error) {
    connection.close();
    throw error;
  }
  const member: Member = { spec, protocol: 'irc', connection, inflight: 0, counter: 0, nextAt: 0 };
  connection.onClose = (reason) => {
    if (closes.length < 20) closes.push(`irc ${reason}`);
  };
  connection.onLine = ircRunHandler();
  connection.afterData = () => {
    publish();
    // A sender also hears the others' messages: refill then. A receiver in a thread with senders
    // (IRC senders get no acks) wakes them when the lag bound had stopped them.
    if (running?.mode === 'saturate' && (spec.sender || ircBlocked) && senders.length > 0) {
      pumpIrc(running);
    }
  };
  members.push(member);
  if (spec.sender) senders.push(member);
}

async function openOne(spec: ConnectionSpec): Promise<void> {
  if (!target) throw new Error('no target');
  if ((spec.protocol ?? 'parley') !== target.protocol) throw new Error('protocol mismatch');
  if (target.protocol === 'irc') return openIrc(spec);
  const keyPair = init.keys[spec.index];
  if (!keyPair) throw new Error(`no key ${spec.index}`);
  const connection = await connectBench({
    port: spec.port ?? target.port,
    hostKey: target.hostKey,
    keyPair,
    nick: `k${spec.index}`,
    cipher: target.cipher,
    backend,
  });
  const member: Member = {
    spec,
    protocol: 'parley',
    connection,
    inflight: 0,
    counter: 0,
    nextAt: 0,
  };
  await new Promise<void>((resolve, reject) => {
    let welcomed = false;
    connection.onClose = (reason) => reject(new Error(reason));
    connection.onItem = (record, start, end) => {
      if (!welcomed && isType(record, start, CH.w, 0x65)) {
        welcomed = true;
        if (spec.room === null) resolve();
        else connection.queueJson(`{"t":"join","room":"${spec.room}"}`);
      } else if (isType(record, start, CH.s, CH.y)) {
        resolve();
      } else if (isType(record, start, CH.p, CH.i)) {
        answerPing(connection, record, start, end);
      }
    };
  });
  connection.onClose = (reason) => {
    if (closes.length < 20) closes.push(reason);
  };
  connection.onItem = runHandler(member, connection);
  connection.afterData = () => {
    if (member.spec.sender) pump(member);
    else publish();
  };
  members.push(member);
  if (spec.sender) senders.push(member);
}

async function pool<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>) {
  let next = 0;
  const errors: string[] = [];
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const item = items[next++] as T;
        try {
          await work(item);
        } catch (error) {
          if (errors.length < 10) errors.push((error as Error).message);
        }
      }
    }),
  );
  return errors;
}

/** Connect, complete Noise XX and the hello, wait for `welcome`, say goodbye; again and again. */
async function handshakes(command: Extract<Command, { cmd: 'handshakes' }>) {
  if (!target) throw new Error('no target');
  const deadline = now() + command.durationMs;
  const latency = new Histogram();
  let completed = 0;
  let failed = 0;
  let serial = 0;
  const errors: string[] = [];
  const loop = async (slot: number): Promise<void> => {
    while (now() < deadline) {
      const began = now();
      const n = serial++;
      // A returning user is one of the 1000 this thread opened in the warm-up (key i in thread
      // i % workers): its key is imported already, as in a real client, which imports its own
      // key once per process — not once per connection.
      const own = Math.floor(1000 / init.workers);
      const k = command.keyFrom + init.id + init.workers * ((slot * 7919 + n) % own);
      const keyPair = command.fresh ? backend.generateKeyPair() : (init.keys[k] as KeyPair);
      const nick = command.fresh ? `h${init.id}x${n}r${Math.floor(Math.random() * 1e6)}` : `k${k}`;
      try {
        if (!target) return;
        const connection = await connectBench({
          port: target.port,
          hostKey: target.hostKey,
          keyPair,
          nick,
          cipher: target.cipher,
          backend,
        });
        await new Promise<void>((resolve, reject) => {
          connection.onClose = (reason) => reject(new Error(reason));
          connection.onItem = (record, start) => {
            if (isType(record, start, CH.w, 0x65)) resolve();
          };
        });
        if (now() <= deadline) {
          completed++;
          latency.record(now() - began);
        }
        connection.onClose = () => undefined;
        connection.close();
      } catch (error) {
        failed++;
        if (errors.length < 5) errors.push((error as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: command.concurrency }, (_, slot) => loop(slot)));
  return { completed, failed, errors, histogram: latency.snapshot() };
}

async function handle(command: Command): Promise<unknown> {
  switch (command.cmd) {
    case 'ready':
      return {};
    case 'target':
      target = {
        port: command.port,
        hostKey: command.hostKey,
        cipher: command.cipher,
        protocol: command.protocol ?? 'parley',
      };
      return {};
    case 'open': {
      const began = now();
      const errors = await pool(command.specs, command.concurrency, openOne);
      return { errors, ms: now() - began };
    }
    case 'run': {
      running = command.options;
      totalDelivered = 0;
      totalSent = 0;
      shared[init.id * SLOTS + DELIVERED] = 0;
      shared[init.id * SLOTS + SENT] = 0;
      closes = [];
      for (const sender of senders) {
        sender.sentAt =
          running.timeAcks && sender.protocol === 'parley'
            ? new Float64Array(SENT_SLOTS).fill(NaN)
            : undefined;
      }
      ircTurn = 0;
      ircBlocked = false;
      if (running.mode === 'saturate') for (const sender of senders) pump(sender);
      else if (senders.length > 0) startFixedRate(running);
      return {};
    }
    case 'measure':
      histogram.reset();
      ackHistogram.reset();
      deliveries = 0;
      acks = 0;
      for (const member of members) member.connection.records = 0;
      measuring = true;
      return {};
    case 'report': {
      let records = 0;
      for (const member of members) records += member.connection.records;
      const report: Report = {
        deliveries,
        records,
        sent: totalSent,
        acks,
        histogram: histogram.snapshot(),
        ...(running?.timeAcks ? { ackHistogram: ackHistogram.snapshot() } : {}),
        closes,
      };
      return report;
    }
    case 'halt': {
      running = undefined;
      measuring = false;
      if (fixedTimer) clearTimeout(fixedTimer);
      const deadline = now() + 10_000;
      while (senders.some((s) => s.inflight > 0 && !s.connection.closed) && now() < deadline) {
        await new Promise((r) => setTimeout(r, 5));
      }
      return { unacked: senders.reduce((sum, s) => sum + Math.max(0, s.inflight), 0) };
    }
    case 'closeAll': {
      for (const member of members) {
        member.connection.onClose = () => undefined;
        member.connection.close();
      }
      members.length = 0;
      senders.length = 0;
      return {};
    }
    case 'handshakes':
      return handshakes(command);
  }
}

parentPort?.on('message', (message: { id: number; command: Command }) => {
  handle(message.command).then(
    (result) => parentPort?.postMessage({ id: message.id, result }),
    (error: unknown) =>
      parentPort?.postMessage({ id: message.id, error: (error as Error).stack ?? String(error) }),
  );
});
