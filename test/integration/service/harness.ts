// What the service integration tests share: a real host, desktop services in temp folders, and
// a recorder of every event a service emits, each checked against the IPC contract's schema
// (the renderer only ever sees them through that contract).
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { type HostOptions, type RunningHost, startHost } from '../../../src-main/server/host.ts';
import {
  DesktopService,
  type DesktopServiceOptions,
  type ServiceEvents,
} from '../../../src-main/service/desktop-service.ts';
import { type EventName, events as eventSchemas } from '../../../src-shared/ipc/contract.ts';
import type { Cleanups } from '../../support/lifecycle.ts';

export interface HostSpec {
  dataDir?: string;
  port?: number;
  limits?: HostOptions['limits'];
  rooms?: string[];
  /** Rooms anyone may join (`--open`); default private, as a new host's are. */
  openRooms?: boolean;
  /** Private rooms end-to-end encrypted (MLS), as `parley --serve` makes them; default off. */
  e2ee?: boolean;
}

export async function startTestHost(cleanups: Cleanups, spec: HostSpec = {}): Promise<RunningHost> {
  const h = await startHost({
    host: '127.0.0.1',
    port: spec.port ?? 0,
    rooms: spec.rooms ?? ['lobby', 'dev'],
    dataDir: spec.dataDir ?? cleanups.tempDir('parley-host-'),
    ...(spec.limits ? { limits: spec.limits } : {}),
    ...(spec.openRooms ? { openRooms: true } : {}),
    ...(spec.e2ee ? { e2ee: true } : {}),
  });
  cleanups.push(() => h.stop());
  return h;
}

type Recorded = {
  [N in keyof ServiceEvents]: { name: N; payload: ServiceEvents[N] };
}[keyof ServiceEvents];

export interface Recorder {
  readonly all: Recorded[];
  of<N extends keyof ServiceEvents>(name: N): ServiceEvents[N][];
  /** The first event (already seen or still to come) that matches. */
  waitFor<N extends keyof ServiceEvents>(
    name: N,
    predicate?: (payload: ServiceEvents[N]) => boolean,
    timeoutMs?: number,
  ): Promise<ServiceEvents[N]>;
  /** Forget what was seen so far. */
  reset(): void;
}

const ALL_EVENTS = [...(Object.keys(eventSchemas) as EventName[]), 'notify'] as const;

