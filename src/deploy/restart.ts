/**
 * The restart policy of a deployment's supervisor, and what it decides when a child exits:
 * restart it after a backoff, or give up (a crash loop, or a child that says no restart
 * can fix it).
 *
 * @module
 */

import { exponentialBackoff } from "../core/backoff.ts";

/**
 * A child exiting with this code reports a problem no restart can fix (e.g. its address
 * is in use): the supervisor gives up at once instead of retrying into a crash loop.
 */
export const EXIT_CONFIG = 78;

/** How crashed processes are restarted. */
export interface RestartPolicy {
  /** First backoff delay in ms. */
  initialDelay: number;
  /** Longest backoff delay in ms. */
  maxDelay: number;
  /** Crashes within `window` after which the deployment gives up. */
  maxCrashes: number;
  /** Crash-loop window in ms. */
  window: number;
}

/** The default restart policy: 250 ms doubling to 10 s; 5 crashes within 60 s is a loop. */
export const DEFAULT_RESTART: RestartPolicy = {
  initialDelay: 250,
  maxDelay: 10_000,
  maxCrashes: 5,
  window: 60_000,
};

/** What the supervisor does after a child exited (not stopped by it). */
export type ExitVerdict =
  & {
    /** The crash times within the policy's window, this one included. */
    crashes: number[];
    /** How it ended, for the log ("exited with code 1", "killed by SIGKILL"). */
    how: string;
  }
  & (
    | { giveUp?: undefined; /** Restart after this many ms. */ delay: number }
    | {
      /** Why it is not restarted; `config` when the child said no restart can fix it. */
      giveUp: { reason: string; config: boolean };
    }
  );

/**
 * Decides what follows a child's exit at `now`, given its earlier crash times: give up on
 * `EXIT_CONFIG` or on `maxCrashes` within `window`, else restart after a backoff that
 * doubles with the crashes in the window. No jitter: the operator reads these delays, and
 * one supervisor has no crowd to spread.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { afterExit, DEFAULT_RESTART } from "./restart.ts";
 *
 * const exit = { code: 1, signal: null };
 * const first = afterExit(DEFAULT_RESTART, "web", [], 1_000, exit);
 * assert.equal(first.giveUp, undefined);
 * assert.equal(first.giveUp === undefined && first.delay, 250);
 * ```
 */
export function afterExit(
  policy: RestartPolicy,
  name: string,
  earlier: readonly number[],
  now: number,
  exit: { code: number; signal: string | null },
): ExitVerdict {
  const crashes = [...earlier.filter((t) => now - t < policy.window), now];
  const how = exit.signal ? `killed by ${exit.signal}` : `exited with code ${exit.code}`;
  if (exit.code === EXIT_CONFIG) {
    const reason = `${name} cannot run as configured (its output above says why); ` +
      `not restarting it`;
    return { crashes, how, giveUp: { reason, config: true } };
  }
  if (crashes.length >= policy.maxCrashes) {
    const reason = `${name} crashed ${crashes.length} times within ${
      Math.round(policy.window / 1000)
    } s (last: ${how}); giving up`;
    return { crashes, how, giveUp: { reason, config: false } };
  }
  const delay = exponentialBackoff({
    initial: policy.initialDelay,
    max: policy.maxDelay,
    random: () => 1,
  }).delay(crashes.length);
  return { crashes, how, delay };
}
