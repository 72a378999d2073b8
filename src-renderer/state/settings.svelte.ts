import type { AuthorityView, Settings } from '../../src-shared/ipc/domain.ts';
import type { Platform } from '../lib/platform.ts';

// The contract's defaults, repeated so the page does not load the schemas to get them.
const DEFAULTS: Settings = {
  notificationPrivacy: 'sender',
  muted: false,
  closeToTray: false,
  theme: 'system',
};

/** The user's settings: changed optimistically, confirmed (or put back) by main. */
export class SettingsStore {
  readonly #api: Platform;
  value: Settings = $state({ ...DEFAULTS });
  error: string | null = $state(null);
  /** Certificate authorities the user imported; null until loaded. */
  authorities: AuthorityView[] | null = $state.raw(null);
  authorityError: string | null = $state(null);
  /** The authority just imported, for "added" feedback and an undo. */
  lastImported: AuthorityView | null = $state.raw(null);

  constructor(api: Platform) {
    this.#api = api;
  }

  hydrate(settings: Settings): void {
    this.value = settings;
  }

  listen(): () => void {
    return this.#api.onSettings((settings) => (this.value = settings));
  }

  async update(patch: Partial<Settings>): Promise<void> {
    const before = this.value;
    this.value = { ...before, ...patch };
    this.error = null;
    const result = await this.#api.updateSettings(patch);
    if (result.ok) {
      this.value = result.value;
    } else {
      this.value = before;
      this.error = result.error.message;
    }
  }

  async loadAuthorities(): Promise<void> {
    const result = await this.#api.listAuthorities({});
    if (result.ok) this.authorities = result.value;
    else this.authorityError = result.error.message;
  }

  async importAuthority(pem: string): Promise<boolean> {
    this.authorityError = null;
    this.lastImported = null;
    const result = await this.#api.importAuthority({ pem });
    if (!result.ok) {
      this.authorityError = result.error.message;
      return false;
    }
    this.lastImported = result.value.authority;
    await this.loadAuthorities();
    return true;
  }

  async removeAuthority(fingerprint: string): Promise<void> {
    this.authorityError = null;
    const result = await this.#api.removeAuthority({ fingerprint });
    if (!result.ok) {
      this.authorityError = result.error.message;
      return;
    }
    if (this.lastImported?.fingerprint === fingerprint) this.lastImported = null;
    await this.loadAuthorities();
  }
}
