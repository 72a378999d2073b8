/**
 * What a test peer received, in order, and a way to wait for a message: the scripted client
 * (wire-client.ts) logs what the host sends, the hostile host (hostile-host.ts) what the client
 * sends. `from` names the sender in a timeout's message.
 */
export class MessageLog<M extends { t: string }> {
  readonly received: M[] = [];
  readonly #listeners = new Set<() => void>();
  readonly #from: string;

  constructor(from: string) {
    this.#from = from;
  }

  add(message: M): void {
    this.received.push(message);
    for (const listener of this.#listeners) listener();
  }

  of<T extends M['t']>(type: T): Extract<M, { t: T }>[] {
    return this.received.filter((m): m is Extract<M, { t: T }> => m.t === type);
  }

  /** Resolves with the first message of `type` (already received or coming) that matches. */
  waitFor<T extends M['t']>(
    type: T,
    predicate: (message: Extract<M, { t: T }>) => boolean,
    timeoutMs: number,
  ): Promise<Extract<M, { t: T }>> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.of(type).find(predicate);
        if (found) {
          this.#listeners.delete(check);
          clearTimeout(timer);
          resolve(found);
        }
      };
      const timer = setTimeout(() => {
        this.#listeners.delete(check);
        const got = this.received.map((m) => m.t).join(',');
        reject(new Error(`no "${type}" from ${this.#from} within ${timeoutMs} ms; got ${got}`));
      }, timeoutMs);
      this.#listeners.add(check);
      check();
    });
  }
}
