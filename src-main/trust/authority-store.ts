import { chmod, mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { AuthorityView } from '../../src-shared/ipc/domain.ts';
import { writeSecretFileAtomic } from '../store/key-file.ts';
import {
  type Authority,
  AuthorityError,
  normalizeCertificateFingerprint,
  parseAuthorityPem,
} from './authority.ts';
import { certificateToPem } from './x509.ts';

/**
 * The authorities a client trusts: one PEM certificate per file in `<data dir>/authorities/`.
 * `parley ca trust` and the desktop app's import write there; an administrator may also drop
 * `*.pem` files there (one certificate each). A file that cannot be used is skipped and reported
 * in `problems` (skipping an authority only ever trusts less).
 */
export const AUTHORITIES_DIR = 'authorities';

/** What vouches for hosts: the store, or a fixed list (tests, one-off use). */
export interface AuthoritySource {
  list(): readonly Authority[];
}

export class AuthorityStore implements AuthoritySource {
  readonly directory: string;
  readonly #now: () => number;
  #authorities: Authority[];
  #problems: string[];

  private constructor(directory: string, now: () => number, loaded: Loaded) {
    this.directory = directory;
    this.#now = now;
    this.#authorities = loaded.authorities;
    this.#problems = loaded.problems;
  }

  /** Loads `<dataDir>/authorities/*.pem`; a missing folder is an empty list. */
  static async load(
    dataDir: string,
    options: { now?: () => number } = {},
  ): Promise<AuthorityStore> {
    const directory = join(dataDir, AUTHORITIES_DIR);
    const now = options.now ?? Date.now;
    return new AuthorityStore(directory, now, await readAuthorities(directory, now()));
  }

  list(): readonly Authority[] {
    return this.#authorities;
  }

  /** Files that were skipped, and why (for a warning; never fatal). */
  get problems(): readonly string[] {
    return this.#problems;
  }

  /**
   * Imports one authority certificate (PEM text). Importing one that is already there is not
   * an error (`added: false`). Throws AuthorityError('invalid-certificate') for anything that is
   * not a usable CA certificate.
   */
  async import(pem: string): Promise<{ authority: Authority; added: boolean }> {
    const parsed = parseAuthorityPem(pem, { now: this.#now(), refuseExpired: true });
    await this.reload();
    const existing = this.#authorities.find((a) => a.fingerprint === parsed.fingerprint);
    if (existing) return { authority: existing, added: false };
    const file = join(
      this.directory,
      `${parsed.fingerprint.replace(/:/g, '').slice(0, 32).toLowerCase()}.pem`,
    );
    await mkdir(this.directory, { recursive: true, mode: 0o700 });
    await writeSecretFileAtomic(file, certificateToPem(parsed.certificate));
    await chmod(file, 0o644); // a certificate is public; only its integrity matters
    await this.reload();
    return {
      authority: this.#authorities.find((a) => a.fingerprint === parsed.fingerprint) ?? {
        ...parsed,
        file,
      },
      added: true,
    };
  }

  /** Removes the authority with this SHA-256 fingerprint (colons optional); returns it. */
  async remove(fingerprintText: string): Promise<Authority> {
    const wanted = normalizeCertificateFingerprint(fingerprintText);
    if (!wanted) {
      throw new AuthorityError(
        'not-found',
        'give the authority’s SHA-256 fingerprint as 64 hex digits (parley ca list shows it)',
      );
    }
    await this.reload();
    const found = this.#authorities.find((a) => a.fingerprint === wanted);
    if (!found?.file)
      throw new AuthorityError('not-found', `no imported authority has the fingerprint ${wanted}`);
    await rm(found.file, { force: true });
    await this.reload();
    return found;
  }

  async reload(): Promise<void> {
    const loaded = await readAuthorities(this.directory, this.#now());
    this.#authorities = loaded.authorities;
    this.#problems = loaded.problems;
  }
}

/** For the desktop app's IPC: an authority as the renderer sees it. */
export function authorityView(authority: Authority): AuthorityView {
  return {
    fingerprint: authority.fingerprint,
    name: authority.name,
    subject: authority.certificate.subject,
    notBefore: authority.certificate.notBefore.getTime(),
    notAfter: authority.certificate.notAfter.getTime(),
  };
}

interface Loaded {
  readonly authorities: Authority[];
  readonly problems: string[];
}

async function readAuthorities(directory: string, now: number): Promise<Loaded> {
  let names: string[];
  try {
    names = (await readdir(directory)).filter((name) => name.endsWith('.pem')).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      return { authorities: [], problems: [] };
    throw new AuthorityError(
      'authority-store',
      `cannot read ${directory}: ${(error as Error).message}`,
    );
  }
  const authorities: Authority[] = [];
  const problems: string[] = [];
  for (const name of names) {
    const file = join(directory, name);
    try {
      const authority = parseAuthorityPem(await readFile(file, 'utf8'), { now, file });
      if (!authorities.some((a) => a.fingerprint === authority.fingerprint))
        authorities.push(authority);
    } catch (error) {
      problems.push(`${file}: ${(error as Error).message}`);
    }
  }
  return { authorities, problems };
}
