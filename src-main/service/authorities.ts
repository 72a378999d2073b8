import type { AuthorityView } from '../../src-shared/ipc/domain.ts';
import type { AuthorityStore } from '../trust/authority-store.ts';
import { ServiceError } from './service-error.ts';

/**
 * The certificate authorities this install trusts, as the settings dialog and the connect
 * path use them. Loaded on first use: reading certificates loads node-forge, which startup
 * does not need.
 */
export class Authorities {
  readonly #dataDir: string;
  readonly #now: () => number;
  #store: Promise<AuthorityStore> | undefined;

  constructor(dataDir: string, now: () => number) {
    this.#dataDir = dataDir;
    this.#now = now;
  }

  /** The store, re-read from disk: an administrator may have dropped a .pem in meanwhile. */
  async current(): Promise<AuthorityStore> {
    const store = await this.#load();
    await store.reload();
    return store;
  }

  import(pem: string): Promise<{ authority: AuthorityView; added: boolean }> {
    return this.#call(async (store) => {
      const { authorityView } = await import('../trust/authority-store.ts');
      const { authority, added } = await store.import(pem);
      return { authority: authorityView(authority), added };
    });
  }

  list(): Promise<AuthorityView[]> {
    return this.#call(async (store) => {
      const { authorityView } = await import('../trust/authority-store.ts');
      await store.reload();
      return store.list().map(authorityView);
    });
  }

  remove(fingerprint: string): Promise<void> {
    return this.#call(async (store) => {
      await store.remove(fingerprint);
    });
  }

  #load(): Promise<AuthorityStore> {
    this.#store ??= import('../trust/authority-store.ts').then(({ AuthorityStore }) =>
      AuthorityStore.load(this.#dataDir, { now: this.#now }),
    );
    return this.#store;
  }

  /** Runs an authority-store call, turning its refusals into errors the user can act on. */
  async #call<T>(call: (store: AuthorityStore) => Promise<T>): Promise<T> {
    const { AuthorityError } = await import('../trust/authority.ts');
    try {
      return await call(await this.#load());
    } catch (error) {
      if (!(error instanceof AuthorityError)) throw error;
      throw new ServiceError(
        error.code === 'authority-store' ? 'internal' : error.code,
        error.message,
      );
    }
  }
}
