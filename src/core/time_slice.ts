/**
 * A long run of work that does not wait on I/O (the calls of one multicall or batch, most
 * of them answered synchronously) gives the event loop a turn now and then, so that other
 * callers' requests are read and answered meanwhile instead of waiting for the whole run.
 *
 * @module
 */

/** How long a run may hold the event loop before it lets other work in. */
export const DEFAULT_SLICE_MS = 8;

/**
 * Tells a loop when to let other work run.
 *
 * @example
 * ```ts
 * import { TimeSlice } from "./time_slice.ts";
 *
 * const slice = new TimeSlice();
 * for (let i = 0; i < 3; i++) {
 *   const pause = slice.pause();
 *   if (pause) await pause;
 * }
 * ```
 */
export class TimeSlice {
  #since = performance.now();
  /** How long the loop may run between turns of the event loop. */
  readonly ms: number;

  /** A slice of `ms` milliseconds. */
  constructor(ms = DEFAULT_SLICE_MS) {
    this.ms = ms;
  }

  /**
   * A promise to await when the slice is used up (it settles after a turn of the event
   * loop, a macrotask, so that I/O and timers run), undefined while there is time left: a
   * loop that is quick pays no promise per step.
   */
  pause(): Promise<void> | undefined {
    if (performance.now() - this.#since < this.ms) return undefined;
    return new Promise((resolve) =>
      setTimeout(() => {
        this.#since = performance.now();
        resolve();
      }, 0)
    );
  }
}
