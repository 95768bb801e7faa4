/**
 * Shared settings of the property tests: a seed (fixed, or FUZZ_SEED) printed when a
 * property fails, modest run counts (FUZZ_RUNS scales them), and a time bound per input.
 *
 * @module
 */

import fc from "fast-check";

/**
 * The seed of this run: fixed by default so that the suite is deterministic (it reproduces
 * the msgpack chunking counterexample); FUZZ_SEED=random explores, FUZZ_SEED=N replays.
 */
const seedEnv = Deno.env.get("FUZZ_SEED");
export const SEED = seedEnv === "random"
  ? Math.floor(Math.random() * 2 ** 31)
  : Number(seedEnv ?? 1682019192);
const SCALE = Number(Deno.env.get("FUZZ_RUNS") ?? 1);

/** Checks a property with the run's seed; the failure names the seed to replay it. */
export function check<T>(property: fc.IRawProperty<T>, numRuns = 200): void {
  try {
    fc.assert(property, { seed: SEED, numRuns: Math.max(1, Math.round(numRuns * SCALE)) });
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error
      ? `\n${error.cause.message}`
      : "";
    throw new Error(
      `property failed; replay with FUZZ_SEED=${SEED}\n${
        error instanceof Error ? error.message : error
      }${cause}`,
    );
  }
}

/** Runs `fn`, failing when it takes longer than `ms` (work must be bounded by input size). */
export function within<T>(ms: number, what: string, fn: () => T): T {
  const started = performance.now();
  const result = fn();
  const took = performance.now() - started;
  if (took > ms) throw new Error(`${what} took ${took.toFixed(0)} ms (bound ${ms} ms)`);
  return result;
}

export { fc };
