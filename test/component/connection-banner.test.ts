import { fireEvent, render, screen } from '@testing-library/svelte';
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

  it('offers Retry now while reconnecting, and it retries', async () => {
    const onretry = vi.fn();
    render(ConnectionBanner, {
      connection: { status: 'reconnecting', retryAt: Date.now() + 20_000, attempt: 2 },
      onretry,
    });
    await fireEvent.click(screen.getByRole('button', { name: 'Retry now' }));
    expect(onretry).toHaveBeenCalledOnce();
  });

  it('keeps focus on Retry now through the attempt it starts, and hands it to the message box once connected', async () => {
    const home = document.createElement('textarea');
    home.dataset['focusHome'] = '';
    document.body.append(home);
    const onretry = vi.fn();
    const reconnecting = {
      status: 'reconnecting' as const,
      retryAt: Date.now() + 20_000,
      attempt: 9,
    };
    const { rerender } = render(ConnectionBanner, { connection: reconnecting, onretry });
    const button = screen.getByRole('button', { name: 'Retry now' });
    button.focus();
    await fireEvent.click(button);
    expect(onretry).toHaveBeenCalledOnce();
    // The attempt runs: the same button, inactive, still holding the focus.
    await rerender({ connection: { status: 'connecting', attempt: 9 }, onretry });
    expect(screen.getByRole('button', { name: 'Retrying…' })).toBe(button);
    expect(button.getAttribute('aria-disabled')).toBe('true');
    expect(document.activeElement).toBe(button);
    await fireEvent.click(button);
    expect(onretry).toHaveBeenCalledOnce();
    // Refused again: back to the countdown, focus still there.
    await rerender({ connection: { ...reconnecting, attempt: 10 }, onretry });
    expect(screen.getByRole('button', { name: 'Retry now' })).toBe(button);
    expect(document.activeElement).toBe(button);
    // Reached: the banner goes, and typing goes on in the message box.
    await fireEvent.click(button);
    await rerender({ connection: { status: 'connecting', attempt: 10 }, onretry });
    await rerender({ connection: { status: 'connected' }, onretry });
    await vi.waitFor(() => expect(document.activeElement).toBe(home));
    home.remove();
  });

  it('says a host never reached cannot be reached, and why — not that the connection was lost', () => {
    vi.useFakeTimers({ now: 1_000_000 });
    render(ConnectionBanner, {
      connection: {
        status: 'reconnecting',
        host: '127.0.0.1',
        port: 1,
        retryAt: 1_027_000,
        attempt: 4,
        neverReached: true,
        failure: 'refused',
        reason: "can't reach 127.0.0.1:1: connection refused",
      },
      onretry: () => {},
    });
    const text = screen.getByRole('status').textContent?.replace(/\s+/g, ' ') ?? '';
    expect(text).toContain('Can’t reach 127.0.0.1:1 — connection refused. Trying again in 27 s');
    expect(text).not.toContain('Connection lost');
    expect(screen.getByRole('button', { name: 'Retry now' })).toBeTruthy();
  });

  it.each([
    ['unreachable', 'no route to the host'],
    ['timeout', 'timed out'],
    ['not-found', 'name not found'],
  ] as const)('words a %s host as “%s”', (failure, words) => {
    render(ConnectionBanner, {
      connection: {
        status: 'reconnecting',
        host: 'chat.example.org',
        port: 7878,
        neverReached: true,
        failure,
      },
      onretry: () => {},
    });
    expect(screen.getByRole('status').textContent).toContain(
      `Can’t reach chat.example.org:7878 — ${words}.`,
    );
  });

  it.each(['lost', 'refused'] as const)(
    'still says the connection was lost when the host had answered (then %s)',
    (failure) => {
      render(ConnectionBanner, {
        connection: { status: 'reconnecting', host: 'h', port: 1, failure },
        onretry: () => {},
      });
      const text = screen.getByRole('status').textContent ?? '';
      expect(text).toContain('Connection lost.');
      expect(text).not.toContain('Can’t reach');
    },
  );
});
