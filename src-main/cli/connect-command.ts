import { join } from 'node:path';
import { type Interface, createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { ChatSession, ChatSessionError } from '../client/chat-session.ts';
import { type TrustPolicy, createHostVerifier } from '../client/host-trust.ts';
import type { OutboxEntry } from '../client/outbox.ts';
import type { SessionFatal } from '../client/session-events.ts';
import { encodeBase64Url } from '../../src-shared/base64url.ts';
import { fingerprint } from '../../src-shared/fingerprint.ts';
import { isValidRoomName } from '../../src-shared/identifiers.ts';
import type { KeyPair } from '../protocol/crypto/crypto-backend.ts';
import { selectBackend } from '../protocol/crypto/select-backend.ts';
import { defaultDataDir } from '../store/app-paths.ts';
import { loadOrCreateKeyPair } from '../store/key-file.ts';
import { KNOWN_HOSTS_FILE, KnownHosts } from '../store/known-hosts.ts';
import { type FileOutboxStore, fileOutboxStore } from '../store/outbox-file.ts';
import { AuthorityStore } from '../trust/authority-store.ts';
import { type ConnectArgs, CONNECT_HELP, parseConnectArgs } from './connect-args.ts';
import { Conversation } from './conversation.ts';
import {
  CONVERSATION_COMMANDS,
  CONVERSATION_HELP,
  runConversationCommand,
} from './conversation-commands.ts';
import { E2EE_HELP, runE2eeCommand } from './e2ee-commands.ts';
import { E2eeWatch } from './e2ee-watch.ts';
import { KnownPeople } from './known-people.ts';
import { type LineE2ee, openLineE2ee } from './line-e2ee.ts';
import {
  addressText,
  certificateProblemLine,
  connectingLine,
  errorLine,
  escapeText,
  inviteRefusedLine,
  keyChangeLine,
  membersLine,
  nickLine,
  presenceLine,
  reconnectingLine,
  redeemedLine,
  removedLine,
  roomAddedLine,
  roomEventLine,
  roomsLine,
  syncedLine,
  systemLine,
  welcomeLine,
} from './line-format.ts';
import {
  CURRENT_ROOM_COMMANDS,
  MEMBERSHIP_HELP,
  runMembershipCommand,
} from './membership-commands.ts';
import { messageLine, sentLine } from './message-lines.ts';
import { EXIT, UsageError } from './usage-error.ts';

export interface ConnectIo {
  readonly stdin: Readable;
  readonly stdout: Writable;
  readonly stderr: Writable;
  /** Whether a person is typing: then an unknown host may be trusted after a y/N question. */
  readonly isTTY: boolean;
  readonly env: NodeJS.ProcessEnv;
  /**
   * At the end of input the client waits for the host to acknowledge every line, for as long
   * as that makes progress: it gives up after this long without any (10 s).
   */
  readonly drainTimeoutMs?: number;
  /** While waiting at the end of input, how often progress goes to stderr (2 s). */
  readonly progressIntervalMs?: number;
  readonly now?: () => number;
  /** Where `/send-file` and `/save` paths start (the process's working directory). */
  readonly cwd?: string;
}

const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;
const DEFAULT_PROGRESS_INTERVAL_MS = 2_000;
/** Input is read no further while this many lines wait for the host: the pipe holds the rest. */
const MAX_WAITING_LINES = 1_000;
/** A host answers alike for a room that does not exist and one the key may not see. */
const NOT_YOURS = 'no such room, or a private one you are not a member of';
const COMMANDS_HELP = [
  'commands: /join ROOM (talk in ROOM), /nick NAME, /quit, /help',
  ...CONVERSATION_HELP,
  ...MEMBERSHIP_HELP,
  ...E2EE_HELP,
  'a line starting with // sends a message starting with /',
];

/** `parley --connect …`: the scriptable line client. Resolves with the process exit code. */
export async function runConnect(argv: string[], io: ConnectIo): Promise<number> {
  let args;
  try {
    args = parseConnectArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr.write(
      `parley --connect: ${error.message}\nRun "parley --connect --help" for the options.\n`,
    );
    return EXIT.usage;
  }
  if (args.help) {
    io.stdout.write(CONNECT_HELP);
    return EXIT.ok;
  }
  const dataDir = args.dataDir ?? defaultDataDir(io.env);
  let identity: KeyPair;
  let knownHosts: KnownHosts;
  let authorities: AuthorityStore;
  let backend;
  const outboxStore = fileOutboxStore(dataDir, args.address);
  let saved: readonly OutboxEntry[];
  let e2ee: LineE2ee | undefined;
  try {
    backend = selectBackend(io.env.PARLEY_CRYPTO_BACKEND);
    identity = await loadOrCreateKeyPair(join(dataDir, 'identity.key'), backend);
    knownHosts = await KnownHosts.load(join(dataDir, KNOWN_HOSTS_FILE));
    authorities = await AuthorityStore.load(dataDir);
    saved = await outboxStore.load();
    // Last: it takes the store's lock, which a failure below would have to give back.
    e2ee = await openLineE2ee(dataDir, identity);
  } catch (error) {
    io.stderr.write(
      `parley --connect: ${error instanceof Error ? error.message : 'cannot start'}\n`,
    );
    return EXIT.failure;
  }
  // An unusable authority file only means trusting less: say so, and go on.
  for (const problem of authorities.problems) {
    io.stderr.write(`parley --connect: warning: skipped an authority: ${escapeText(problem)}\n`);
  }
  if (saved.length > 0) {
    io.stderr.write(
      `parley --connect: ${count(saved.length, 'message')} from an earlier run ` +
        `${saved.length === 1 ? 'waits' : 'wait'} in ${outboxStore.path}; sending ${saved.length === 1 ? 'it' : 'them'} first\n`,
    );
  }
  const client = new LineClient(args, io, knownHosts, outboxStore, e2ee);
  try {
    return await client.run(
      saved,
      new ChatSession({
        address: args.address,
        identity,
        nick: args.nick,
        // The rooms of lines left from an earlier run too, or they could never be sent.
        rooms: [...new Set([args.room, ...saved.map((entry) => entry.room)])],
        ...(args.inviteToken ? { inviteToken: args.inviteToken } : {}),
        outboxStore,
        backend: backend.name,
        e2ee: e2ee.options,
        trust: createHostVerifier({
          address: args.address,
          knownHosts,
          policy: client.trustPolicy(args.trustNewHost),
          authorities,
          ...(args.inviteKey ? { inviteKey: args.inviteKey } : {}),
        }),
      }),
    );
  } finally {
    await e2ee.close();
  }
}

/** Wires one ChatSession to lines: stdin in, events out. */
class LineClient {
  readonly #args: ConnectArgs;
  readonly #io: ConnectIo;
  readonly #knownHosts: KnownHosts;
  readonly #outboxStore: FileOutboxStore;
  readonly #e2ee: LineE2ee | undefined;
  readonly #now: () => number;
  readonly #lines: Interface;
  #room: string;
  /**
   * No room is current since this command (/dm, /create) failed: lines and room commands are
   * refused until `/join`, never sent to the room before.
   */
  #switchFailed: string | undefined;
  /** Input held from the first host command until the start is over (#started), or by #holds. */
  #held: string[] | undefined;
  /**
   * The rooms joined at the start are synced (their members known) and the invite answered:
   * until then host commands wait, so `/kick NICK` or `/members` in a script see who is there.
   */
  #started = false;
  /** Held lines are being read: the end must not come between two of them. */
  #replaying = false;
  /** The invite was answered (redeemed or refused), or there was none. */
  #inviteAnswered: boolean;
  /** Rooms whose join the host refused at the start: the start is over without them. */
  readonly #refusedJoins = new Set<string>();
  /** Commands in flight that choose where the next lines go (/dm, /create): input waits. */
  #holds = 0;
  /** Membership commands waiting for the host: the end of input waits for their lines. */
  #requests = 0;
  /** Checks whether the end of input may finish now (set while it waits). */
  #recheck: () => void = () => undefined;
  /** An exit code decided before the end (no such room), which the end reports as is. */
  #verdict: number | undefined;
  /** Where `/join` came from, to go back if the host has no such room. */
  #previousRoom: string | undefined;
  /** Rooms the host said it does not have: their lines can never be sent. */
  readonly #goneRooms = new Set<string>();
  /** The rooms this key may see (its rooms and the open ones), from the host's list. */
  #visibleRooms: readonly string[] | undefined;
  /** Nicknames seen with their keys, for /kick NICK and the like. */
  readonly #people = new KnownPeople();
  /** What this run heard of end-to-end encryption: lines about changes, keys for /verify. */
  readonly #e2eeWatch = new E2eeWatch(this.#people);
  /** The invite was refused: a refused join of its room says so, not "no such room". */
  #inviteRefused = false;
  /** The room the invite admitted this key to. */
  #redeemedRoom: string | undefined;
  /** Rooms this key was removed from (or parted): lines for them cannot be sent. */
  readonly #removedRooms = new Set<string>();
  #question: ((answer: string | undefined) => void) | undefined;
  #inputEnded = false;
  #inputPaused = false;
  /** Rooms synced on the current connection. */
  readonly #synced = new Set<string>();
  #everConnected = false;
  /** Why the last connection attempt failed or ended, for the final word. */
  #lastProblem: string | undefined;
  #acknowledged = 0;
  /**
   * When the end last came closer: the first welcome, a room's first sync, an acknowledgement.
   * Reconnects and a host that welcomes again and again without acknowledging are not progress.
   */
  #progressAt = 0;
  readonly #everSynced = new Set<string>();
  #refused = 0;
  /** Commands not run: room commands while no room is current. */
  #notRun = 0;
  #ending = false;
  #finished = false;
  #finish: (code: number) => void = () => undefined;
  /** Ends a wait at the end of input (its timers), when the session ends another way first. */
  #stopSettling: () => void = () => undefined;
  /** Files, authors, our reactions and the search index of what this run has seen. */
  #conversation: Conversation | undefined;

  constructor(
    args: ConnectArgs,
    io: ConnectIo,
    knownHosts: KnownHosts,
    outboxStore: FileOutboxStore,
    e2ee?: LineE2ee,
  ) {
    this.#args = args;
    this.#io = io;
    this.#knownHosts = knownHosts;
    this.#outboxStore = outboxStore;
    this.#e2ee = e2ee;
    this.#now = io.now ?? Date.now;
    this.#room = args.room;
    this.#inviteAnswered = args.inviteToken === undefined;
    this.#lines = createInterface({ input: io.stdin, crlfDelay: Infinity, terminal: false });
  }

  trustPolicy(trustNewHost: boolean): TrustPolicy {
    if (trustNewHost || !this.#io.isTTY) return { trustNewHost };
    return {
      confirmNewHost: async (fingerprint, address) => {
        if (this.#inputEnded) return false;
        // Listen before asking: the answer may already be on its way.
        const answer = new Promise<string | undefined>((resolve) => {
          this.#question = resolve;
        });
        this.#io.stderr.write(
          `The host ${addressText(address)} is not known yet. Its key's fingerprint is\n` +
            `  ${fingerprint}\n` +
            'Compare it with the fingerprint the host shows (parley --serve prints it) over a\n' +
            'channel you trust. Trust this host? [y/N] ',
        );
        const reply = await answer;
        return reply !== undefined && /^\s*y(es)?\s*$/i.test(reply);
      },
    };
  }

  /** `saved`: what an earlier run left in the outbox (the session loads it again on start). */
  async run(saved: readonly OutboxEntry[], session: ChatSession): Promise<number> {
    const done = new Promise<number>((resolve) => {
      this.#finish = (code) => {
        if (this.#finished) return;
        this.#finished = true;
        resolve(code);
      };
    });
    this.#conversation = new Conversation(encodeBase64Url(session.publicKey));
    // Lines from an earlier run: once acknowledged they get their `sent` line, and are ours to
    // find and edit too. (session.pending is still empty here: the session loads them on start.)
    for (const entry of saved) this.#conversation.sending(entry);
    this.#watch(session);
    this.#lines.on('line', (line) => this.#line(session, line));
    this.#lines.on('close', () => {
      this.#inputEnded = true;
      this.#answer(undefined);
      void this.#end(session);
    });
    session.start();
    const code = await done;
    this.#stopSettling();
    this.#lines.close();
    session.removeAllListeners();
    this.#conversation.close();
    return code;
  }

  #watch(session: ChatSession): void {
    let announced = false;
    session.on('state', (change) => {
      const now = this.#now();
      if (change.state === 'connecting' && !announced) {
        announced = true;
        this.#out(connectingLine(now, this.#args.address));
      } else if (change.state === 'reconnecting') {
        this.#synced.clear();
        this.#lastProblem = change.reason;
        this.#out(reconnectingLine(now, change));
      }
    });
    session.on('ack', (ack) => {
      // Our own message, now with its seq (once: the session and the conversation each
      // acknowledge an id once, a resend's duplicate ack included).
      const entry = this.#conversation?.acknowledged(ack, session.nick);
      const sent = entry && sentLine(ack, entry);
      if (sent) this.#out(sent);
      this.#acknowledged++;
      this.#progressAt = Date.now();
      this.#resumeInput(session);
    });
    session.on('welcome', (welcome) => {
      if (!this.#everConnected) this.#progressAt = Date.now();
      this.#everConnected = true;
      const now = this.#now();
      this.#out(welcomeLine(now, welcome));
      const keyChange = keyChangeLine(now, welcome);
      if (keyChange) this.#out(keyChange);
      const problem = certificateProblemLine(now, welcome);
      if (problem) this.#out(problem);
    });
    // After each welcome: every room this key may see. The first list is printed, and lets a
    // held `/join` be checked; later, a room that appears (an invite, a DM) gets a line.
    session.on('roomList', ({ rooms }) => {
      const before = this.#visibleRooms;
      this.#visibleRooms = rooms.map((info) => info.room);
      if (before === undefined) this.#out(roomsLine(this.#now(), rooms));
      else {
        for (const info of rooms) {
          // The invite's room was announced by its own line.
          if (info.role && !before.includes(info.room) && info.room !== this.#redeemedRoom) {
            this.#out(roomAddedLine(this.#now(), info));
          }
        }
      }
      for (const info of rooms) if (info.peer) this.#people.note(info.peer);
      this.#checkStarted(session);
    });
    session.on('roomEvent', (event) => {
      if (event.actor) this.#people.note(event.actor);
      if (event.target) this.#people.note(event.target);
      this.#out(roomEventLine(event));
    });
    session.on('removed', (removed) => {
      this.#removedRooms.add(removed.room);
      this.#refused += removed.unsent.length;
      for (const entry of removed.unsent) this.#conversation?.dropped(entry.id);
      // The current room stays current: lines for it are refused, never sent elsewhere.
      this.#out(removedLine(this.#now(), removed));
      this.#checkStarted(session);
    });
    session.on('inviteRefused', (refused) => {
      this.#inviteRefused = true;
      this.#inviteAnswered = true;
      this.#out(inviteRefusedLine(this.#now(), refused));
      this.#checkStarted(session);
    });
    session.on('redeemed', ({ room, role }) => {
      this.#redeemedRoom = room;
      this.#inviteAnswered = true;
      this.#out(redeemedLine(this.#now(), room, role));
      this.#checkStarted(session);
    });
    session.on('message', (message) => {
      this.#conversation?.seen(message);
      const line = messageLine(message);
      if (line !== undefined) this.#out(line);
    });
    session.on('encryption', (state) =>
      this.#outAll(this.#e2eeWatch.encryption(this.#now(), state)),
    );
    session.on('devices', (update) => this.#outAll(this.#e2eeWatch.devices(this.#now(), update)));
    session.on('keyChanged', (change) =>
      this.#outAll(this.#e2eeWatch.keyChanged(this.#now(), change)),
    );
    session.on('presence', (presence) => this.#out(presenceLine(this.#now(), presence)));
    session.on('members', ({ room, members }) => {
      for (const member of members) this.#people.note(member);
      // A join's listing comes before its `synced`: print that one, not every change after.
      if (!this.#synced.has(room)) this.#out(membersLine(this.#now(), room, members));
    });
    session.on('synced', ({ room }) => {
      if (!this.#everSynced.has(room)) this.#progressAt = Date.now();
      this.#everSynced.add(room);
      this.#synced.add(room);
      this.#out(syncedLine(this.#now(), room));
      this.#checkStarted(session);
    });
    session.on('nick', ({ nick }) => this.#out(nickLine(this.#now(), nick)));
    session.on('error', (error) => {
      if (error.dropped) {
        this.#refused++;
        this.#conversation?.dropped(error.dropped.id);
      }
      this.#out(errorLine(this.#now(), error));
      if (error.code === 'unknown-room' && error.room !== undefined) {
        this.#noSuchRoom(session, error.room);
      }
      if (
        error.room !== undefined &&
        !NOT_A_JOIN_REFUSAL.has(error.code) &&
        !this.#synced.has(error.room)
      ) {
        // A join refused for good: the start waits for it no longer.
        this.#refusedJoins.add(error.room);
      }
      this.#checkStarted(session);
    });
    session.on('fatal', (fatal) => {
      this.#io.stderr.write(this.#describeFatal(fatal));
      void this.#keepUnsent(session).finally(() => this.#finish(exitCodeOf(fatal)));
    });
  }

  /**
   * The session saves its outbox on the way out; this save queues behind it, so the process
   * ends only once the unsent lines are on disk, and says where they are.
   */
  async #keepUnsent(session: ChatSession): Promise<void> {
    const left = this.#waiting(session).length;
    let outcome = `kept in ${this.#outboxStore.path} for the next run`;
    try {
      await this.#outboxStore.save(session.pending);
    } catch (error) {
      outcome = `and not saved: ${escapeText(error instanceof Error ? error.message : String(error))}`;
    }
    if (left > 0)
      this.#io.stderr.write(`parley --connect: ${count(left, 'message')} not sent; ${outcome}\n`);
  }

  #line(session: ChatSession, line: string, replayed = false): void {
    if (this.#question) return this.#answer(line);
    if ((this.#ending && !replayed) || line === '') return;
    if (this.#held) {
      this.#held.push(line);
      if (this.#held.length >= MAX_WAITING_LINES) this.#pauseInput();
      return;
    }
    if (asksTheHost(line) && !this.#started) {
      // Which rooms exist, and who is in them, is known once the start is over: until then,
      // hold this line and every later one, so none goes to a room that turns out not to
      // exist, no request is refused for being offline and every NICK is known.
      this.#held = [line];
      return;
    }
    if (line.startsWith('/') && !line.startsWith('//')) return this.#command(session, line);
    const text = line.startsWith('//') ? line.slice(1) : line;
    if (this.#switchFailed !== undefined) {
      this.#refused++;
      this.#out(this.#noRoomLine('that message was not sent'));
      return;
    }
    if (this.#removedRooms.has(this.#room) && !session.rooms.includes(this.#room)) {
      this.#refused++;
      this.#out(
        systemLine(
          this.#now(),
          'error not-member: you are no longer a member of this room; that message was not sent (/rooms, /join ROOM)',
          this.#room,
        ),
      );
      return;
    }
    try {
      const id = session.send(this.#room, text);
      const entry = session.pending.find((pending) => pending.id === id);
      if (entry) this.#conversation?.sending(entry);
    } catch (error) {
      this.#refused++; // not sent: the exit code must not say everything went out
      this.#report(error);
      return;
    }
    if (session.pending.length >= MAX_WAITING_LINES) this.#pauseInput();
  }

  /**
   * Holds input until the returned release is called (once). Released with false, `command`
   * failed to switch rooms: no room is current, so the held lines go nowhere.
   */
  #holdInput(session: ChatSession, command: string): (switched: boolean) => void {
    this.#holds++;
    this.#held ??= [];
    let released = false;
    return (switched) => {
      if (released) return;
      released = true;
      this.#holds--;
      if (!switched) this.#switchFailed = command;
      this.#releaseHeld(session);
    };
  }

  /**
   * The start is over once the host's room list is known, the invite answered, and every room
   * joined so far (the one asked for, the rooms with a role, the invite's) synced or refused.
   * Reached once: later reconnects hold nothing.
   */
  #checkStarted(session: ChatSession): void {
    if (this.#started || this.#visibleRooms === undefined || !this.#inviteAnswered) return;
    const done = (room: string) =>
      this.#synced.has(room) || this.#goneRooms.has(room) || this.#refusedJoins.has(room);
    if (this.#redeemedRoom !== undefined && !this.#removedRooms.has(this.#redeemedRoom)) {
      if (!done(this.#redeemedRoom)) return;
    }
    if (!session.rooms.every(done)) return;
    this.#started = true;
    this.#releaseHeld(session);
  }

  /** Reads the held input, once the start is over and no command holds it. */
  #releaseHeld(session: ChatSession): void {
    if (!this.#held || this.#holds > 0 || !this.#started) return;
    const held = this.#held;
    this.#held = undefined;
    const outer = !this.#replaying;
    this.#replaying = true;
    try {
      for (const line of held) this.#line(session, line, true);
    } finally {
      if (outer) this.#replaying = false;
    }
    if (!outer) return; // the outer reading goes on, and checks the end after it
    this.#resumeInput(session);
    this.#recheck();
  }

  #pauseInput(): void {
    if (this.#inputPaused) return;
    this.#inputPaused = true;
    this.#lines.pause();
  }

  #resumeInput(session: ChatSession): void {
    if (!this.#inputPaused || this.#held || session.pending.length > MAX_WAITING_LINES / 2) return;
    this.#inputPaused = false;
    this.#lines.resume();
  }

  #command(session: ChatSession, line: string): void {
    const [command = '', ...rest] = line.trim().split(/\s+/);
    const argument = rest.join(' ');
    const now = this.#now();
    const context = {
      session,
      people: this.#people,
      room: this.#room,
      now: this.#now,
      out: (text: string) => this.#out(text),
      talkIn: (room: string) => this.#talkIn(room),
      holdInput: () => this.#holdInput(session, command),
      requestStarted: () => {
        this.#requests++;
        return () => {
          this.#requests--;
          this.#recheck();
        };
      },
    };
    if (
      this.#switchFailed !== undefined &&
      (CURRENT_ROOM_COMMANDS.has(command) || CONVERSATION_COMMANDS.has(command))
    ) {
      this.#notRun++;
      return this.#out(this.#noRoomLine(`${escapeText(command)} was not run`));
    }
    // /topic keeps its text as typed, spaces and all.
    const text = line.trim().slice(command.length).trim();
    if (runMembershipCommand(context, command, rest, text)) return;
    if (this.#conversation && CONVERSATION_COMMANDS.has(command)) {
      try {
        runConversationCommand(
          {
            ...context,
            conversation: this.#conversation,
            cwd: this.#io.cwd ?? process.cwd(),
            stderr: this.#io.stderr,
            progress: (this.#io.stderr as { isTTY?: boolean }).isTTY === true,
            notSent: () => this.#refused++,
          },
          command,
          text,
        );
      } catch (error) {
        this.#report(error);
      }
      return;
    }
    const e2eeContext = {
      device: this.#e2ee?.options.device,
      pins: this.#e2ee?.options.pins,
      watch: this.#e2eeWatch,
      people: this.#people,
      now: this.#now,
      out: (text: string) => this.#out(text),
    };
    if (runE2eeCommand(e2eeContext, command, rest)) return;
    try {
      switch (command) {
        case '/quit':
          void this.#end(session);
          return;
        case '/nick':
          if (!argument) return this.#out(systemLine(now, 'usage: /nick NAME'));
          session.setNick(argument);
          return;
        case '/join':
          if (!isValidRoomName(argument)) {
            return this.#out(systemLine(now, 'usage: /join ROOM (a-z, 0-9, . _ -)'));
          }
          if (
            this.#visibleRooms &&
            !this.#visibleRooms.includes(argument) &&
            !session.rooms.includes(argument)
          ) {
            // The lines typed next were meant for that room: they go nowhere, not to this one.
            this.#switchFailed = `/join ${argument}`;
            return this.#out(
              systemLine(
                now,
                `cannot join ${escapeText(argument)}: ${NOT_YOURS}; ${this.#roomsText()}; ` +
                  `no room is current (/join ${escapeText(this.#room)} to talk there again)`,
              ),
            );
          }
          if (!session.rooms.includes(argument)) session.join(argument);
          if (argument !== this.#room) this.#previousRoom = this.#room;
          this.#room = argument;
          this.#switchFailed = undefined;
          this.#out(systemLine(now, 'talking here now', argument));
          return;
        case '/help':
          for (const text of COMMANDS_HELP) this.#out(systemLine(now, text));
          return;
        default:
          this.#out(
            systemLine(
              now,
              `unknown command ${escapeText(command)}: nothing was sent (/help lists the commands)`,
            ),
          );
      }
    } catch (error) {
      this.#report(error);
    }
  }

  /**
   * The host has no room `room`. The invite's room: nothing to do here, exit 7. A `/join`ed one
   * (before the host's room list was known): back to the room before. Either way its lines
   * can never be sent: they leave the outbox file and count as not delivered.
   */
  #noSuchRoom(session: ChatSession, room: string): void {
    if (this.#goneRooms.has(room)) return;
    this.#goneRooms.add(room);
    this.#outboxStore.forgetRoom(room);
    const lost = session.pending.filter((entry) => entry.room === room).length;
    this.#refused += lost;
    if (room === this.#args.room && !this.#synced.has(room) && this.#room === room) {
      // Private rooms and rooms that do not exist are refused alike: say which cases remain.
      const what = this.#inviteRefused
        ? `cannot join #${escapeText(room)} on ${addressText(this.#args.address)}: the invite was refused (see above)`
        : `cannot join #${escapeText(room)} on ${addressText(this.#args.address)}: ${NOT_YOURS} (ask for an invite)`;
      this.#io.stderr.write(
        `parley --connect: ${what}; ` +
          `${this.#roomsText()}${lost > 0 ? `; ${count(lost, 'message')} not sent` : ''}\n`,
      );
      this.#verdict = EXIT.noSuchRoom;
      void this.#end(session);
      return;
    }
    if (this.#room === room) {
      // Lines typed next were meant for that room too: no room is current until a /join.
      this.#room = this.#previousRoom ?? this.#args.room;
      this.#switchFailed = `/join ${room}`;
      this.#out(
        systemLine(
          this.#now(),
          `cannot join ${escapeText(room)}: ${NOT_YOURS}; ${this.#roomsText()}; ` +
            `no room is current (/join ${escapeText(this.#room)} to talk there again)` +
            (lost > 0 ? ` (${count(lost, 'message')} for ${escapeText(room)} not sent)` : ''),
        ),
      );
    }
  }

  /** `what` (not sent, not run) because the last /dm or /create failed. */
  #noRoomLine(what: string): string {
    return systemLine(
      this.#now(),
      `error no-room: ${what}: ${escapeText(this.#switchFailed ?? '')} failed, so no room is current ` +
        `(/join ${escapeText(this.#room)} to talk there again)`,
    );
  }

  #roomsText(): string {
    const rooms = this.#visibleRooms ?? [];
    return rooms.length > 0
      ? `you may join ${rooms.map((r) => `#${escapeText(r)}`).join(', ')}`
      : 'you may join no room here';
  }

  /** After /create and /dm: the new room is where lines go now. */
  #talkIn(room: string): void {
    if (room !== this.#room) this.#previousRoom = this.#room;
    this.#room = room;
    this.#switchFailed = undefined;
    this.#out(systemLine(this.#now(), 'talking here now', room));
  }

  /**
   * End of input or /quit: wait while the host makes progress (connecting, joining,
   * acknowledging), then say goodbye. The exit code says whether everything got through.
   */
  async #end(session: ChatSession): Promise<void> {
    if (this.#ending || this.#finished) return;
    this.#ending = true;
    await this.#settled(session);
    if (this.#finished) return;
    await session.stop();
    this.#finish(this.#outcome(session));
  }

  /** Done: connected, every room answered, nothing waiting. */
  #isSettled(session: ChatSession): boolean {
    if (this.#verdict !== undefined) return true;
    return (
      this.#everConnected &&
      !this.#replaying &&
      this.#holds === 0 &&
      this.#held === undefined &&
      this.#requests === 0 &&
      this.#waiting(session).length === 0 &&
      session.rooms.every((room) => this.#synced.has(room) || this.#goneRooms.has(room))
    );
  }

  /** Resolves once settled, or after drainTimeoutMs without progress; reports progress. */
  #settled(session: ChatSession): Promise<void> {
    const idleMs = this.#io.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
    const everyMs = this.#io.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS;
    this.#progressAt = Date.now();
    return new Promise((resolve) => {
      const events = ['ack', 'error', 'state', 'synced', 'welcome', 'removed', 'roomList'] as const;
      let idle: NodeJS.Timeout | undefined;
      const done = () => {
        clearTimeout(idle);
        clearInterval(progress);
        for (const event of events) session.off(event, check);
        resolve();
      };
      const check = () => {
        if (this.#finished || this.#isSettled(session)) done();
      };
      const tick = () => {
        const quietMs = Date.now() - this.#progressAt;
        if (quietMs >= idleMs) return done();
        idle = setTimeout(tick, idleMs - quietMs);
      };
      const progress = setInterval(() => this.#progress(session), everyMs);
      this.#stopSettling = done;
      this.#recheck = check;
      for (const event of events) session.on(event, check);
      idle = setTimeout(tick, idleMs);
      check();
    });
  }

  /** Lines that may still be delivered (not those for a room the host does not have). */
  #waiting(session: ChatSession): OutboxEntry[] {
    return session.pending.filter((entry) => !this.#goneRooms.has(entry.room));
  }

  #progress(session: ChatSession): void {
    const waiting = this.#waiting(session).length;
    const where = addressText(this.#args.address);
    if (!this.#everConnected) {
      const why = this.#lastProblem ? ` (${escapeText(this.#lastProblem)})` : '';
      this.#io.stderr.write(
        `parley --connect: still connecting to ${where}${why}; ${count(waiting, 'message')} waiting\n`,
      );
    } else if (waiting > 0) {
      this.#io.stderr.write(
        `parley --connect: sending: ${this.#acknowledged} acknowledged, ${waiting} waiting ` +
          `(the host allows ${session.host?.limits.messagesPerSecond ?? '?'} per second)\n`,
      );
    }
  }

  #outcome(session: ChatSession): number {
    if (this.#verdict !== undefined) return this.#verdict;
    const left = this.#waiting(session).length;
    const kept = left > 0 ? `; kept in ${this.#outboxStore.path} for the next run` : '';
    const say = (text: string) => this.#io.stderr.write(`parley --connect: ${text}\n`);
    if (!this.#everConnected) {
      const why = this.#lastProblem ? `: ${escapeText(this.#lastProblem)}` : '';
      say(`could not connect to ${addressText(this.#args.address)}${why}`);
      if (left > 0) say(`${count(left, 'message')} not sent${kept}`);
      const held = this.#held?.length ?? 0;
      if (held > 0) {
        say(
          `${count(held, 'input line')} from the first command on not read: the host's rooms were never known`,
        );
      }
      return EXIT.unreachable;
    }
    // Given up while the start was not over: the held lines went nowhere.
    const held = this.#held?.length ?? 0;
    if (held > 0) {
      say(
        `${count(held, 'input line')} from the first command on not read: the rooms were not joined in time`,
      );
    }
    if (left > 0) {
      say(
        `${count(left, 'message')} ${left === 1 ? 'was' : 'were'} not acknowledged by the host${kept}`,
      );
    }
    if (this.#refused > 0) {
      say(
        `${count(this.#refused, 'message')} ${this.#refused === 1 ? 'was' : 'were'} refused and not sent (see the error lines)`,
      );
    }
    if (this.#notRun > 0) {
      say(
        `${count(this.#notRun, 'command')} ${this.#notRun === 1 ? 'was' : 'were'} not run (see the error lines)`,
      );
    }
    return left > 0 || this.#refused > 0 || this.#notRun > 0 || held > 0 ? EXIT.failure : EXIT.ok;
  }

  #answer(answer: string | undefined): void {
    const question = this.#question;
    this.#question = undefined;
    question?.(answer);
  }

  #report(error: unknown): void {
    if (!(error instanceof ChatSessionError)) throw error;
    this.#out(systemLine(this.#now(), `error ${error.code}: ${escapeText(error.message)}`));
  }

  #describeFatal(fatal: SessionFatal): string {
    const where = addressText(this.#args.address);
    const certificate =
      'certificateProblem' in fatal && fatal.certificateProblem
        ? `  certificate not accepted (${fatal.certificateProblem.code}): ` +
          `${escapeText(fatal.certificateProblem.message)}\n`
        : '';
    switch (fatal.code) {
      case 'host-key-mismatch':
        if (
          this.#args.inviteKey &&
          fatal.expectedFingerprint === fingerprint(this.#args.inviteKey)
        ) {
          // Nothing was pinned here: the invite link itself named another key.
          return (
            `parley --connect: the host at ${where} does not have the key in the invite link; ` +
            'nothing was sent.\n' +
            `  the invite's fingerprint: ${fatal.expectedFingerprint}\n` +
            `  the host's fingerprint:   ${fatal.actualFingerprint}\n` +
            certificate +
            "The invite may be out of date (ask the host's owner for a new one), or someone may be\n" +
            'intercepting the connection.\n'
          );
        }
        return (
          `parley --connect: THE HOST KEY OF ${where} HAS CHANGED; nothing was sent.\n` +
          `  expected fingerprint: ${fatal.expectedFingerprint}\n` +
          `  actual fingerprint:   ${fatal.actualFingerprint}\n` +
          certificate +
          "Someone may be intercepting the connection. If the host's owner confirms that the key\n" +
          `changed, ask them for a new invite link (or remove ${where} from ${this.#knownHosts.path}).\n`
        );
      case 'host-key-unknown':
        return (
          `parley --connect: the host ${where} is not known, so it was not trusted.\n` +
          `  fingerprint: ${fatal.fingerprint}\n` +
          certificate +
          "Connect with an invite link from the host's owner, or compare this fingerprint with\n" +
          'the one the host shows and run again with --trust-new-host.\n'
        );
      default:
        return `parley --connect: ${escapeText(fatal.message)}\n`;
    }
  }

  #out(line: string): void {
    this.#io.stdout.write(`${line}\n`);
  }

  #outAll(lines: readonly string[]): void {
    for (const line of lines) this.#out(line);
  }
}

/**
 * Errors about a room that do not end its join: retried ones, and the client's own about what
 * the host sent while it joins.
 */
const NOT_A_JOIN_REFUSAL = new Set(['rate-limited', 'internal', 'invalid-message', 'history-gap']);

/** Commands that need nothing from the host: they work before it is reached. */
const LOCAL_COMMANDS = new Set(['/quit', '/help', '/nick']);

/** A command the host answers, or about the host's rooms (a message line is not one). */
function asksTheHost(line: string): boolean {
  if (!line.startsWith('/') || line.startsWith('//')) return false;
  return !LOCAL_COMMANDS.has(line.trim().split(/\s+/, 1)[0] ?? '');
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function exitCodeOf(fatal: SessionFatal): number {
  switch (fatal.code) {
    case 'host-key-mismatch':
      return EXIT.hostKeyChanged;
    case 'host-key-unknown':
      return EXIT.hostUnknown;
    case 'nick-taken':
      return EXIT.nickTaken;
    default:
      return EXIT.failure;
  }
}
