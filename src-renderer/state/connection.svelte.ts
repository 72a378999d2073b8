import type { EventPayload, RequestInput } from '../../src-shared/ipc/contract.ts';
import type { AppSnapshot, ConnectionState, RecentHost } from '../../src-shared/ipc/domain.ts';
import { type Platform, describeError, unwrap } from '../lib/platform.ts';

export type TrustRequest = EventPayload<'trustRequired'>;
export type HostKeyChange = EventPayload<'hostKeyChanged'>;
export type ConnectInput = RequestInput<'connect'>;

/**
 * The connection to the host: its status, the trust questions it raises, and the connect
 * form's outcome. The chat screen shows once a connection has been made in this session.
 */
export class ConnectionStore {
  readonly #api: Platform;
  state: ConnectionState = $state({ status: 'idle' });
  recentHosts: RecentHost[] = $state.raw([]);
  keyStorageWarning: string | undefined = $state();
  /** First contact without an invite: waiting for the user's answer. */
  trustRequest: TrustRequest | null = $state(null);
  /** The host's key changed; nothing was sent. Shown until dismissed. */
  keyChange: HostKeyChange | null = $state(null);
  /** The last key change, kept after the warning is dismissed (the banner refers to it). */
  lastKeyChange: HostKeyChange | null = $state(null);
  /** How the current host was verified, kept across reconnects (which do not repeat it). */
  trust: ConnectionState['trust'] = $state();
  /** Why the last connect did not happen, for the connect form. */
  error: string | null = $state(null);
  /** A connect request is in flight. */
  submitting = $state(false);
  /** Reached the host at least once since the user last pressed Connect or reloaded. */
  #reached = $state(false);
  /** An invite handed over by the OS (parley:// link), for the connect form. */
  pendingInvite: string | null = $state(null);

  constructor(api: Platform) {
    this.#api = api;
  }

  readonly status = $derived(this.state.status);
  /** The chat is shown while there is a session, including while it reconnects. */
  readonly inSession = $derived(
    this.state.status === 'connected' ||
      this.state.status === 'reconnecting' ||
      (this.#reached && this.state.status !== 'idle'),
  );

  hydrate(snapshot: AppSnapshot): void {
    this.#apply(snapshot.connection);
    this.recentHosts = snapshot.recentHosts;
    this.keyStorageWarning = snapshot.keyStorageWarning;
  }

  listen(): () => void {
    const offs = [
      this.#api.onConnectionState((state) => this.#apply(state)),
      this.#api.onTrustRequired((request) => (this.trustRequest = request)),
      this.#api.onHostKeyChanged((change) => {
        this.trustRequest = null;
        this.keyChange = change;
        this.lastKeyChange = change;
      }),
      this.#api.onOpenInvite(({ invite }) => (this.pendingInvite = invite)),
    ];
    return () => offs.forEach((off) => off());
  }

  async connect(input: ConnectInput): Promise<boolean> {
    this.error = null;
    this.submitting = true;
    try {
      const state = await unwrap(this.#api.connect(input));
      this.#apply(state);
      return true;
    } catch (error) {
      this.error = describeError(error);
      return false;
    } finally {
      this.submitting = false;
    }
  }

  /** Offline: try the same host again (its key is pinned by now). */
  async retry(): Promise<void> {
    const { host, port, nick } = this.state;
    if (!host || !port || !nick) return;
    await this.connect({ host, port, nick });
  }

  async answerTrust(trust: boolean): Promise<void> {
    const request = this.trustRequest;
    if (!request) return;
    this.trustRequest = null;
    const result = await this.#api.answerTrust({ requestId: request.requestId, trust });
    if (!result.ok) this.error = result.error.message;
    else if (!trust) this.error = 'Not connected: you did not trust the host.';
  }

  /** The offline banner is about this key change. */
  readonly refusedForKey = $derived(
    this.state.status === 'offline' &&
      this.lastKeyChange !== null &&
      this.lastKeyChange.host === this.state.host &&
      this.lastKeyChange.port === this.state.port,
  );

  showKeyChange(): void {
    this.keyChange = this.lastKeyChange;
  }

  dismissKeyChange(): void {
    this.keyChange = null;
    this.error = 'Not connected: the host’s key has changed. Nothing was sent.';
  }

  async disconnect(): Promise<void> {
    this.#reached = false;
    const result = await this.#api.disconnect({});
    if (!result.ok) this.error = result.error.message;
    // The host just used is at the top of the recent list now (no idle event comes if the
    // session had already stopped on its own).
    await this.refreshRecent();
  }

  async refreshRecent(): Promise<void> {
    const snapshot = await this.#api.getSnapshot({});
    if (snapshot.ok) this.recentHosts = snapshot.value.recentHosts;
  }

  #apply(state: ConnectionState): void {
    if (state.host !== this.state.host || state.port !== this.state.port) this.trust = undefined;
    if (state.trust) this.trust = state.trust;
    if (state.status === 'connecting' && this.state.status !== 'connecting') {
      this.lastKeyChange = null;
    }
    if (state.status === 'connected') {
      this.#reached = true;
      this.error = null;
    } else if (state.status === 'idle') {
      if (this.#reached && state.reason) this.error = `Disconnected: ${state.reason}`;
      this.#reached = false;
      void this.refreshRecent();
    } else if (state.status === 'offline' && !this.#reached && state.reason && !this.keyChange) {
      // The first attempt failed for good (refused, nickname taken…): say why on the form.
      this.error = `Could not connect: ${state.reason}`;
    }
    this.state = state;
  }
}
