import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { fileURLToPath } from 'node:url';
import { decodeBase64Url, encodeBase64Url } from '../../../src-shared/base64url.ts';
import { fingerprint } from '../../../src-shared/fingerprint.ts';
import type { KeyPair } from '../../../src-main/protocol/crypto/crypto-backend.ts';
import type { HostMessage } from '../../../src-main/protocol/wire/messages.ts';
import { newKeyPair } from '../loopback.ts';
import { type ModelConnection, openModelConnection } from './model-connection.ts';
import {
  type ConnState,
  FIRST_NICKS,
  type HostModel,
  MODEL_LIMITS,
  PRIVATE_ROOM,
  type Role,
  SLOT_KEYS,
  messageKey,
  wellFormed,
} from './model.ts';

const HOST_SCRIPT = fileURLToPath(new URL('./host-process.ts', import.meta.url));

/** A model invariant the host broke. The message says what, after which step. */
export class ModelViolation extends Error {
  override name = 'ModelViolation';
}

/** What the test really holds for one connection, and what it has seen on it so far. */
export interface Tracked {
  readonly slot: number;
  readonly key: number;
  readonly generation: number;
  readonly label: string;
  readonly conn: ModelConnection;
  /** Messages before this index have been checked. */
  cursor: number;
  /** Rooms as this connection's own messages say (`joined` … `left`). */
  readonly rooms: Set<string>;
  /** Room → key → nickname, from `members` pages and `presence`: what a client would show. */
  readonly views: Map<string, Map<string, string>>;
  /** Live (not history) `msg` received, per model message key. */
  readonly live: Map<string, number>;
  /**
   * Where this connection got a `room` about PRIVATE_ROOM in this step (and no `removed`
   * after it): the key must see the room at the end of the step, or it was shown to one who
   * may not.
   */
  roomInfoAt: number | undefined;
  /** Indexes of `error` messages a command expected. */
  readonly claimed: Set<number>;
}

export interface StoredRow {
  readonly seq: number;
  readonly room: string;
  readonly key: number;
  readonly id: string;
  readonly nick: string;
  readonly text: string;
  /** A room event's row (who joined an open room): in the timeline, no one's message. */
  readonly event?: boolean;
}

interface Delivery {
  readonly message: string;
  readonly seq: number;
  readonly recipients: readonly Tracked[];
}

/** The real side of the model test: a host process, the connections, the host's database. */
export class HostWorld {
  readonly keyPairs: KeyPair[] = FIRST_NICKS.map(() => newKeyPair());
  readonly keyTexts = this.keyPairs.map((k) => encodeBase64Url(k.publicKey));
  readonly fingerprints = this.keyPairs.map((k) => fingerprint(k.publicKey));
  readonly slots: (Tracked | undefined)[] = [];
  /** Closed connections whose last messages are still to be checked. */
  readonly #retired: Tracked[] = [];
  readonly rows = new Map<number, StoredRow>();
  readonly #rowByMessage = new Map<string, number>();
  /** History file → the last seq read from it. */
  readonly #lastSeq = new Map<string, number>();
  #deliveries: Delivery[] = [];
  /** Key → the presence events its departure may show as, during the current step. */
  readonly departures = new Map<number, readonly string[]>();
  /** Message key → the connection whose send was acknowledged (it must not get the msg back). */
  readonly ackedBy = new Map<string, Tracked>();
  readonly stats = new Map<string, number>();
  /** PRIVATE_ROOM's invites the host printed at its starts, oldest first. */
  readonly startInvites: { readonly role: Role; readonly token: string }[] = [];
  #invitesHanded = 0;
  steps = 0;
  /** The host's history, read-only: one file, or each node's replica of a cluster. */
  #history: HistoryFile[] = [];

  readonly dataDir: string;
  /** Everything every host process of this run wrote on stderr. */
  readonly stderr: string[];
  #host: ModelHost;
  readonly #spawn: ModelHostSpawner;

  private constructor(dataDir: string, stderr: string[], host: ModelHost, spawn: ModelHostSpawner) {
    this.dataDir = dataDir;
    this.stderr = stderr;
    this.#host = host;
    this.#spawn = spawn;
    this.startInvites.push(...host.invites);
    this.#openHistory();
  }

