import { describe, expect, it } from 'vitest';
import { TypedEmitter } from '../../../src-main/client/typed-emitter.ts';

type Events = { note: string; error: string };

describe('TypedEmitter (the event model of the client core and the desktop service)', () => {
  it('isolates listeners: one that throws is reported, the others still hear', () => {
    const failures: string[] = [];
    const emitter = new TypedEmitter<Events>((name, error) =>
      failures.push(`${name}: ${(error as Error).message}`),
    );
    const heard: string[] = [];
    emitter.on('note', () => {
      throw new Error('broken');
    });
    emitter.on('note', (text) => heard.push(text));
    expect(emitter.emit('note', 'one')).toBe(true);
    expect(emitter.emit('note', 'two')).toBe(true);
    expect(heard).toEqual(['one', 'two']);
    expect(failures).toEqual(['note: broken', 'note: broken']);
  });

  it('survives a failure report that fails, and an error event nobody listens to', () => {
    const emitter = new TypedEmitter<Events>(() => {
      throw new Error('the report failed too');
    });
    emitter.on('note', () => {
      throw new Error('broken');
    });
    expect(() => emitter.emit('note', 'x')).not.toThrow();
    expect(emitter.emit('error', 'nobody listens')).toBe(false);
  });

  it('supports once, unsubscribe, and removing all listeners', () => {
    const emitter = new TypedEmitter<Events>();
    const heard: string[] = [];
    emitter.once('note', (text) => heard.push(`once ${text}`));
    const off = emitter.on('note', (text) => heard.push(text));
    emitter.emit('note', 'a');
    off();
    emitter.emit('note', 'b');
    emitter.on('note', (text) => heard.push(`again ${text}`));
    emitter.removeAllListeners();
    emitter.emit('note', 'c');
    expect(heard).toEqual(['once a', 'a']);
    expect(emitter.listenerCount('note')).toBe(0);
  });
});
