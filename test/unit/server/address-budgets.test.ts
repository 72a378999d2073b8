import { describe, expect, it } from 'vitest';
import { AddressBudgets } from '../../../src-main/server/address-budgets.ts';

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
});
