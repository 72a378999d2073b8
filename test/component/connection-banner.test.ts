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
    expect(banner.textContent).toContain('Reconnecting in 5 s.');
    expect(banner.textContent).not.toMatch(/attempt|Tried/);
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

  it('says a Retry now that failed did not get through, once, in the banner’s own status', async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const refused = {
      status: 'reconnecting' as const,
      host: '127.0.0.1',
      port: 1,
      neverReached: true,
      failure: 'refused' as const,
    };
    const onretry = vi.fn();
    const { container, rerender } = render(ConnectionBanner, {
      connection: { ...refused, retryAt: 1_010_000, attempt: 1 },
      onretry,
    });
    const banner = screen.getByRole('status');
    const text = () => banner.textContent?.replace(/\s+/g, ' ') ?? '';
    // An attempt nobody asked for that fails again: the ordinary wording.
    await rerender({ connection: { ...refused, status: 'connecting', attempt: 1 }, onretry });
    await rerender({ connection: { ...refused, retryAt: 1_020_000, attempt: 2 }, onretry });
    expect(text()).toContain('Can’t reach 127.0.0.1:1 — connection refused. Trying again in 20 s');
    expect(text()).not.toContain('Still');
    // Retry now, refused again: the banner says so before the next countdown.
    await fireEvent.click(screen.getByRole('button', { name: 'Retry now' }));
    await rerender({
      connection: { ...refused, status: 'connecting', attempt: 2, retried: true },
      onretry,
    });
    expect(text()).toContain('Connecting…');
    await rerender({
      connection: { ...refused, retryAt: 1_030_000, attempt: 3, retried: true },
      onretry,
    });
    expect(text()).toContain(
      'Still can’t reach 127.0.0.1:1 — connection refused. Trying again in 30 s',
    );
    // Heard once, politely: the banner is the one live region, and says it once.
    expect(banner.getAttribute('aria-live') ?? 'polite').toBe('polite');
    expect(container.querySelectorAll('[role="status"], [role="alert"], [aria-live]')).toHaveLength(
      1,
    );
    expect(text().match(/Still can’t reach/g)).toHaveLength(1);
    expect(banner.querySelector('.visually-hidden')?.textContent).toBe('Trying again shortly.');
    // The countdown ticking does not change what is said; the next automatic attempt ends it.
    await vi.advanceTimersByTimeAsync(5000);
    expect(text()).toContain('Still can’t reach 127.0.0.1:1');
    await rerender({ connection: { ...refused, status: 'connecting', attempt: 3 }, onretry });
    await rerender({ connection: { ...refused, retryAt: 1_070_000, attempt: 4 }, onretry });
    expect(text()).toMatch(/^\s*Can’t reach 127\.0\.0\.1:1/);
    // A state sent again unchanged is no new outcome; one whose attempt grew is, even unseen.
    await fireEvent.click(screen.getByRole('button', { name: 'Retry now' }));
    await rerender({ connection: { ...refused, retryAt: 1_070_000, attempt: 4 }, onretry });
    expect(text()).not.toContain('Still');
    await rerender({
      connection: { ...refused, retryAt: 1_110_000, attempt: 5, retried: true },
      onretry,
    });
    expect(text()).toContain('Still can’t reach 127.0.0.1:1');
  });

  it('waits for the retry’s own attempt when an automatic one’s failure crosses the press', async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const refused = {
      status: 'reconnecting' as const,
      host: '127.0.0.1',
      port: 1,
      neverReached: true,
      failure: 'refused' as const,
    };
    const onretry = vi.fn();
    const { rerender } = render(ConnectionBanner, {
      connection: { ...refused, retryAt: 1_002_000, attempt: 3 },
      onretry,
    });
    const text = () => screen.getByRole('status').textContent?.replace(/\s+/g, ' ') ?? '';
    await fireEvent.click(screen.getByRole('button', { name: 'Retry now' }));
    // The automatic attempt main had already begun, and its failure: not the retry's answer.
    await rerender({ connection: { ...refused, status: 'connecting', attempt: 3 }, onretry });
    await rerender({ connection: { ...refused, retryAt: 1_004_000, attempt: 4 }, onretry });
    expect(text()).not.toContain('Still');
    // The retry's own attempt, refused: now the banner says it did not get through.
    await rerender({
      connection: { ...refused, status: 'connecting', attempt: 4, retried: true },
      onretry,
    });
    await rerender({
      connection: { ...refused, retryAt: 1_008_000, attempt: 5, retried: true },
      onretry,
    });
    expect(text()).toContain('Still can’t reach 127.0.0.1:1');
  });

  it('says Still can’t reach after Retry now fails on a lost connection, and Still offline after Try again', async () => {
    const lost = {
      status: 'reconnecting' as const,
      host: 'chat.example.org',
      port: 7878,
      failure: 'lost' as const,
      retryAt: Date.now() + 5000,
      attempt: 1,
    };
    const onretry = vi.fn();
    const { rerender } = render(ConnectionBanner, { connection: lost, onretry });
    const text = () => screen.getByRole('status').textContent?.replace(/\s+/g, ' ') ?? '';
    expect(text()).toContain('Connection lost.');
    await fireEvent.click(screen.getByRole('button', { name: 'Retry now' }));
    await rerender({ connection: { ...lost, status: 'connecting' }, onretry });
    await rerender({
      connection: { ...lost, failure: 'refused', attempt: 2, retried: true },
      onretry,
    });
    expect(text()).toContain('Still can’t reach chat.example.org:7878 — connection refused.');
    const offline = { status: 'offline' as const, reason: 'the host is full' };
    await rerender({ connection: offline, onretry });
    await fireEvent.click(screen.getByRole('button', { name: 'Try again' }));
    await rerender({ connection: { status: 'connecting' }, onretry });
    await rerender({ connection: offline, onretry });
    expect(text()).toContain('Still offline. The host is full.');
  });

  it.each([
    [{ attempt: 2, neverReached: true }, null],
    [{ attempt: 3, neverReached: true }, 'Tried 3 times'],
    [{ attempt: 13, neverReached: true }, 'Tried 13 times'],
    // After a loss the first attempt is the loss itself.
    [{ attempt: 3 }, null],
    [{ attempt: 4 }, 'Tried 3 times'],
  ])('counts the attempts for people, quietly, once there are a few (%o)', (extra, words) => {
    render(ConnectionBanner, {
      connection: {
        status: 'reconnecting',
        host: '127.0.0.1',
        port: 1,
        failure: 'refused',
        retryAt: Date.now() + 30_000,
        ...extra,
      },
      onretry: () => {},
    });
    const banner = screen.getByRole('status');
    expect(banner.textContent).not.toContain('attempt');
    const tries = banner.querySelector('.tries');
    expect(tries?.textContent ?? null).toBe(words);
    // Outside the sentence, after the countdown, and not read out with every change.
    if (tries) {
      expect(banner.textContent?.replace(/\s+/g, ' ')).toMatch(/in 30 s\. .*Tried \d+ times/);
      expect(tries.getAttribute('aria-hidden')).toBe('true');
    }
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
