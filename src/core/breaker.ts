/**
 * A circuit breaker for one call target: it opens after a failure ratio within a window of
 * recent calls (or a run of consecutive failures), refuses calls locally while open, and
 * lets one probe call through once the open period has passed (half-open). A probe that
 * succeeds closes it; one that fails opens it again, for longer each time.
 *
 * Written by hand rather than taken from npm (`cockatiel`, `opossum`): the `"."` entry point
 * runs in browsers and loads no npm package, and this is all of it that the client needs.
 *
 * @module
 */

/** Options of a {@linkcode CircuitBreaker}. */
export interface BreakerOptions {
  /** Opens when at least this share of the calls in the window failed (default 0.5). */
  failureRatio?: number;
  /** The window: the outcomes of the last calls within this many ms (default 10 000). */
  windowMs?: number;
  /** The ratio is judged only once the window holds this many calls (default 10). */
  minCalls?: number;
  /** Also opens after this many failures in a row, whatever the ratio (default 5). */
  consecutiveFailures?: number;
  /** First open period in ms, doubled on each reopening up to `maxOpenMs` (default 1000). */
  openMs?: number;
  /** Longest open period in ms (default 30 000). */
  maxOpenMs?: number;
  /** The clock (ms); tests pass their own. */
  now?: () => number;
}

/** Where a breaker stands. */
export type BreakerState = "closed" | "open" | "half-open";

/** Outcomes kept per window: bounded whatever the call rate. */
const MAX_SAMPLES = 256;

/**
 * A circuit breaker (see the module doc).
 *
 * @example Two failures in a row open it; after the open period one probe may pass
 * ```ts
 * import assert from "node:assert/strict";
 * import { CircuitBreaker } from "./breaker.ts";
 *
 * let now = 0;
 * const breaker = new CircuitBreaker({ consecutiveFailures: 2, openMs: 100, now: () => now });
 * breaker.failure();
 * breaker.failure();
 * assert.equal(breaker.state, "open");
 * assert.equal(breaker.admit(), false);
 * now = 100;
 * assert.equal(breaker.admit(), true); // the probe
 * assert.equal(breaker.admit(), false); // one at a time
 * breaker.success();
 * assert.equal(breaker.state, "closed");
 * ```
 */
export class CircuitBreaker {
  readonly #ratio: number;
  readonly #windowMs: number;
  readonly #minCalls: number;
  readonly #consecutive: number;
  readonly #openMs: number;
  readonly #maxOpenMs: number;
  readonly #now: () => number;
  /** Recent outcomes: time and whether it failed. */
  #samples: { at: number; failed: boolean }[] = [];
  #failures = 0;
  #run = 0;
  #openedAt = 0;
  #openFor = 0;
  #opened = 0;
  #probing = false;
  #state: BreakerState = "closed";

  /** A closed breaker. */
  constructor(options: BreakerOptions = {}) {
    this.#ratio = options.failureRatio ?? 0.5;
    this.#windowMs = options.windowMs ?? 10_000;
    this.#minCalls = options.minCalls ?? 10;
    this.#consecutive = options.consecutiveFailures ?? 5;
    this.#openMs = options.openMs ?? 1000;
    this.#maxOpenMs = options.maxOpenMs ?? 30_000;
    this.#now = options.now ?? Date.now;
  }

  /** `closed`, `open` (refusing) or `half-open` (its open period is over: a probe may pass). */
  get state(): BreakerState {
    if (this.#state === "open" && this.#now() - this.#openedAt >= this.#openFor) {
      this.#state = "half-open";
    }
    return this.#state;
  }

  /** Whether a call may go now (without taking the half-open probe slot). */
  get available(): boolean {
    const state = this.state;
    return state === "closed" || (state === "half-open" && !this.#probing);
  }

  /** Takes the right to send one call: always when closed, once per probe when half-open. */
  admit(): boolean {
    const state = this.state;
    if (state === "closed") return true;
    if (state === "open" || this.#probing) return false;
    this.#probing = true;
    return true;
  }

  /** A call answered. */
  success(): void {
    this.#record(false);
    this.#run = 0;
    if (this.#state !== "closed") {
      this.#state = "closed";
      this.#opened = 0;
      this.#samples = [];
      this.#failures = 0;
    }
    this.#probing = false;
  }

  /** A call failed (unreachable, dropped, timed out). */
  failure(): void {
    this.#record(true);
    this.#run++;
    const probe = this.#state !== "closed";
    const total = this.#samples.length;
    if (
      probe || this.#run >= this.#consecutive ||
      (total >= this.#minCalls && this.#failures / total >= this.#ratio)
    ) this.#open();
    this.#probing = false;
  }

  /** A call ended without telling anything of the target (cancelled by its caller). */
  release(): void {
    this.#probing = false;
  }

  #open(): void {
    this.#state = "open";
    this.#openedAt = this.#now();
    this.#openFor = Math.min(this.#maxOpenMs, this.#openMs * 2 ** this.#opened++);
    this.#samples = [];
    this.#failures = 0;
    this.#run = 0;
  }

  #record(failed: boolean): void {
    const now = this.#now();
    const samples = this.#samples;
    samples.push({ at: now, failed });
    if (failed) this.#failures++;
    let drop = 0;
    while (
      drop < samples.length &&
      (samples.length - drop > MAX_SAMPLES || now - samples[drop].at > this.#windowMs)
    ) {
      if (samples[drop].failed) this.#failures--;
      drop++;
    }
    if (drop > 0) samples.splice(0, drop);
  }
}
