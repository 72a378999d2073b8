import { describe, expect, it } from 'vitest';
import { AddressBudgets, addressBlock } from '../../../src-main/server/address-budgets.ts';

describe('AddressBudgets', () => {
  it('gives each address its own bucket, refilled over time', () => {
    const budgets = new AddressBudgets(2, 1, 10);
    const a = budgets.for('10.0.0.1', 0);
    expect([a.take(0), a.take(0), a.take(0)]).toEqual([true, true, false]);
    expect(budgets.for('10.0.0.2', 0).take(0)).toBe(true); // another address: its own
    expect(budgets.for('10.0.0.1', 0).waitMs(0)).toBe(1000);
    expect(budgets.for('10.0.0.1', 1000).take(1000)).toBe(true);
  });

  it('remembers a bounded number of addresses, forgetting the least recently used', () => {
    const budgets = new AddressBudgets(1, 1 / 60, 2);
    budgets.for('a', 0).take(0);
    budgets.for('b', 0).take(0);
    budgets.for('a', 0); // used again: b is now the oldest
    budgets.for('c', 0);
    expect(budgets.size).toBe(2);
    expect(budgets.for('a', 0).take(0)).toBe(false); // still remembered: still empty
    expect(budgets.for('b', 0).take(0)).toBe(true); // forgotten: a full allowance again
  });

  it('counts an IPv6 /64 as one address, and a mapped IPv4 address as itself', () => {
    const budgets = new AddressBudgets(1, 1 / 60, 10);
    expect(budgets.for('2001:db8:1:2::1', 0).take(0)).toBe(true);
    // Another address in the same /64 (a host may hand out any of them): the same allowance.
    expect(budgets.for('2001:db8:1:2:ffff:0:0:7', 0).take(0)).toBe(false);
    expect(budgets.for('2001:db8:1:3::1', 0).take(0)).toBe(true); // another /64
    expect(budgets.for('192.0.2.1', 0).take(0)).toBe(true);
    expect(budgets.for('::ffff:192.0.2.1', 0).take(0)).toBe(false);
  });

  it('writes each block one way', () => {
    expect(addressBlock('2001:0db8:0000:0002::1')).toBe('2001:db8:0:2::/64');
    expect(addressBlock('2001:db8::2')).toBe('2001:db8:0:0::/64');
    expect(addressBlock('::1')).toBe('0:0:0:0::/64');
    expect(addressBlock('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(addressBlock('::ffff:10.1.2.3')).toBe('10.1.2.3');
    expect(addressBlock('64:ff9b::192.0.2.33')).toBe('64:ff9b:0:0::/64');
    expect(addressBlock('10.0.0.1')).toBe('10.0.0.1');
  });
});
