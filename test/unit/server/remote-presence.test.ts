import { describe, expect, it } from 'vitest';
import { RemotePresence } from '../../../src-main/server/cluster/remote-presence.ts';

describe('RemotePresence', () => {
  it('knows who is where on other nodes, and a later list replaces what it knew', () => {
    let now = 0;
    const presence = new RemotePresence({ expiryMs: 100, now: () => now });
    presence.changed('n1', 'lobby', 'k1', true);
    presence.changed('n2', 'lobby', 'k1', true);
    presence.changed('n1', 'lobby', 'k1', false);
    expect(presence.has('lobby', 'k1')).toBe(true); // still on n2
    presence.replace('n2', [['dev', ['k2']]]);
    expect(presence.has('lobby', 'k1')).toBe(false);
    expect(presence.has('dev', 'k2')).toBe(true);
    now = 50;
    expect(presence.expire()).toEqual([]);
  });

  it('drops a node not heard from in time, naming keys now in a room on no node', () => {
    let now = 0;
    const presence = new RemotePresence({ expiryMs: 100, now: () => now });
    presence.changed('n1', 'lobby', 'k1', true);
    presence.changed('n1', 'lobby', 'k2', true);
    now = 60;
    presence.changed('n2', 'lobby', 'k2', true);
    now = 150;
    expect(presence.expire()).toEqual([{ room: 'lobby', key: 'k1' }]);
    expect(presence.has('lobby', 'k2')).toBe(true);
    now = 200;
    expect(presence.expire()).toEqual([{ room: 'lobby', key: 'k2' }]);
  });
});

describe('RemotePresence: a node restarted at once', () => {
  it('names the keys its fresh list dropped that are on no other node', () => {
    const presence = new RemotePresence({ expiryMs: 100, now: () => 0 });
    presence.changed('n1', 'lobby', 'k1', true);
    presence.changed('n1', 'lobby', 'k2', true);
    presence.changed('n2', 'lobby', 'k2', true);
    expect(presence.replace('n1', [])).toEqual([{ room: 'lobby', key: 'k1' }]);
    expect(presence.replace('n1', [['lobby', ['k3']]])).toEqual([]);
  });
});
