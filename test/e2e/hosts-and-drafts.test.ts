// What the UI keeps per room is kept per host and room: after leaving host A for host B, B's
// `#lobby` shows B's messages only; and a half-typed message stays in the room it was typed
// in, so Enter in another room never sends it there.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Person, Rig, type TestHost, connectWithInvite, messageRow, send } from './harness.ts';

const rig = new Rig();
let hostA: TestHost;
let hostB: TestHost;
let alice: Person;
let bob: Person;

beforeAll(async () => {
  [hostA, hostB] = await Promise.all([
    rig.host({ rooms: ['lobby', 'random'] }),
    rig.host({ rooms: ['lobby', 'random'] }),
  ]);
  [alice, bob] = await Promise.all([rig.person('alice'), rig.person('bob')]);
});

afterAll(() => rig.dispose());

const poll = { timeout: 10_000, interval: 50 };
const composer = (person: Person) => person.page.getByRole('textbox', { name: /^Message #/ });
const heading = (person: Person) => person.page.getByRole('heading', { level: 1 });

describe('local state belongs to one host and one room', () => {
  it("shows host B's #lobby without host A's #lobby messages after switching hosts", async () => {
    const { page } = alice;
    await connectWithInvite(alice, hostA.running.invite('lobby'), 'alice');
    await send(alice, 'Said on host A only');
    await messageRow(alice, 'Said on host A only').waitFor();

    // Bob says something in B's #lobby before Alice arrives: it comes to her as history.
    await connectWithInvite(bob, hostB.running.invite('lobby'), 'bob');
    await send(bob, 'Said on host B only');
    await messageRow(bob, 'Said on host B only').waitFor();

    await page.getByRole('button', { name: 'Disconnect' }).click();
    await page.getByRole('heading', { name: 'Join a conversation' }).waitFor();
    await connectWithInvite(alice, hostB.running.invite('lobby'), 'alice');
    await expect.poll(() => heading(alice).textContent(), poll).toContain('lobby');

    await messageRow(alice, 'Said on host B only').waitFor();
    await page
      .getByRole('list', { name: 'Members of #lobby' })
      .getByRole('button', { name: /bob.*Online/ })
      .waitFor();
    await send(alice, 'Alice on host B');
    await messageRow(alice, 'Alice on host B').waitFor();
    expect(await messageRow(alice, 'Said on host A only').count()).toBe(0);
    // Bob, on B all along, never sees A's message either.
    await messageRow(bob, 'Alice on host B').waitFor();
    expect(await messageRow(bob, 'Said on host A only').count()).toBe(0);
  });

  it('keeps a half-typed message in its own room, and Enter sends only what is typed there', async () => {
    const { page } = alice;
    await composer(alice).fill('half-typed for the lobby');

    await page.getByRole('button', { name: 'Join random' }).click();
    await expect.poll(() => heading(alice).textContent(), poll).toContain('random');
    expect(await composer(alice).inputValue()).toBe('');
    // Enter in #random with nothing typed sends nothing; what is typed here goes here.
    await composer(alice).press('Enter');
    await send(alice, 'typed in random');
    await messageRow(alice, 'typed in random').waitFor();
    expect(await messageRow(alice, 'half-typed for the lobby').count()).toBe(0);

    await page.getByRole('button', { name: 'lobby', exact: true }).click();
    await expect.poll(() => heading(alice).textContent(), poll).toContain('lobby');
    expect(await composer(alice).inputValue()).toBe('half-typed for the lobby');
    await composer(alice).press('Enter');
    await messageRow(alice, 'half-typed for the lobby').waitFor();
    expect(await composer(alice).inputValue()).toBe('');

    // Bob sees each message in the room it was written in.
    await messageRow(bob, 'half-typed for the lobby').waitFor();
    expect(await messageRow(bob, 'typed in random').count()).toBe(0);
  });

  it('ran without console errors or CSP violations', () => {
    expect([...alice.problems, ...bob.problems]).toEqual([]);
  });
});
