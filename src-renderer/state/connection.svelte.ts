import { SvelteMap, SvelteSet } from 'svelte/reactivity';
import { fingerprint, normalizeFingerprint } from '../../src-shared/fingerprint.ts';
import { formatAddress, parseInvite } from '../../src-shared/invite.ts';
import type { EventPayload, RequestInput } from '../../src-shared/ipc/contract.ts';
import type { AppSnapshot, HostState, RecentHost } from '../../src-shared/ipc/domain.ts';
import { type Platform, describeError, unwrap } from '../lib/platform.ts';

export type TrustRequest = EventPayload<'trustRequired'>;
export type HostKeyChange = EventPayload<'hostKeyChanged'>;
export type ConnectInput = RequestInput<'connect'>;

/** No host: the connect screen. */
const NO_HOST: HostState = Object.freeze({ status: 'idle', hostId: '' });

/**
 * The connections to every host the app holds, which one is on screen, the trust questions
 * they raise, and the connect form's outcome. A host shows in the sidebar once it has been
 * reached (or is retrying a host that is down); until then the connect form shows the attempt.
 */
export class ConnectionStore {
  readonly #api: Platform;
  /** Every host main holds (none idle), in the order they were added. */
  hosts: HostState[] = $state.raw([]);
  #current: string | null = $state(null);
  /** Told when the host on screen changes (the previous one), and when a host leaves. */
  readonly #hooks: {
    hostChanged?: (previous: string | null) => void;
    left?: (hostId: string) => void;
  };
  /** The connect screen is open as "Add a host" over the hosts already there. */
  adding = $state(false);
  recentHosts: RecentHost[] = $state.raw([]);
  keyStorageWarning: string | undefined = $state();
  /** First contact without an invite, per host: waiting for the user's answers, oldest first. */
  trustRequests: TrustRequest[] = $state.raw([]);
  /** A host's key did not match; nothing was sent. Shown until dismissed. */
  keyChange: HostKeyChange | null = $state(null);
  /** Each host's last key change, kept after the warning is dismissed (the banner refers to it). */
  readonly #lastKeyChange = new SvelteMap<string, HostKeyChange>();
  /** How each host was verified, kept across reconnects (which do not repeat it). */
  readonly #trust = new SvelteMap<string, HostState['trust']>();
  /** Why the last connect did not happen, for the connect form. */
  error: string | null = $state(null);
  /** A connect request is in flight. */
  submitting = $state(false);
  /** Hosts reached at least once since Connect or the page loaded. */
  readonly #reached = new SvelteSet<string>();
  /** The host the connect form last asked for: it goes on screen once it is reached. */
  #awaiting: string | null = null;
  /** Hosts whose first attempt failed for good and were let go while a connect was in flight. */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- bookkeeping, never rendered
  readonly #letGo = new Set<string>();
  /**
   * Hosts in the sidebar that a Connect is starting again (a new invite for a host we are in):
   * main ends the old session first, and that idle state must not take them out of the sidebar.
   */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- bookkeeping, never rendered
  readonly #restarting = new Set<string>();
  /** Bumped each time a host the user asked for arrives: the screen focuses the composer. */
  arrivals = $state(0);
  /** An invite handed over by the OS (parley:// link), for the connect form. */
  pendingInvite: string | null = $state(null);

  constructor(
    api: Platform,
    hooks: {
      hostChanged?: (previous: string | null) => void;
      left?: (hostId: string) => void;
    } = {},
  ) {
    this.#api = api;
    this.#hooks = hooks;
  }

  /** The host on screen. */
  get current(): string | null {
    return this.#current;
  }
  set current(hostId: string | null) {
    const previous = this.#current;
    if (previous === hostId) return;
    this.#current = hostId;
    this.#hooks.hostChanged?.(previous);
  }

  /** The hosts in the sidebar: reached once, or retrying one that is down. */
  readonly shown = $derived(this.hosts.filter((host) => this.#isShown(host)));
  /** The host on screen's state (an idle placeholder when there is none). */
  readonly state: HostState = $derived(
    this.hosts.find((host) => host.hostId === this.current) ?? NO_HOST,
  );
  readonly status = $derived(this.state.status);
  /** The chat is shown while any host is in the sidebar. */
  readonly inSession = $derived(this.shown.length > 0);
  /** A connect the form asked for, still on its first attempt: the form shows it. */
  readonly pending = $derived(
    this.hosts.find((host) => host.status === 'connecting' && !this.#isShown(host)),
  );
  /** The trust question on screen. */
  readonly trustRequest = $derived(this.trustRequests[0] ?? null);
  /** How the host on screen was verified. */
  readonly trust = $derived(this.current === null ? undefined : this.#trust.get(this.current));
  /** The host on screen is offline because its key did not match. */
  readonly refusedForKey = $derived(
    this.state.status === 'offline' && this.#lastKeyChange.has(this.state.hostId),
  );

  hydrate(snapshot: AppSnapshot): void {
    for (const { connection } of snapshot.hosts) {
      if (connection.neverReached !== true) this.#reached.add(connection.hostId);
      this.#apply(connection);
    }
    this.recentHosts = snapshot.recentHosts;
    this.keyStorageWarning = snapshot.keyStorageWarning;
    this.current ??= this.shown[0]?.hostId ?? null;
  }

  listen(): () => void {
    const offs = [
      this.#api.onConnectionState((state) => this.#apply(state)),
      this.#api.onTrustRequired((request) => {
        this.trustRequests = [
          ...this.trustRequests.filter((r) => r.hostId !== request.hostId),
          request,
        ];
      }),
      this.#api.onHostKeyChanged((change) => {
        this.trustRequests = this.trustRequests.filter((r) => r.hostId !== change.hostId);
        this.keyChange = change;
        this.#lastKeyChange.set(change.hostId, change);
      }),
      this.#api.onOpenInvite(({ invite }) => this.#openInvite(invite)),
    ];
    return () => offs.forEach((off) => off());
  }

  /** Shows a host in the sidebar (and closes "Add a host"). */
  select(hostId: string): void {
    if (!this.shown.some((host) => host.hostId === hostId)) return;
    this.current = hostId;
    this.adding = false;
  }

  startAdding(): void {
    this.error = null;
    this.adding = true;
  }

  /** Back from "Add a host" to the chat; an attempt the form started is called off. */
  cancelAdding(): void {
    const pending = this.pending;
    this.adding = false;
    this.error = null;
    if (pending) void this.disconnect(pending.hostId);
  }

  /** Adds a host (or, already in the sidebar, connects to it again with this input). */
  async connect(input: ConnectInput): Promise<boolean> {
    this.#letGo.clear();
    this.error = null;
    const target = targetOf(input);
    const there = this.shown.find((host) => host.hostId === target);
    // An invite for a host we are connected to whose key is not the one that host presents is
    // wrong (or forged): say so, and leave the working session alone instead of ending it.
    const mismatch = there && 'invite' in input ? inviteMismatch(there, input.invite) : null;
    if (mismatch) {
      this.keyChange = mismatch;
      this.error = `Not connected again: the invite link does not match ${target}. Nothing was sent, and your connection to it is unchanged.`;
      return false;
    }
    if (there) this.#restarting.add(there.hostId);
    this.submitting = true;
    try {
      const state = await unwrap(this.#api.connect(input));
      // Events about it may have overtaken the answer: the newest state is theirs (and a host
      // already let go for failing stays gone).
      if (this.#letGo.delete(state.hostId)) return true;
      this.#awaiting = state.hostId;
      this.#apply(this.hosts.find((host) => host.hostId === state.hostId) ?? state);
      return true;
    } catch (error) {
      this.error = describeError(error);
      return false;
    } finally {
      this.submitting = false;
      if (there) this.#restarting.delete(there.hostId);
    }
  }

  /** Reconnecting or offline: the host on screen tries now instead of after the countdown. */
  async retryNow(hostId: string | null = this.current): Promise<void> {
    if (hostId === null) return;
    const result = await this.#api.retryNow({ hostId });
    if (!result.ok) this.error = result.error.message;
  }

  /** Try the host on screen again: at once while reconnecting, a new session once offline. */
  async retry(): Promise<void> {
    const { status, host, port, nick } = this.state;
    if (status === 'reconnecting') return this.retryNow();
    if (!host || !port || !nick) return;
    await this.connect({ host, port, nick });
  }

  /** Our nickname on the host on screen; rejects with the host's reason. */
  async setNick(nick: string): Promise<void> {
    const hostId = this.current;
    if (hostId === null) return;
    await unwrap(this.#api.setNick({ hostId, nick }));
  }

  async answerTrust(trust: boolean): Promise<void> {
    const request = this.trustRequest;
    if (!request) return;
    this.trustRequests = this.trustRequests.filter((r) => r !== request);
    const result = await this.#api.answerTrust({ requestId: request.requestId, trust });
    if (!result.ok) this.error = result.error.message;
    else if (!trust) this.error = 'Not connected: you did not trust the host.';
  }

  showKeyChange(): void {
    const change = this.current === null ? undefined : this.#lastKeyChange.get(this.current);
    if (change) this.keyChange = change;
  }

  dismissKeyChange(): void {
    const change = this.keyChange;
    this.keyChange = null;
    if (!change || this.shown.some((host) => host.hostId === change.hostId)) return;
    this.error =
      change.expectedFrom === 'invite'
        ? 'Not connected: the invite link does not match the host. Nothing was sent.'
        : 'Not connected: the host’s key has changed. Nothing was sent.';
  }

  /** Ends the session with a host (the one on screen by default); it leaves the sidebar. */
  async disconnect(hostId: string | null = this.current): Promise<void> {
    if (hostId === null) return;
    this.#reached.delete(hostId);
    this.#restarting.delete(hostId);
    const result = await this.#api.disconnect({ hostId });
    if (!result.ok) this.error = result.error.message;
    // No idle event comes if main had already let the host go: forget it here too.
    this.#remove(hostId);
    // The host just used is at the top of the recent list now.
    await this.refreshRecent();
  }

  async refreshRecent(): Promise<void> {
    const snapshot = await this.#api.getSnapshot({});
    if (snapshot.ok) this.recentHosts = snapshot.value.recentHosts;
  }

  /**
   * An invite link from the OS: for a host in the sidebar it is redeemed there (that host
   * connects again with it); for a new host the connect form offers to add it.
   */
  #openInvite(invite: string): void {
    const parsed = parseInvite(invite);
    if (parsed.ok) {
      const hostId = formatAddress(parsed.value.host, parsed.value.port);
      const there = this.shown.find((host) => host.hostId === hostId);
      if (there?.nick) {
        this.current = hostId;
        this.adding = false;
        void this.connect({ invite: invite.trim(), nick: there.nick });
        return;
      }
    }
    this.pendingInvite = invite;
    if (this.shown.length > 0) this.startAdding();
  }

  #isShown(host: HostState): boolean {
    return (
      host.status === 'connected' ||
      host.status === 'reconnecting' ||
      (host.status !== 'idle' && this.#reached.has(host.hostId))
    );
  }

  #remove(hostId: string): void {
    if (!this.hosts.some((host) => host.hostId === hostId)) return;
    this.hosts = this.hosts.filter((host) => host.hostId !== hostId);
    this.trustRequests = this.trustRequests.filter((r) => r.hostId !== hostId);
    this.#trust.delete(hostId);
    if (this.current === hostId) this.current = this.shown[0]?.hostId ?? null;
    this.#hooks.left?.(hostId);
  }

  #apply(state: HostState): void {
    const { hostId } = state;
    const before = this.hosts.find((host) => host.hostId === hostId);
    if (state.status === 'idle') {
      // Main ending the old session of a host the form connects again: it keeps its place.
      if (this.#restarting.has(hostId)) return;
      const reached = this.#reached.has(hostId);
      if (reached && state.reason) this.error = `Disconnected: ${state.reason}`;
      this.#reached.delete(hostId);
      this.#remove(hostId);
      void this.refreshRecent();
      return;
    }
    if (state.trust) this.#trust.set(hostId, state.trust);
    if (state.status === 'connecting' && before?.status !== 'connecting') {
      this.#lastKeyChange.delete(hostId);
    }
    if (state.status === 'connected') this.#reached.add(hostId);
    // A host main brings back by itself (the sidebar of the last run, restored at start) is in
    // the sidebar whatever its state; only a host the form asked for must be reached first.
    if (!before && !this.submitting && this.#awaiting !== hostId) this.#reached.add(hostId);
    this.hosts = before
      ? this.hosts.map((host) => (host.hostId === hostId ? state : host))
      : [...this.hosts, state];

    if (this.#isShown(state)) {
      if (this.#awaiting === hostId) {
        // The host the form asked for is here (or retrying a host that is down): show it.
        this.#awaiting = null;
        this.error = null;
        this.current = hostId;
        this.adding = false;
        this.arrivals++;
      }
      this.current ??= hostId;
    } else if (state.status === 'offline') {
      // The first attempt failed for good (refused, nickname taken, key mismatch…): say why on
      // the form, and let the host go, so it does not wait in the sidebar unseen.
      const keyProblem = this.keyChange?.hostId === hostId;
      if (state.reason && !keyProblem) this.error = `Could not connect: ${state.reason}`;
      if (this.#awaiting === hostId) this.#awaiting = null;
      if (this.submitting) this.#letGo.add(hostId);
      void this.#api.disconnect({ hostId });
      this.#remove(hostId);
    }
  }
}

/** The hostId main will give the host a Connect is for (`host:port`, host lower-cased). */
function targetOf(input: ConnectInput): string | undefined {
  if ('invite' in input) {
    const parsed = parseInvite(input.invite);
    return parsed.ok
      ? formatAddress(parsed.value.host.toLowerCase(), parsed.value.port)
      : undefined;
  }
  return formatAddress(input.host.toLowerCase(), input.port);
}

/**
 * The key warning for an invite whose key is not the one a connected host presents, or null.
 * Only a connected host's key is known to be its current one.
 */
function inviteMismatch(host: HostState, invite: string): HostKeyChange | null {
  const parsed = parseInvite(invite);
  if (!parsed.ok || host.status !== 'connected' || !host.hostFingerprint) return null;
  const expected = fingerprint(parsed.value.hostKey);
  if (normalizeFingerprint(expected) === normalizeFingerprint(host.hostFingerprint)) return null;
  return {
    hostId: host.hostId,
    host: parsed.value.host,
    port: parsed.value.port,
    expectedFingerprint: expected,
    actualFingerprint: host.hostFingerprint,
    expectedFrom: 'invite',
  };
}
