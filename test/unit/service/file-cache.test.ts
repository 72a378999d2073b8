import { describe, expect, it } from 'vitest';
import { IMAGE_CACHE_MAX_BYTES, ImageCache } from '../../../src-main/service/file-cache.ts';

const key = (seq: number, room = 'lobby', hostId = 'h:1') => ({
  hostId,
  room,
  seq,
  fileId: `f${seq}`,
});

describe('ImageCache', () => {
  it('holds at most its budget, dropping the least recently used first', () => {
    const cache = new ImageCache(100);
    cache.set(key(1), new Uint8Array(40));
    cache.set(key(2), new Uint8Array(40));
    cache.get(key(1)); // 1 is now the most recently used
    cache.set(key(3), new Uint8Array(40));
    expect(cache.get(key(2))).toBeUndefined();
    expect(cache.get(key(1))).toHaveLength(40);
    expect(cache.get(key(3))).toHaveLength(40);
    expect(cache.size).toBe(80);
    // Larger than the whole budget: not kept, nothing else dropped for it.
    cache.set(key(4), new Uint8Array(101));
    expect(cache.get(key(4))).toBeUndefined();
    expect(cache.size).toBe(80);
  });

  it('keeps 50 MiB by default', () => {
    expect(IMAGE_CACHE_MAX_BYTES).toBe(50 * 1024 * 1024);
  });

  it('keeps its own copy, and wipes the bytes it drops', () => {
    const cache = new ImageCache(100);
    const mine = Uint8Array.from([1, 2, 3]);
    cache.set(key(1), mine);
    const held = cache.get(key(1));
    expect(held).not.toBe(mine);
    cache.forgetMessage('h:1', 'lobby', 1);
    expect([...mine]).toEqual([1, 2, 3]);
    expect([...(held ?? [])]).toEqual([0, 0, 0]);
    expect(cache.size).toBe(0);
  });

  it('forgets by message, room and host; a new file of the same message is a new entry', () => {
    const cache = new ImageCache(1000);
    cache.set(key(1), new Uint8Array(1));
    cache.set(key(2), new Uint8Array(1));
    cache.set(key(3, 'dev'), new Uint8Array(1));
    cache.set(key(4, 'lobby', 'h:2'), new Uint8Array(1));
    expect(cache.get({ ...key(1), fileId: 'other' })).toBeUndefined();
    cache.forgetMessage('h:1', 'lobby', 1);
    expect(cache.get(key(1))).toBeUndefined();
    expect(cache.get(key(2))).toBeDefined();
    cache.forgetRoom('h:1', 'lobby');
    expect(cache.get(key(2))).toBeUndefined();
    expect(cache.get(key(3, 'dev'))).toBeDefined();
    cache.forgetHost('h:1');
    expect(cache.get(key(3, 'dev'))).toBeUndefined();
    expect(cache.get(key(4, 'lobby', 'h:2'))).toBeDefined();
    cache.clear();
    expect(cache.size).toBe(0);
  });
});
