/**
 * The restart policy of a deployment's supervisor.
 *
 * @module
 */

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
