// An in-memory stand-in for the desktop service, for building the UI without a host: a
// pretend host with a few rooms and people, trust prompts, queued messages and reconnects.
// Only for `dev:web --fake`; the e2e tests run the real service against a real host.
import { randomBytes, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { encodeBase64Url } from '../../src-shared/base64url.ts';
import { fingerprint } from '../../src-shared/fingerprint.ts';
import { parseInvite } from '../../src-shared/invite.ts';
import {
  type EventName,
  type EventPayload,
  type IpcErrorCode,
  type IpcResult,
  type RequestInput,
  type RequestName,
  type RequestOutput,
  requests,
} from '../../src-shared/ipc/contract.ts';
import {
  type AppSnapshot,
  type ChatMessageView,
  type ConnectionState,
  DEFAULT_SETTINGS,
  type MemberView,
  type RecentHost,
  type Settings,
} from '../../src-shared/ipc/domain.ts';
import type { BridgeBackend } from './backend.ts';

interface Person {
  readonly nick: string;
  readonly key: string;
  readonly fp: string;
}

interface FakeRoom {
  joined: boolean;
  unread: number;
  readonly messages: ChatMessageView[];
  readonly members: Map<string, MemberView>;
}

export interface FakeOptions {
  /** Messages of history to invent in the first room (default 80). */
  readonly seed?: number;
  /** People chat and type on their own every few seconds. */
  readonly demo?: boolean;
  readonly now?: () => number;
}

function person(nick: string): Person {
  const key = randomBytes(32);
  return { nick, key: encodeBase64Url(key), fp: fingerprint(key) };
}

const LINES = [
  'Morning! Coffee first, then the release notes.',
  'Did anyone try the new build on Windows yet?',
  'Works here. The tray icon finally shows the unread count 🎉',
  'I pushed the fix for the reconnect loop — see https://example.com/parley/pull/42',
  'Can we keep the invite links short? People paste them into SMS.',
  'Sure. The key is 43 characters, that is the floor.',
  'Lunch at 12:30?',
  "I'll be 10 minutes late, the train is stuck again.",
  'Reminder: compare the host fingerprint over the phone, not in this chat 😉',
  'Here is the agenda:\n1. release\n2. docs\n3. the logo',
  '<img src=x onerror=alert(1)> ← that should show as text, not run',
  'ok',
  'Sounds good to me.',
  'Has anyone seen the design doc? https://example.org/docs/design?v=2',
];

const HOST_KEY = randomBytes(32);
const OTHER_KEY = randomBytes(32);

export class FakeService implements BridgeBackend {
  readonly #events = new EventEmitter();
  readonly #now: () => number;
  readonly #seed: number;
  readonly #demo: boolean;
  #self = person('you');
  readonly #people = ['bob', 'carol', 'dave', 'erin'].map(person);
  readonly #rooms = new Map<string, FakeRoom>();
  readonly #known = new Map<string, string>([['changed.test:7878', fingerprint(HOST_KEY)]]);
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #trust = new Map<string, (trust: boolean) => void>();
  #connection: ConnectionState = { status: 'idle' };
  #settings: Settings = { ...DEFAULT_SETTINGS };
  #recent: RecentHost[] = [];
  #active: string | null = null;
  #seq = 0;
  #demoTimer: NodeJS.Timeout | undefined;

  constructor(options: FakeOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#seed = options.seed ?? 80;
    this.#demo = options.demo ?? false;
  }

  subscribe(listener: (name: EventName, payload: unknown) => void): () => void {
    const handler = (name: EventName, payload: unknown): void => listener(name, payload);
    this.#events.on('event', handler);
    return () => this.#events.off('event', handler);
  }

  async close(): Promise<void> {
    for (const timer of this.#timers) clearTimeout(timer);
    clearTimeout(this.#demoTimer);
  }

  async request(name: RequestName, input: unknown): Promise<IpcResult<unknown>> {
    const parsed = requests[name].input.safeParse(input);
    if (!parsed.success) return this.#fail('invalid-request', parsed.error.issues[0]?.message);
    try {
      // Each handler takes its own input type; the schema above checked it.
      const handler = this.#handlers[name] as (input: unknown) => unknown;
      return { ok: true, value: await handler(parsed.data) };
    } catch (error) {
      if (error instanceof FakeError) return this.#fail(error.code, error.message);
      throw error;
    }
  }

  /** Dev control: the connection drops and comes back after `ms`. */
  simulateDrop(ms = 8000): void {
    if (this.#connection.status !== 'connected') return;
    this.#setConnection({
      ...this.#connection,
      status: 'reconnecting',
      attempt: 1,
      retryAt: this.#now() + ms,
      reason: 'the connection was lost',
    });
    this.#later(ms, () => {
      this.#setConnection({ ...this.#connection, status: 'connecting', retryAt: undefined });
      this.#later(600, () => this.#online());
    });
  }

  readonly #handlers: { [N in RequestName]: (input: RequestInput<N>) => RequestOutput<N> } = {
    getSnapshot: () => this.#snapshot(),
    connect: (input) => {
      if (this.#connection.status !== 'idle' && this.#connection.status !== 'offline') {
        throw new FakeError('refused', 'already connected; disconnect first');
      }
      if ('invite' in input) {
        const invite = parseInvite(input.invite);
        if (!invite.ok) throw new FakeError('invalid-invite', invite.error.message);
        const { host, port, room, hostKey } = invite.value;
        this.#known.set(`${host}:${port}`, fingerprint(hostKey));
        this.#begin(host, port, input.nick, room, 'invite');
        return this.#connection;
      }
      const { host, port, nick } = input;
      const id = `${host}:${port}`;
      this.#begin(host, port, nick, 'lobby', 'known');
      if (host === 'changed.test') {
        this.#later(500, () => {
          this.#emit('hostKeyChanged', {
            host,
            port,
            expectedFingerprint: this.#known.get(id) ?? '',
            actualFingerprint: fingerprint(OTHER_KEY),
          });
          this.#setConnection({
            status: 'idle',
            reason: 'the host presented a different key; nothing was sent',
          });
        });
      } else if (!this.#known.has(id)) {
        const requestId = randomUUID();
        this.#trust.set(requestId, (trust) => {
          if (!trust) {
            this.#setConnection({ status: 'idle', reason: 'you did not trust the host' });
            return;
          }
          this.#known.set(id, fingerprint(HOST_KEY));
          this.#connection = { ...this.#connection, trust: 'first-use' };
          this.#online();
        });
        this.#later(400, () =>
          this.#emit('trustRequired', {
            requestId,
            host,
            port,
            fingerprint: fingerprint(HOST_KEY),
          }),
        );
      }
      return this.#connection;
    },
    disconnect: () => {
      clearTimeout(this.#demoTimer);
      for (const timer of this.#timers) clearTimeout(timer);
      this.#setConnection({ status: 'idle' });
      return {};
    },
    send: ({ room, text }) => {
      const target = this.#joined(room);
      const message: ChatMessageView = {
        room,
        id: randomUUID(),
        from: this.#connection.nick ?? this.#self.nick,
        fp: this.#self.fp,
        key: this.#self.key,
        text,
        ts: this.#now(),
        own: true,
        status: 'queued',
      };
      target.messages.push(message);
      this.#emit('message', message);
      if (this.#connection.status === 'connected') this.#later(120, () => this.#flush());
      return { id: message.id };
    },
    joinRoom: ({ room }) => {
      const target = this.#room(room);
      target.joined = true;
      target.members.set(this.#self.key, this.#member(this.#self, true));
      this.#emitRooms();
      return {};
    },
    leaveRoom: ({ room }) => {
      const target = this.#room(room);
      target.joined = false;
      target.members.delete(this.#self.key);
      this.#emitRooms();
      return {};
    },
    setActiveRoom: ({ room }) => {
      this.#active = room;
      if (room) this.#room(room).unread = 0;
      this.#emitUnread();
      return {};
    },
    loadHistory: ({ room, beforeSeq, limit }) => {
      const all = this.#room(room).messages.filter((m) => m.status !== 'queued');
      const end =
        beforeSeq === undefined ? all.length : all.findIndex((m) => (m.seq ?? 0) >= beforeSeq);
      const stop = end < 0 ? all.length : end;
      const start = Math.max(0, stop - limit);
      const queued = beforeSeq === undefined ? this.#room(room).messages.filter(isQueued) : [];
      return { messages: [...all.slice(start, stop), ...queued], more: start > 0 };
    },
    typing: () => ({}),
    setNick: ({ nick }) => {
      this.#setConnection({ ...this.#connection, nick });
      return {};
    },
    getMembers: ({ room }) => [...this.#room(room).members.values()],
    answerTrust: ({ requestId, trust }) => {
      const answer = this.#trust.get(requestId);
      if (!answer) throw new FakeError('not-found', 'no such trust request');
      this.#trust.delete(requestId);
      answer(trust);
      return {};
    },
    markVerified: ({ key, verified }) => {
      for (const [name, room] of this.#rooms) {
        const member = room.members.get(key);
        if (!member) continue;
        room.members.set(key, { ...member, verified });
        this.#emit('members', { room: name, members: [...room.members.values()] });
      }
      return {};
    },
    getSettings: () => this.#settings,
    updateSettings: (patch) => {
      this.#settings = { ...this.#settings, ...patch };
      this.#emit('settings', this.#settings);
      return this.#settings;
    },
    importAuthority: () => {
      throw new FakeError('invalid-certificate', 'the pretend host has no certificate authorities');
    },
    listAuthorities: () => [],
    removeAuthority: () => {
      throw new FakeError('not-found', 'no such authority');
    },
    openExternal: ({ url }) => {
      if (!/^https?:\/\//i.test(url)) throw new FakeError('refused', 'only http(s) links open');
      console.log(`[fake] would open ${url}`);
      return {};
    },
  };

  #begin(host: string, port: number, nick: string, room: string, trust: 'invite' | 'known'): void {
    if (this.#rooms.size === 0) this.#self = { ...this.#self, nick };
    this.#seedRooms(room);
    this.#active = null;
    this.#setConnection({ status: 'connecting', host, port, nick, trust, attempt: 0 });
    this.#recent = [
      {
        host,
        port,
        nick,
        room,
        fingerprint: this.#known.get(`${host}:${port}`) ?? '',
        lastUsed: this.#now(),
      },
      ...this.#recent.filter((r) => r.host !== host || r.port !== port),
    ].slice(0, 5);
    if (trust === 'invite' || this.#known.has(`${host}:${port}`)) {
      if (host !== 'changed.test') this.#later(700, () => this.#online());
    }
  }

  #online(): void {
    this.#setConnection({
      ...this.#connection,
      status: 'connected',
      hostName: 'Parley demo',
      hostFingerprint: fingerprint(HOST_KEY),
      retryAt: undefined,
      reason: undefined,
      attempt: 0,
    });
    this.#emitRooms();
    for (const [name, room] of this.#rooms) {
      if (room.joined) this.#emit('members', { room: name, members: [...room.members.values()] });
    }
    this.#flush();
    if (this.#demo) this.#scheduleDemo();
  }

  #seedRooms(first: string): void {
    if (this.#rooms.size > 0) return;
    for (const name of [first, 'random', 'release'].filter((n, i, a) => a.indexOf(n) === i)) {
      const room = this.#room(name);
      room.joined = name === first || name === 'release';
      room.members.set(this.#self.key, this.#member(this.#self, true));
      this.#people.forEach((p, i) => room.members.set(p.key, this.#member(p, i < 2)));
    }
    const lobby = this.#room(first);
    let ts = this.#now() - this.#seed * 97_000;
    for (let i = 0; i < this.#seed; i++) {
      ts += 20_000 + ((i * 7919) % 150_000);
      const who = i % 5 === 4 ? this.#self : (this.#people[(i * 3) % 3] ?? this.#self);
      lobby.messages.push({
        room: first,
        id: randomUUID(),
        seq: ++this.#seq,
        from: who.nick,
        fp: who.fp,
        key: who.key,
        text: LINES[i % LINES.length] ?? 'hi',
        ts,
        own: who === this.#self,
        status: 'sent',
        history: true,
      });
    }
    const release = this.#room('release');
    release.unread = 3;
    for (const text of ['v0.2 is tagged', 'Changelog is up', 'Who signs the build?']) {
      const who = this.#people[2] ?? this.#self;
      release.messages.push({
        room: 'release',
        id: randomUUID(),
        seq: ++this.#seq,
        from: who.nick,
        fp: who.fp,
        key: who.key,
        text,
        ts: this.#now() - 60_000,
        own: false,
        status: 'sent',
        history: true,
      });
    }
  }

  #scheduleDemo(): void {
    clearTimeout(this.#demoTimer);
    this.#demoTimer = setTimeout(
      () => {
        if (this.#connection.status !== 'connected') return;
        const joined = [...this.#rooms].filter(([, r]) => r.joined).map(([n]) => n);
        const room = joined[Math.floor(Math.random() * joined.length)] ?? 'lobby';
        const who = this.#people[Math.floor(Math.random() * 2)] ?? this.#self;
        this.#emit('typing', { room, nick: who.nick, fp: who.fp });
        this.#later(2500, () => {
          this.#incoming(room, who, LINES[Math.floor(Math.random() * LINES.length)] ?? 'hi');
          this.#scheduleDemo();
        });
      },
      4000 + Math.random() * 5000,
    );
  }

  /** Dev and test control: someone says something in a room. */
  receive(name: string, nick: string, text: string): void {
    const who = this.#people.find((p) => p.nick === nick) ?? person(nick);
    this.#incoming(name, who, text);
  }

  #incoming(name: string, who: Person, text: string): void {
    const room = this.#room(name);
    const message: ChatMessageView = {
      room: name,
      id: randomUUID(),
      seq: ++this.#seq,
      from: who.nick,
      fp: who.fp,
      key: who.key,
      text,
      ts: this.#now(),
      own: false,
      status: 'sent',
    };
    room.messages.push(message);
    if (this.#active !== name) room.unread += 1;
    this.#emit('message', message);
    this.#emitUnread();
  }

  #flush(): void {
    if (this.#connection.status !== 'connected') return;
    for (const room of this.#rooms.values()) {
      room.messages.forEach((message, i) => {
        if (message.status !== 'queued') return;
        const sent = { ...message, status: 'sent' as const, seq: ++this.#seq, ts: this.#now() };
        room.messages[i] = sent;
        const { id, seq, ts } = sent;
        this.#emit('messageStatus', { room: message.room, id, status: 'sent', seq, ts });
      });
    }
  }

  #snapshot(): AppSnapshot {
    return {
      connection: this.#connection,
      rooms: this.#roomList(),
      settings: this.#settings,
      recentHosts: this.#recent,
    };
  }

  #member(who: Person, online: boolean): MemberView {
    return {
      nick: who.nick,
      fp: who.fp,
      key: who.key,
      online,
      verified: false,
      self: who === this.#self,
    };
  }

  #room(name: string): FakeRoom {
    let room = this.#rooms.get(name);
    if (!room) {
      room = { joined: false, unread: 0, messages: [], members: new Map() };
      this.#rooms.set(name, room);
    }
    return room;
  }

  #joined(name: string): FakeRoom {
    if (this.#connection.status === 'idle') throw new FakeError('not-connected', 'not connected');
    const room = this.#rooms.get(name);
    if (!room?.joined) throw new FakeError('not-found', `not in #${name}`);
    return room;
  }

  #roomList(): AppSnapshot['rooms'] {
    return [...this.#rooms].map(([name, r]) => ({ name, joined: r.joined, unread: r.unread }));
  }

  #emitRooms(): void {
    this.#emit('rooms', this.#roomList());
    this.#emitUnread();
  }

  #emitUnread(): void {
    const counts: Record<string, number> = {};
    let total = 0;
    for (const [name, room] of this.#rooms) {
      counts[name] = room.unread;
      total += room.unread;
    }
    this.#emit('unread', { counts, total });
  }

  #setConnection(state: ConnectionState): void {
    this.#connection = Object.fromEntries(
      Object.entries(state).filter(([, v]) => v !== undefined),
    ) as ConnectionState;
    this.#emit('connectionState', this.#connection);
  }

  #emit<N extends EventName>(name: N, payload: EventPayload<N>): void {
    this.#events.emit('event', name, payload);
  }

  #later(ms: number, run: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      run();
    }, ms);
    this.#timers.add(timer);
  }

  #fail(code: IpcErrorCode, message = 'invalid request'): IpcResult<never> {
    return { ok: false, error: { code, message } };
  }
}

function isQueued(message: ChatMessageView): boolean {
  return message.status === 'queued';
}

class FakeError extends Error {
  readonly code: IpcErrorCode;
  constructor(code: IpcErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
