import { describe, expect, it } from 'vitest';
import { Deadlines } from '../../../src-main/client/deadlines.ts';
import { HostMisbehaved } from '../../../src-main/client/host-bounds.ts';
import {
  MAX_PENDING_REQUESTS,
  MembershipError,
  type MembershipRequest,
  MembershipRequests,
} from '../../../src-main/client/membership-requests.ts';
import type { Timers } from '../../../src-main/client/timers.ts';

/** Timers that run only when the test says: enough to see a deadline set and expire. */
function handClock() {
  let now = 0;
  const due: { at: number; run: () => void; id: number }[] = [];
  let ids = 0;
  const timers: Timers = {
    setTimeout: (run, ms) => (due.push({ at: now + ms, run, id: ++ids }), ids),
    clearTimeout: (id) => {
      const i = due.findIndex((t) => t.id === id);
      if (i >= 0) due.splice(i, 1);
    },
  };
  return {
    timers,
    now: () => now,
    advance(ms: number) {
      now += ms;
      for (const timer of due.filter((t) => t.at <= now)) {
        due.splice(due.indexOf(timer), 1);
        timer.run();
      }
    },
  };
}

function setUp() {
  const clock = handClock();
  const expired: string[] = [];
  const deadlines = new Deadlines(clock.timers, clock.now, (what) => expired.push(what));
  const requests = new MembershipRequests(deadlines, 30_000);
  const written: MembershipRequest[] = [];
  const write = (message: MembershipRequest) => (written.push(message), true);
  return { clock, expired, deadlines, requests, written, write };
}

describe('MembershipRequests', () => {
  it('gives each request its own rid and settles each with the answer carrying it', async () => {
    const { requests, written, write } = setUp();
    const topic = requests.start({ t: 'topic', room: 'lobby', topic: 'hi' }, write);
    const list = requests.start({ t: 'invite-list', room: 'lobby' }, write);
    const [first, second] = written;
    expect(first?.rid).not.toBe(second?.rid);
    // Answers may come in any order: the rid decides.
    expect(
      requests.answer({ t: 'invites', rid: second?.rid ?? -1, room: 'lobby', invites: [] }),
    ).toBe(true);
    expect(requests.answer({ t: 'done', rid: first?.rid ?? -1 })).toBe(true);
    await expect(list).resolves.toMatchObject({ t: 'invites', invites: [] });
    await expect(topic).resolves.toEqual({ t: 'done', rid: first?.rid });
    expect(requests.size).toBe(0);
  });

  it('rejects with the host code, message and wait of an error carrying the rid', async () => {
    const { requests, written, write } = setUp();
    const redeem = requests.start({ t: 'redeem', token: 'A'.repeat(24) }, write);
    requests.answer({
      t: 'error',
      code: 'rate-limited',
      message: 'slow down',
      rid: written[0]?.rid ?? -1,
      retryAfterMs: 5000,
      ref: 'lobby',
    });
    const error = await redeem.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MembershipError);
    expect(error).toMatchObject({
      code: 'rate-limited',
      message: 'slow down',
      retryAfterMs: 5000,
      ref: 'lobby',
    });
  });

  it('ignores an answer nobody waits for, and takes the wrong kind of answer for the host’s fault', async () => {
    const { requests, written, write } = setUp();
    expect(requests.answer({ t: 'done', rid: 999 })).toBe(false);
    const create = requests.start({ t: 'create', room: 'new' }, write);
    const rid = written[0]?.rid ?? -1;
    expect(() => requests.answer({ t: 'done', rid })).toThrow(HostMisbehaved);
    await expect(create).rejects.toMatchObject({ code: 'disconnected' });

    const other = requests.start({ t: 'create', room: 'new' }, write);
    const rid2 = written[1]?.rid ?? -1;
    expect(() =>
      requests.answer({
        t: 'room',
        rid: rid2,
        info: { room: 'elsewhere', kind: 'room', open: false },
      }),
    ).toThrow(/about another room/);
    await expect(other).rejects.toBeInstanceOf(MembershipError);
  });

  it('sets a deadline per request, settled by its answer', () => {
    const { requests, written, write, clock, expired } = setUp();
    void requests.start({ t: 'part', room: 'lobby' }, write);
    void requests.start({ t: 'part', room: 'dev' }, write).catch(() => undefined);
    requests.answer({ t: 'done', rid: written[0]?.rid ?? -1 });
    clock.advance(29_999);
    expect(expired).toEqual([]);
    clock.advance(1);
    expect(expired).toEqual(['answer a "part" request']);
  });

  it('fails what is in flight when the connection ends, and refuses without one', async () => {
    const { requests, write } = setUp();
    const pending = requests.start({ t: 'part', room: 'lobby' }, write);
    requests.failAll(new MembershipError('disconnected', 'gone'));
    await expect(pending).rejects.toMatchObject({ code: 'disconnected' });
    await expect(requests.start({ t: 'part', room: 'lobby' }, () => false)).rejects.toMatchObject({
      code: 'offline',
    });
    expect(requests.size).toBe(0);
  });

  it('holds at most MAX_PENDING_REQUESTS in flight', async () => {
    const { requests, write } = setUp();
    for (let i = 0; i < MAX_PENDING_REQUESTS; i++) {
      void requests.start({ t: 'part', room: 'lobby' }, write).catch(() => undefined);
    }
    await expect(requests.start({ t: 'part', room: 'lobby' }, write)).rejects.toMatchObject({
      code: 'busy',
    });
  });
});
