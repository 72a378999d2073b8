/**
 * The event model of the client core and the desktop service: a small typed emitter with one
 * payload per event. Not node:events: there an `error` event without a listener throws, and a
 * listener that throws unwinds into whoever emitted — here a message from the host. A listener
 * that throws is reported to `onListenerError` and never stops the others or the emitter.
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

  /** Subscribes for the next event only; returns the unsubscribe. */
  once<N extends keyof Events>(name: N, listener: Listener<Events[N]>): () => void {
    const off = this.on(name, (payload) => {
      off();
      listener(payload);
    });
    return off;
  }

  off<N extends keyof Events>(name: N, listener: Listener<Events[N]>): void {
    this.#listeners.get(name)?.delete(listener as Listener<never>);
  }

  /** Drops every listener of `name`, or of every event. */
  removeAllListeners(name?: keyof Events): void {
    if (name === undefined) this.#listeners.clear();
    else this.#listeners.delete(name);
  }

  /** Calls every listener of `name`; returns whether there was any. */
  emit<N extends keyof Events>(name: N, payload: Events[N]): boolean {
    const set = this.#listeners.get(name);
    if (!set || set.size === 0) return false;
    for (const listener of [...set]) {
      try {
        (listener as Listener<Events[N]>)(payload);
      } catch (error) {
        try {
          this.#onListenerError(String(name), error);
        } catch {
          // The report itself failed: nothing further to tell, and the emitter must go on.
        }
      }
    }
    return true;
  }

  listenerCount(name: keyof Events): number {
    return this.#listeners.get(name)?.size ?? 0;
  }
}
