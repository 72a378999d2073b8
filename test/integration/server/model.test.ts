import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hostCommands } from '../../support/host-model/arbitraries.ts';
import { HostWorld } from '../../support/host-model/host-world.ts';
import { HostModel } from '../../support/host-model/model.ts';

// A model-based test of the whole host (issue #12, point 5): a real host process on 127.0.0.1,
// real SQLite, four keys on up to six connections issuing random sequences of valid and invalid
// requests — joins, leaves, sends of any size and content (controls, lone surrogates, astral
// characters, quotes, backslashes, at and around the byte and record limits), renames, history
// pages, typing, bursts past the message budget, malformed requests, dropped connections and
// resends of what was not acknowledged, and host restarts (clean and SIGKILL); and, since issue
// #14, membership of a private room (invites made, redeemed, guessed, used up and revoked;
// removal and bans, also while messages are in flight; parting, roles, opening and closing it).
// After every step (HostWorld.settle): the host process is alive and answers every connection;
// every acknowledged message is in the host's database exactly once, under the seq it was
// acknowledged with, and reached every member present then exactly once; nobody gets an event of
// a room they are not in, and no non-member (nor a removed key, after its `removed`) ever gets
// anything of a room; every member list matches the model; every refusal has the code the model
// expects.
//
// PARLEY_MODEL_STEPS sets the number of steps (default 300: `npm test`; `npm run fuzz` runs
// thousands); PARLEY_FUZZ_SEED (with PARLEY_FUZZ_PATH, both as fast-check prints them) replays a
// failure — the same commands; the host's timing may still differ; PARLEY_MODEL_SHRINK=1 shrinks
// a failing sequence (slow: every attempt starts a host).

const STEPS = positive(process.env['PARLEY_MODEL_STEPS'], 300);
const SEED = process.env['PARLEY_FUZZ_SEED'];
const PATH = process.env['PARLEY_FUZZ_PATH'];
const SHRINK = process.env['PARLEY_MODEL_SHRINK'] === '1';
/** Commands per sequence: long enough for state to build up, short enough to start over often. */
const MAX_COMMANDS = 150;
/**
 * Runs go on until STEPS steps have run. A run averages 40 to 65 steps (half the maximum
 * sequence, less the commands that do not apply when they come); this bounds the count.
 */
const MAX_RUNS = Math.max(2, Math.ceil(STEPS / 20));

function positive(text: string | undefined, fallback: number): number {
  const n = Number(text);
  return Number.isFinite(n) && n > 0 ? Math.floor(n) : fallback;
}

describe('the host against a model of itself', () => {
  it(
    'keeps every acknowledged message exactly once, and every member list right, whatever clients send',
    async () => {
      const started = performance.now();
      const stats = new Map<string, number>();
      let steps = 0;
      let runs = 0;
      await fc.assert(
        fc.asyncProperty(hostCommands(MAX_COMMANDS), async (commands) => {
          if (steps >= STEPS) return; // enough: the remaining runs are empty
          const world = await HostWorld.start();
          runs++;
          try {
            await fc.asyncModelRun(() => ({ model: new HostModel(), real: world }), commands);
            // A clean stop after all that: exit code 0, and nothing the host logged as an error.
            world.assertHostAlive();
            const errors = world.stderr.filter((line) => / error /.test(line));
            if (errors.length > 0) world.fail(`the host logged errors:\n${errors.join('\n')}`);
          } finally {
            steps += world.steps;
            for (const [what, n] of world.stats) stats.set(what, (stats.get(what) ?? 0) + n);
            await world.stop();
          }
          const exit = world.child.exitCode;
          if (exit !== 0) {
            world.fail(
              `the host exited with ${exit} (${world.child.signalCode}) on SIGTERM:\n${world.stderr.join('\n')}`,
            );
          }
        }),
        {
          numRuns: MAX_RUNS,
          endOnFailure: !SHRINK,
          ...(SEED !== undefined ? { seed: Number(SEED) } : {}),
          ...(SEED !== undefined && PATH !== undefined ? { path: PATH } : {}),
        },
      );
      const seconds = (performance.now() - started) / 1000;
      const outcomes = [...stats]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([what, n]) => `${what} ${n}`)
        .join(', ');
      console.log(
        `host model: ${steps} steps in ${runs} runs, ${seconds.toFixed(1)} s ` +
          `(${((seconds * 1000) / Math.max(1, steps)).toFixed(0)} ms/step)\n  ${outcomes}`,
      );
      expect(steps).toBeGreaterThan(0);
    },
    STEPS * 500 + 60_000,
  );
});
