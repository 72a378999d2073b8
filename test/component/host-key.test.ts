import { describe, expect, it } from 'vitest';
import { hostKey } from '../../src-renderer/state/host-key.ts';

describe('hostKey', () => {
  it('is one host whatever the spelling of its name, as main sees it', () => {
    expect(hostKey({ host: 'Chat.Example.org', port: 7878 })).toBe(
      hostKey({ host: 'chat.example.org', port: 7878 }),
    );
  });

  it('keeps hosts on other ports apart, and is empty before any host', () => {
    expect(hostKey({ host: 'example.org', port: 7878 })).not.toBe(
      hostKey({ host: 'example.org', port: 7879 }),
    );
    expect(hostKey({})).toBe('');
  });
});
