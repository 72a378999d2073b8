import { render, screen } from '@testing-library/svelte';
import { tick } from 'svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import ConnectionBanner from '../../src-renderer/components/ConnectionBanner.svelte';

afterEach(() => vi.useRealTimers());

describe('ConnectionBanner', () => {
  it('counts down to the next attempt while reconnecting', async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    render(ConnectionBanner, {
      connection: { status: 'reconnecting', retryAt: 1_005_000, attempt: 3 },
      queued: 2,
      onretry: () => {},
    });
    const banner = screen.getByRole('status');
    expect(banner.textContent).toContain('Reconnecting in 5 s (attempt 3)');
    expect(banner.textContent).toContain('2 messages will be sent then');
    await vi.advanceTimersByTimeAsync(2000);
    await tick();
    expect(banner.textContent).toContain('Reconnecting in 3 s');
    await vi.advanceTimersByTimeAsync(3500);
    await tick();
    expect(banner.textContent).toContain('Reconnecting now');
  });

  it('shows nothing while connected, and why when offline', () => {
    const { container, rerender } = render(ConnectionBanner, {
      connection: { status: 'connected' },
      onretry: () => {},
    });
    expect(container.textContent?.trim()).toBe('');
    void rerender({ connection: { status: 'offline', reason: 'the host is full' } });
    return tick().then(() => {
      expect(screen.getByRole('status').textContent).toContain('Offline. The host is full.');
      expect(screen.getByRole('button', { name: 'Try again' })).toBeTruthy();
    });
  });
});
