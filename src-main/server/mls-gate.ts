/** What the host may read of an MLS message: its public header (docs/protocol.md §12). */
export interface MlsHeader {
  readonly wire: 'private' | 'public' | 'welcome' | 'key-package';
  /** base64url */
  readonly groupId?: string;
  readonly epoch?: number;
  readonly content?: 'application' | 'commit' | 'proposal';
}

export type KeyPackageVerdict = { ok: true } | { ok: false; reason: string };

/** The MLS checks the host makes, with nothing secret: headers and KeyPackages. */
export interface HostMlsChecks {
  inspect(data: string): MlsHeader | undefined;
  checkKeyPackage(
    data: string,
    expect: { parleyKey: Uint8Array; device: string; now: number },
  ): Promise<KeyPackageVerdict>;
}

/**
 * The MLS library, loaded on first use: a host whose rooms are all plaintext never loads it, and
 * starts as fast as before. Until it is ready, requests that need it wait (the caller holds them
 * in order); once ready, every check is synchronous but the KeyPackage's signature.
 */
export class MlsGate {
  readonly #load: () => Promise<HostMlsChecks>;
  #ready: HostMlsChecks | undefined;
  #loading: Promise<HostMlsChecks> | undefined;

  constructor(load: () => Promise<HostMlsChecks>) {
    this.#load = load;
  }

  /** The checks, if loaded. */
  get ready(): HostMlsChecks | undefined {
    return this.#ready;
  }

  /** Loads the checks once; a failed load is tried again on the next call. */
  load(): Promise<HostMlsChecks> {
    this.#loading ??= this.#load().then(
      (checks) => {
        this.#ready = checks;
        return checks;
      },
      (error: unknown) => {
        this.#loading = undefined;
        throw error;
      },
    );
    return this.#loading;
  }
}