  /** What the operator hands out: the invites printed at the starts so far, to the model. */
  syncInvites(model: HostModel): void {
    for (; this.#invitesHanded < this.startInvites.length; this.#invitesHanded++) {
      const invite = this.startInvites[this.#invitesHanded];
      if (!invite) continue;
      model.invites.push({
        token: invite.token,
        role: invite.role,
        // The owner invite is for one person; the member invite for anyone, always.
        usesLeft: invite.role === 'owner' ? 1 : null,
        revoked: false,
      });
    }
  }

  get child(): ChildProcessWithoutNullStreams {
    return this.#host.child;
  }
  get port(): number {
    return this.#host.port;
  }
  get hostKey(): Uint8Array {
    return this.#host.hostKey;
  }

  /** A world on a host process of its own (default), or on what `spawn` starts (a cluster). */
  static async start(spawn: ModelHostSpawner = spawnHost): Promise<HostWorld> {
    const dataDir = mkdtempSync(join(tmpdir(), 'parley-host-model-'));
    const stderr: string[] = [];
    return new HostWorld(dataDir, stderr, await spawn(dataDir, stderr), spawn);
  }

  /** Reads the host's history read-only, as the host writes it (WAL: readers see commits). */
  #openHistory(): void {
    const given = this.#host.historyFiles;
    const files = given ?? [join(this.dataDir, 'history.sqlite')];
    this.#history = files.map((file) => {
      // A cluster's replica keeps its journal in memory, not a WAL: a reader waits out the
      // node's turn (its write lock) instead of failing with "database is locked".
      const db = new DatabaseSync(
        file,
        given ? { readOnly: true, timeout: 5000 } : { readOnly: true },
      );
      const newRows = db.prepare(
        'SELECT seq, room, sender_key, client_msg_id, nick, text, event FROM messages WHERE seq > ? ORDER BY seq',
      );
      return { file, db, newRows, count: db.prepare('SELECT count(*) AS n FROM messages') };
    });
  }

  #closeHistory(): void {
    for (const history of this.#history) history.db.close();
    this.#history = [];
  }

  /**
   * Stops the host — SIGTERM (every client told `shutdown`, exit code 0) or SIGKILL (a crash) —
   * and starts it again on the same folder: same key, same history, same nickname owners.
   */
  async restart(how: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    const { child, halt } = this.#host;
    if (halt) {
      const problem = await halt(how);
      if (problem !== undefined) this.fail(problem);
    } else {
      const exited = once(child, 'exit');
      child.kill(how);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
      if (how === 'SIGTERM' && child.exitCode !== 0) {
        this.fail(`the host exited with ${child.exitCode} (${child.signalCode}) on SIGTERM`);
      }
    }
    this.#closeHistory();
    const key = this.hostKey;
    this.#host = await this.#spawn(this.dataDir, this.stderr);
    this.startInvites.push(...this.#host.invites);
    if (encodeBase64Url(this.hostKey) !== encodeBase64Url(key)) {
      this.fail('the host came back with another key');
    }
    this.#openHistory();
  }

  /** Ends the host (SIGTERM, then SIGKILL) and removes its folder. */
  async stop(): Promise<void> {
    for (const t of this.slots) t?.conn.drop();
    this.#closeHistory();
    if (this.#host.halt) await this.#host.halt('SIGTERM');
    else if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = once(this.child, 'exit');
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  count(what: string): void {
    this.stats.set(what, (this.stats.get(what) ?? 0) + 1);
  }

  keyIndex(keyText: string): number {
    return this.keyTexts.indexOf(keyText);
  }

  fail(message: string): never {
    throw new ModelViolation(`after step ${this.steps}: ${message}`);
  }

  hostAlive(): boolean {
    if (this.#host.alive) return this.#host.alive();
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Fails with the host's exit and the end of its log when the process is gone. */
  assertHostAlive(): void {
    if (this.hostAlive()) return;
    this.fail(
      `the host process exited (code ${this.child.exitCode}, signal ${this.child.signalCode}). ` +
        `Its stderr ends:\n${this.stderr.slice(-15).join('\n')}`,
    );
  }

  async connect(model: HostModel, slot: number, nick: string): Promise<Tracked> {
    const key = SLOT_KEYS[slot];
    if (key === undefined) throw new Error(`no slot ${slot}`);
    const keyPair = this.keyPairs[key];
    if (!keyPair) throw new Error(`no key ${key}`);
    const generation = model.nextGeneration();
    const label = `c${slot}#${generation}(k${key})`;
    let conn: ModelConnection;
    try {
      const port = this.#host.portFor?.(slot) ?? this.port;
      conn = await openModelConnection(port, this.hostKey, keyPair, nick, label);
    } catch (error) {
      await this.#waitForExit();
      this.assertHostAlive();
      this.fail(`${label} could not connect: ${(error as Error).message}`);
    }
    const tracked: Tracked = {
      slot,
      key,
      generation,
      label,
      conn,
      cursor: 0,
      rooms: new Set(),
      views: new Map(),
      live: new Map(),
      claimed: new Set(),
      roomInfoAt: undefined,
    };
    this.slots[slot] = tracked;
    return tracked;
  }

  /** The connection is over (as the model expects): its remaining messages are still checked. */
  retire(slot: number): void {
    const tracked = this.slots[slot];
    if (!tracked) return;
    this.slots[slot] = undefined;
    this.#retired.push(tracked);
  }

  tracked(conn: ConnState): Tracked {
    const tracked = this.slots[conn.slot];
    if (!tracked || tracked.generation !== conn.generation) {
      throw new Error(`slot ${conn.slot} holds no connection #${conn.generation}`);
    }
    return tracked;
  }

  /** Every other connection in the room must get this message live, exactly once. */
  expectDelivery(model: HostModel, message: string, seq: number, from: Tracked, room: string) {
    const recipients = model
      .open()
      .filter((c) => c.rooms.has(room) && c.slot !== from.slot)
      .map((c) => this.tracked(c));
    this.#deliveries.push({ message, seq, recipients });
  }

  /** Reads rows stored since the last look and checks each against what was sent. */
  refreshHistory(model: HostModel): void {
    if (this.#history.length === 0) throw new Error('no database');
    for (const history of this.#history) {
      let lastSeq = this.#lastSeq.get(history.file) ?? 0;
      for (const row of history.newRows.all(lastSeq)) {
        const seq = Number(row['seq']);
        const keyText = encodeBase64Url(row['sender_key'] as Uint8Array);
        const key = this.keyIndex(keyText);
        const id = String(row['client_msg_id']);
        const stored: StoredRow = {
          seq,
          room: String(row['room']),
          key,
          id,
          nick: String(row['nick']),
          text: String(row['text']),
          ...(row['event'] !== null ? { event: true } : {}),
        };
        lastSeq = Math.max(lastSeq, seq);
        // A cluster's replicas each hold the history: what one showed first, the others repeat.
        const known = this.rows.get(seq);
        if (known) {
          if (JSON.stringify(known) !== JSON.stringify(stored)) {
            this.fail(`${history.file} holds another row as seq ${seq} than the host's other copy`);
          }
          continue;
        }
        if (stored.event) {
          // The model's rooms are open: a key's first join makes it a member, with a room event.
          this.rows.set(seq, stored);
          continue;
        }
        const mk = messageKey(key, id);
        const sent = model.sent.get(mk);
        if (key < 0 || !sent) this.fail(`history holds a message nobody sent: seq ${seq} id ${id}`);
        const earlier = this.#rowByMessage.get(mk);
        if (earlier !== undefined) {
          this.fail(`message ${mk} is stored twice in history: seq ${earlier} and seq ${seq}`);
        }
        if (stored.room !== sent.room) {
          this.fail(`message ${mk} is stored in "${stored.room}", sent to "${sent.room}"`);
        }
        if (model.refused.has(mk)) {
          this.fail(`message ${mk} was refused, yet stored as seq ${seq}`);
        }
        if (stored.text !== wellFormed(sent.text)) {
          this.fail(`message ${mk} (seq ${seq}) is stored with a text other than the one sent`);
        }
        this.rows.set(seq, stored);
        this.#rowByMessage.set(mk, seq);
      }
      this.#lastSeq.set(history.file, lastSeq);
    }
    // Each copy holds what the others do up to where it has got: the most complete one, all.
    const total = Math.max(...this.#history.map((h) => Number(h.count.get()?.['n'])));
    if (total !== this.rows.size) {
      this.fail(`history holds ${total} messages, ${this.rows.size} were seen stored`);
    }
    for (const [mk, acked] of model.acked) {
      const seq = this.#rowByMessage.get(mk);
      if (seq === undefined) {
        this.fail(`acknowledged message ${mk} (seq ${acked.seq}) is not in history`);
      }
      if (seq !== acked.seq) {
        this.fail(`acknowledged message ${mk} was acked as seq ${acked.seq}, stored as ${seq}`);
      }
    }
  }

  storedSeq(key: number, id: string): number | undefined {
    return this.#rowByMessage.get(messageKey(key, id));
  }

  /** The room's stored messages, oldest first. */
  roomRows(room: string): StoredRow[] {
    return [...this.rows.values()].filter((r) => r.room === room).sort((a, b) => a.seq - b.seq);
  }

  /**
   * After every step: the host is alive and answers every connection; everything each
   * connection received is checked; the acknowledged messages are in history exactly once and
   * reached every member present exactly once; every connection's member list matches.
   */
  async settle(model: HostModel): Promise<void> {
    this.assertHostAlive();
    await this.#barrier(model);
    this.refreshHistory(model);
    for (const tracked of [...this.#retired, ...this.slots]) {
      if (tracked) this.#check(model, tracked);
    }
    this.#retired.length = 0;
    for (const delivery of this.#deliveries) {
      for (const r of delivery.recipients) {
        const n = r.live.get(delivery.message) ?? 0;
        if (n !== 1) {
          this.fail(
            `${r.label} was in the room when message ${delivery.message} (seq ${delivery.seq}) ` +
              `was acknowledged, and received it ${n} times`,
          );
        }
      }
    }
    this.#deliveries = [];
    // Presence may be coalesced by the host: give a member list a moment to catch up.
    for (let attempt = 0; ; attempt++) {
      const mismatch = this.#memberMismatch(model);
      if (mismatch === undefined) break;
      if (attempt >= 20) this.fail(mismatch);
      await new Promise((resolve) => setTimeout(resolve, 100));
      await this.#barrier(model);
      for (const tracked of this.slots) if (tracked) this.#check(model, tracked);
    }
    this.departures.clear();
  }

  async #barrier(model: HostModel): Promise<void> {
    const open = model.open().map((c) => this.tracked(c));
    const results = await Promise.allSettled(open.map((t) => t.conn.barrier()));
    const unexpected = open.filter((t) => t.conn.closeInfo);
    if (unexpected.length > 0) await this.#waitForExit();
    this.assertHostAlive();
    for (const t of unexpected) {
      const info = t.conn.closeInfo;
      this.fail(`the host closed ${t.label} unexpectedly: ${info?.code} ${info?.reason ?? ''}`);
    }
    results.forEach((result, i) => {
      if (result.status === 'rejected') {
        this.fail(`the host stopped answering ${open[i]?.label}: ${String(result.reason)}`);
      }
    });
  }

  /** When a connection ended oddly: if the host died, say that rather than what the client saw. */
  async settleHostExit(): Promise<void> {
    await this.#waitForExit();
    this.assertHostAlive();
  }

  async #waitForExit(): Promise<void> {
    if (!this.hostAlive()) return;
    await Promise.race([once(this.child, 'exit'), new Promise((r) => setTimeout(r, 2000))]);
  }

  /** Checks, in order, every message the connection received since the last look. */
  #check(model: HostModel, t: Tracked): void {
    const { received, undecodable } = t.conn;
    if (undecodable.length > 0) {
      this.fail(`${t.label} received a message that fails the schema: ${undecodable[0]}`);
    }
    for (; t.cursor < received.length; t.cursor++) {
      const m = received[t.cursor] as HostMessage;
      const inRoom = (room: string) => {
        if (!t.rooms.has(room)) {
          this.fail(`${t.label} received "${m.t}" of room "${room}", which it is not in`);
        }
      };
      switch (m.t) {
        case 'joined':
          t.rooms.add(m.room);
          t.views.set(m.room, new Map());
          break;
        case 'left':
          inRoom(m.room);
          t.rooms.delete(m.room);
          t.views.delete(m.room);
          break;
        case 'members': {
          inRoom(m.room);
          const view = t.views.get(m.room);
          // Members not in the room now are listed too (online: false); the view is who is in.
          for (const member of m.members) {
            if (member.online !== false) view?.set(member.key, member.nick);
          }
          break;
        }
        case 'event': {
          inRoom(m.room);
          if (!this.rows.get(m.seq)?.event) {
            this.fail(`${t.label} received event seq ${m.seq}, which history does not hold`);
          }
          // One removed, banned or parted leaves without presence: the live event says it (a
          // replayed one is the past, and the member list was sent after it).
          const gone = m.history
            ? undefined
            : m.action === 'removed' || m.action === 'banned'
              ? m.target
              : m.action === 'left'
                ? m.actor
                : undefined;
          if (gone) t.views.get(m.room)?.delete(gone.key);
          break;
        }
        case 'rooms': // checked by Connect, against the model as it was then
          break;
        case 'room':
          if (m.info.room === PRIVATE_ROOM) t.roomInfoAt ??= t.cursor;
          break;
        case 'removed': {
          if (m.room !== PRIVATE_ROOM) this.fail(`${t.label} was removed from "${m.room}"`);
          if (model.roles.has(t.key)) {
            this.fail(`${t.label} got "removed" (${m.reason}) from "${m.room}", still a member`);
          }
          t.rooms.delete(m.room);
          t.views.delete(m.room);
          t.roomInfoAt = undefined;
          break;
        }
        case 'redeemed':
        case 'invite':
        case 'invites':
        case 'done':
          break;
        case 'synced':
        case 'history-end':
        case 'ack':
          inRoom(m.room);
          break;
        case 'presence': {
          inRoom(m.room);
          const view = t.views.get(m.room);
          const key = this.keyIndex(m.key);
          if (key < 0 || m.fp !== this.fingerprints[key]) {
            this.fail(`${t.label} got presence of an unknown key or a wrong fingerprint`);
          }
          if (m.event === 'joined') view?.set(m.key, m.nick);
          else if (m.event === 'renamed') view?.set(m.key, m.newNick ?? m.nick);
          else {
            view?.delete(m.key);
            const allowed = this.departures.get(key);
            if (allowed && !allowed.includes(m.event)) {
              this.fail(`${t.label} saw k${key} go as "${m.event}", expected ${allowed.join('|')}`);
            }
          }
          break;
        }
        case 'typing': {
          inRoom(m.room);
          const key = this.fingerprints.indexOf(m.fp);
          if (!model.typers.has(`${key}/${m.room}`)) {
            this.fail(`${t.label} was told k${key} is typing in "${m.room}"; it never typed there`);
          }
          break;
        }
        case 'msg': {
          inRoom(m.room);
          const key = this.keyIndex(m.key);
          const mk = messageKey(key, m.id);
          const row = this.rows.get(m.seq);
          if (!row || messageKey(row.key, row.id) !== mk) {
            this.fail(`${t.label} received msg ${mk} as seq ${m.seq}, which history does not hold`);
          }
          if (m.text !== row.text) {
            this.fail(
              `${t.label} received msg ${mk} (seq ${m.seq}, ${m.history ? 'history' : 'live'}) ` +
                `with a text other than the one in history (live and stored text differ)`,
            );
          }
          // Since wire v5 a msg names its sender by key alone (no fp): the key is the row's above.
          if (m.room !== row.room || m.from !== row.nick) {
            this.fail(`${t.label} received msg ${mk} with a room or sender not stored`);
          }
          if (!m.history) {
            const n = (t.live.get(mk) ?? 0) + 1;
            t.live.set(mk, n);
            if (n > 1) this.fail(`${t.label} received msg ${mk} (seq ${m.seq}) live ${n} times`);
            if (this.ackedBy.get(mk) === t) {
              this.fail(`${t.label} sent ${mk} and received it back as a msg`);
            }
          }
          break;
        }
        case 'error':
          if (!t.claimed.has(t.cursor)) {
            this.fail(`${t.label} got an error no request explains: ${m.code} "${m.message}"`);
          }
          break;
        case 'nick': {
          // Confirmed to this connection only (the others get `presence` `renamed`).
          const own = this.keyTexts[t.key] ?? '';
          for (const view of t.views.values()) if (view.has(own)) view.set(own, m.nick);
          break;
        }
        case 'welcome':
        case 'ping':
        case 'pong':
          break;
      }
    }
    if (t.roomInfoAt !== undefined && !model.visible(t.key, PRIVATE_ROOM)) {
      this.fail(
        `${t.label} was told about "${PRIVATE_ROOM}" (item ${t.roomInfoAt}); k${t.key} may not see it`,
      );
    }
    t.roomInfoAt = undefined;
  }

  #memberMismatch(model: HostModel): string | undefined {
    for (const conn of model.open()) {
      const t = this.tracked(conn);
      const want = [...conn.rooms].sort().join(',');
      const got = [...t.rooms].sort().join(',');
      if (want !== got) return `${t.label} is in rooms [${got}], the model says [${want}]`;
      for (const room of conn.rooms) {
        const expected = [...model.members(room)]
          .map(([key, nick]) => `k${key}:${nick}`)
          .sort()
          .join(' ');
        const actual = [...(t.views.get(room) ?? new Map<string, string>())]
          .map(([keyText, nick]) => `k${this.keyIndex(keyText)}:${nick}`)
          .sort()
          .join(' ');
        if (expected !== actual) {
          return `${t.label}'s member list of "${room}" is [${actual}], the model says [${expected}]`;
        }
      }
    }
    return undefined;
  }
}

/**
 * The host the model runs against. spawnHost's is one process; a cluster
 * (test/integration/cluster/cluster-model.test.ts) brings its own: where each connection goes,
 * the copies of history it keeps, and what its restart stops.
 */
export interface ModelHost {
  /** The host's process (a cluster's first node). */
  readonly child: ChildProcessWithoutNullStreams;
  readonly port: number;
  readonly hostKey: Uint8Array;
  /** PRIVATE_ROOM's invites printed at this start. */
  readonly invites: readonly { readonly role: Role; readonly token: string }[];
  /** The port a connection in `slot` goes to (default: `port`). */
  readonly portFor?: (slot: number) => number;
  /** The SQLite files that each hold the host's history (default: <data dir>/history.sqlite). */
  readonly historyFiles?: readonly string[];
  /** Whether the host runs (default: `child` has not exited). */
  readonly alive?: () => boolean;
  /**
   * Stops the host as restart(how) and stop() must — every connection ends with it — and
   * resolves once it is down, with what went wrong if a SIGTERM did not stop it cleanly
   * (default: `child` gets the signal).
   */
  readonly halt?: (how: 'SIGTERM' | 'SIGKILL') => Promise<string | undefined>;
}

/** Starts the host on the folder (again, after a restart), its log lines going to `stderr`. */
export type ModelHostSpawner = (dataDir: string, stderr: string[]) => Promise<ModelHost>;

interface HistoryFile {
  readonly file: string;
  readonly db: DatabaseSync;
  readonly newRows: StatementSync;
  readonly count: StatementSync;
}

/** Starts host-process.ts on the folder and waits for its port and key. */
async function spawnHost(dataDir: string, stderr: string[]): Promise<ModelHost> {
  const child = spawn(process.execPath, [HOST_SCRIPT, dataDir, JSON.stringify(MODEL_LIMITS)], {
    stdio: 'pipe',
  });
  const stdout: string[] = [];
  for (const [stream, lines] of [
    [child.stdout, stdout],
    [child.stderr, stderr],
  ] as const) {
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      lines.push(...parts);
    });
  }
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      clearInterval(poll);
      reject(new Error(`the host did not start within 20 s:\n${stderr.join('\n')}`));
    }, 20_000);
    const poll = setInterval(() => {
      const port = stdout.find((l) => l.startsWith('listening '));
      const key = stdout.find((l) => l.startsWith('key '));
      if (child.exitCode !== null) {
        clearInterval(poll);
        clearTimeout(timer);
        reject(new Error(`the host exited at start:\n${stderr.join('\n')}`));
      } else if (port && key) {
        clearInterval(poll);
        clearTimeout(timer);
        const hostKey = decodeBase64Url(key.slice(4));
        const invites = stdout.flatMap((line) => {
          const [word, , role, link] = line.split(' ');
          const token = /[?&]invite=([A-Za-z0-9_-]{24})/.exec(link ?? '')?.[1];
          if (word !== 'invite' || !token) return [];
          return [{ role: role as Role, token }];
        });
        if (hostKey) resolve({ child, port: Number(port.slice(10)), hostKey, invites });
        else reject(new Error(`the host printed an unreadable key: ${key}`));
      }
    }, 20);
  });
}
