// A scriptable `window.parley` for state and screen tests: requests answer from `answers`
// (or `{}`), events are fired by hand with `emit`.
import { vi } from 'vitest';
import {
  type EventName,
  type EventPayload,
  type IpcResult,
  type ParleyApi,
  type RequestName,
} from '../../src-shared/ipc/contract.ts';
import { TimelineStore } from '../../src-renderer/state/timeline.svelte.ts';
import { HOST, NOON } from './fixtures.ts';

type Answer = (input: unknown) => IpcResult<unknown> | Promise<IpcResult<unknown>>;

export interface FakePlatform {
  readonly api: ParleyApi;
  readonly calls: { name: string; input: unknown }[];
  answer(name: RequestName, answer: Answer): void;
  emit<N extends EventName>(name: N, payload: EventPayload<N>): void;
}

export function fakePlatform(): FakePlatform {
  const answers = new Map<string, Answer>();
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  const calls: { name: string; input: unknown }[] = [];
  const api = new Proxy({} as ParleyApi, {
    get(_target, property) {
      if (typeof property !== 'string' || property === 'then') return undefined;
      const event = /^on([A-Z])(.*)$/.exec(property);
      if (event) {
        const name = `${event[1]!.toLowerCase()}${event[2]}`;
        return (listener: (payload: unknown) => void) => {
          if (!listeners.has(name)) listeners.set(name, new Set());
          listeners.get(name)!.add(listener);
          return () => listeners.get(name)!.delete(listener);
        };
      }
      return vi.fn(async (input: unknown) => {
        calls.push({ name: property, input });
        const answer = answers.get(property);
        return answer ? answer(input) : { ok: true, value: {} };
      });
    },
  });
  return {
    api,
    calls,
    answer: (name, answer) => void answers.set(name, answer),
    emit: (name, payload) => listeners.get(name)?.forEach((listener) => listener(payload)),
  };
}

/** A TimelineStore on the fake platform, its clock at NOON and its host HOST (fixtures.ts). */
export function timelineStoreOn(platform: FakePlatform): TimelineStore {
  return new TimelineStore(
    platform.api,
    () => NOON,
    () => HOST,
  );
}
