/**
 * A retry budget: retries may be at most a share of the calls (10 % by default), so that a
 * failing service gets a bounded extra load from its callers instead of a multiple of it.
 * Every call deposits `ratio` of a token, every retry spends one; a small reserve lets a
 * quiet client retry its first failures too. So over any run of N calls the retries are at
 * most `ratio × N` plus what was saved up when it began: the reserve (10 by default), or one
 * retry and one call's share when the reserve is smaller than that (a whole token must be
 * reachable, and a deposit must not be clipped while a fraction of one is saved).
 *
 * @module
 */

/** Options of a {@linkcode RetryBudget}. */
export interface RetryBudgetOptions {
  /** Retries allowed per call, on average (default 0.1). */
  ratio?: number;
  /**
   * Retries allowed before any call deposited (default 10); also the most saved up (at least
   * `1 + ratio`, see the module doc).
   */
  reserve?: number;
}

/**
 * A retry budget (see the module doc).
 *
 * @example Ten calls pay for one retry once the reserve is spent
 * ```ts
 * import assert from "node:assert/strict";
 * import { RetryBudget } from "./retry_budget.ts";
 *
 * const budget = new RetryBudget({ ratio: 0.1, reserve: 0 });
 * assert.equal(budget.withdraw(), false);
 * for (let i = 0; i < 10; i++) budget.deposit();
 * assert.equal(budget.withdraw(), true);
 * assert.equal(budget.withdraw(), false);
 * ```
 */
export class RetryBudget {
  readonly #ratio: number;
  readonly #cap: number;
  #tokens: number;

  /** A budget holding its reserve. */
  constructor(options: RetryBudgetOptions = {}) {
    this.#ratio = options.ratio ?? 0.1;
    const reserve = options.reserve ?? 10;
    if (!(this.#ratio >= 0) || !(reserve >= 0)) {
      throw new RangeError("retry budget ratio and reserve must be >= 0");
    }
    // The cap keeps a long healthy spell from saving up a retry storm for the next outage.
    // Below 1 + ratio it would clip deposits made while a fraction of a token is saved, and
    // a ratio of 0.3 would pay for one retry in four calls instead of three in ten.
    this.#cap = Math.max(reserve, 1 + this.#ratio);
    this.#tokens = reserve;
  }

  /** A call was made (not a retry). */
  deposit(): void {
    this.#tokens = Math.min(this.#cap, this.#tokens + this.#ratio);
  }

  /** Takes one retry's worth; false when the budget is spent. */
  withdraw(): boolean {
    // A small epsilon: ten deposits of 0.1 add up to 0.9999999999999999.
    if (this.#tokens < 1 - 1e-9) return false;
    this.#tokens = Math.max(0, this.#tokens - 1);
    return true;
  }
}