export function record(cleanups: Cleanups, service: DesktopService): Recorder {
  const all: Recorded[] = [];
  const invalid: string[] = [];
  for (const name of ALL_EVENTS) {
    service.on(name, (payload: unknown) => {
      if (name !== 'notify') {
        const parsed = eventSchemas[name].safeParse(payload);
        if (!parsed.success) invalid.push(`${name}: ${parsed.error.message}`);
      }
      all.push({ name, payload } as Recorded);
    });
  }
  cleanups.push(() => expect(invalid, 'events outside the contract').toEqual([]));
  const of = <N extends keyof ServiceEvents>(name: N): ServiceEvents[N][] =>
    all.filter((e) => e.name === name).map((e) => e.payload as ServiceEvents[N]);
  return {
    all,
    of,
    async waitFor(name, predicate = () => true, timeoutMs = 8000) {
      const started = Date.now();
      for (;;) {
        const found = of(name).find(predicate);
        if (found !== undefined) return found;
        if (Date.now() - started > timeoutMs) {
          const seen = all.map((e) => e.name).join(', ');
          throw new Error(
            `no matching "${String(name)}" event within ${timeoutMs} ms (seen: ${seen})`,
          );
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    reset() {
      all.length = 0;
    },
  };
}

export interface TestService {
  service: DesktopService;
  events: Recorder;
  dataDir: string;
}

export async function openTestService(
  cleanups: Cleanups,
  dataDir = cleanups.tempDir('parley-app-'),
  options: Partial<DesktopServiceOptions> = {},
): Promise<TestService> {
  const s = await DesktopService.open({
    dataDir,
    platform: 'linux',
    sessionOptions: { reconnect: { initialDelayMs: 20, maxDelayMs: 100 } },
    ...options,
  });
  const events = record(cleanups, s);
  cleanups.push(() => s.close());
  return { service: s, events, dataDir };
}

export const connected = (state: ServiceEvents['connectionState']): boolean =>
  state.status === 'connected';

/** A history page's rows in seq order: a message's text, or `* nick action` for a room event. */
export function rows(page: Awaited<ReturnType<DesktopService['loadHistory']>>): string[] {
  return [
    ...page.messages.map((m) => ({ seq: m.seq ?? Infinity, row: m.text })),
    ...(page.events ?? []).map((e) => ({
      seq: e.seq,
      row: `* ${e.actor?.nick ?? 'host'} ${e.action}${e.target ? ` ${e.target.nick}` : ''}`,
    })),
  ]
    .sort((a, b) => a.seq - b.seq)
    .map((r) => r.row);
}

/** The id main gives a host on loopback (`host:port`), as every host-scoped request names it. */
export const hostIdOf = (h: RunningHost): string => `127.0.0.1:${h.address.port}`;

/** A `connectionState` predicate: this host, connected. */
export const connectedTo =
  (h: RunningHost) =>
  (state: ServiceEvents['connectionState']): boolean =>
    state.hostId === hostIdOf(h) && state.status === 'connected';

/**
 * A desktop service (its own data folder unless `dataDir`) connected to `h` with an invite to
 * #lobby for `role`, as `nick`: returned once connected (not yet joined).
 */
export async function lobbyMember(
  cleanups: Cleanups,
  h: RunningHost,
  invited: { role: 'owner' | 'member'; nick: string; dataDir?: string | undefined },
  options: Partial<DesktopServiceOptions> = {},
): Promise<TestService> {
  const app = await openTestService(cleanups, invited.dataDir, options);
  await app.service.connect({
    invite: h.invite('lobby', { role: invited.role }),
    nick: invited.nick,
  });
  await app.events.waitFor('connectionState', connected);
  return app;
}

/** Every byte under `dir` (files of any depth): to say a secret is nowhere on disk. */
export function bytesUnder(dir: string): Buffer {
  const chunks: Buffer[] = [];
  for (const name of readdirSync(dir, { recursive: true })) {
    const path = join(dir, String(name));
    if (statSync(path).isFile()) chunks.push(readFileSync(path));
  }
  return Buffer.concat(chunks);
}

/**
 * `app` connects to `h` with an invite to #lobby as `nick` and waits until it is connected
 * there and #lobby is joined; returns the host's id.
 */
export async function joinLobby(app: TestService, h: RunningHost, nick: string): Promise<string> {
  const state = await app.service.connect({ invite: h.invite('lobby'), nick });
  expect(state.hostId).toBe(hostIdOf(h));
  await app.events.waitFor('connectionState', connectedTo(h));
  await app.events.waitFor(
    'rooms',
    (r) => r.hostId === hostIdOf(h) && r.rooms.some((x) => x.name === 'lobby' && x.joined),
  );
  return hostIdOf(h);
}

/**
 * `app` connects to `h` without an invite as dave and refuses to trust it: the host is in the
 * sidebar, stopped (offline), and nothing was pinned. Events recorded so far are dropped.
 */
export async function refusedUntrusted(app: TestService, h: RunningHost): Promise<string> {
  await app.service.connect({ host: '127.0.0.1', port: h.address.port, nick: 'dave' });
  const id = hostIdOf(h);
  const question = await app.events.waitFor('trustRequired');
  app.service.answerTrust({ requestId: question.requestId, trust: false });
  await app.events.waitFor('connectionState', (s) => s.hostId === id && s.status === 'offline');
  app.events.reset();
  return id;
}
