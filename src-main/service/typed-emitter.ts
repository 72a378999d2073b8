/**
 * A small typed event emitter. Not node:events: there an `error` event without a listener
 * throws, and `error` is an ordinary event of the IPC contract. A listener that throws is
 * reported to `onListenerError` and never stops the others or the emitter.
 */
export type Listener<T> = (payload: T) => void;

export class TypedEmitter<Events extends Record<string, unknown>> {
  readonly #listeners = new Map<keyof Events, Set<Listener<never>>>();
  readonly #onListenerError: (name: string, error: unknown) => void;

  constructor(onListenerError: (name: string, error: unknown) => void = () => undefined) {
    this.#onListenerError = onListenerError;
  }

  /** Subscribes; returns the unsubscribe. */
  on<N extends keyof Events>(name: N, listener: Listener<Events[N]>): () => void {
    let set = this.#listeners.get(name);
    if (!set) {
      set = new Set();
      this.#listeners.set(name, set);
    }
    set.add(listener as Listener<never>);
    return () => this.off(name, listener);
  }

  off<N extends keyof Events>(name: N, listener: Listener<Events[N]>): void {
    this.#listeners.get(name)?.delete(listener as Listener<never>);
  }

  emit<N extends keyof Events>(name: N, payload: Events[N]): void {
    const set = this.#listeners.get(name);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        (listener as Listener<Events[N]>)(payload);
      } catch (error) {
        this.#onListenerError(String(name), error);
      }
    }
  }

  listenerCount(name: keyof Events): number {
    return this.#listeners.get(name)?.size ?? 0;
  }
}
