/**
 * Timing calls for observers (metrics, the access log) with a clock read per batch of
 * calls handled together rather than two per call. Reading the clock is not free (on
 * virtual machines it can cost as much as a small call's whole dispatch), and a pipelined
 * msgpack-rpc chunk carries dozens of calls that are decoded, run and answered in one
 * turn of the event loop.
 *
 * A call's start is the clock reading of the turn that dispatched it (read by the first
 * call of the turn), and its end the reading taken once, in a microtask, after every call
 * that ended in the same turn — after their answers were queued. So a call's duration is
 * the time it spent in the server counting the calls handled ahead of it in its batch (the
 * latency a pipelining caller sees), never less than its own run; a call answered alone is
 * timed exactly as with two reads of its own. Like a web server's cached clock, without
 * ever reporting zero for a call that took time.
 *
 * @module
 */

import type { Call, Outcome } from "../core/context.ts";
import type { CallObserver } from "../core/router/router.ts";

/**
 * What a timed observer does at each end of a call: `begin` returns what `end` needs
 * (e.g. the call's metric series); `end` gets the duration in milliseconds and the clock
 * reading (`performance.now()`) the call ended at.
 */
export interface CallTiming<S> {
  /** A call starts. */
  begin(call: Call): S;
  /** A call begun with `begin` took `ms` and ended with `outcome` at reading `at`. */
  end(call: Call, state: S, ms: number, outcome: Outcome, at: number): void;
}

/**
 * The router observer running `timing` around every call, timed at a clock read per
 * batch.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Router } from "../core/router/router.ts";
 * import { timedObserver } from "./call_timer.ts";
 *
 * const seen: string[] = [];
 * const router = new Router();
 * router.observe(timedObserver({
 *   begin: () => undefined,
 *   end: (call, _state, ms, outcome) => {
 *     if (ms >= 0) seen.push(`${call.method} ${outcome.ok}`);
 *   },
 * }));
 * await router.dispatch({ method: "Nope.x" });
 * assert.deepEqual(seen, ["Nope.x false"]);
 * ```
 */
export function timedObserver<S>(timing: CallTiming<S>): CallObserver {
  return new CallTimer(timing).observer;
}

/** Calls that ended and await the batch's clock reading, in parallel arrays. */
class CallTimer<S> {
  readonly #timing: CallTiming<S>;
  /** The reading of this turn's start, or -1 until a call of the turn reads it. */
  #turnStart = -1;
  #closing = false;
  readonly #calls: Call[] = [];
  readonly #states: S[] = [];
  readonly #starts: number[] = [];
  readonly #outcomes: Outcome[] = [];

  constructor(timing: CallTiming<S>) {
    this.#timing = timing;
  }

  readonly observer: CallObserver = (call, run) => {
    const state = this.#timing.begin(call);
    const started = this.#start();
    const outcome = run(call);
    if (outcome instanceof Promise) {
      return outcome.then((settled) => {
        this.#ended(call, state, started, settled);
        return settled;
      });
    }
    this.#ended(call, state, started, outcome);
    return outcome;
  };

  #start(): number {
    if (this.#turnStart < 0) {
      this.#turnStart = performance.now();
      this.#schedule();
    }
    return this.#turnStart;
  }

  #ended(call: Call, state: S, started: number, outcome: Outcome): void {
    this.#calls.push(call);
    this.#states.push(state);
    this.#starts.push(started);
    this.#outcomes.push(outcome);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#closing) return;
    this.#closing = true;
    queueMicrotask(this.#close);
  }

  /** One clock reading ends every call that ended since the last batch. */
  /** Reports an observer's failure, once (it would likely fail for every call). */
  #failed(error: unknown): void {
    if (this.#reported) return;
    this.#reported = true;
    console.error(
      `observer failed (further failures are not reported): ${
        error instanceof Error ? error.stack ?? error.message : error
      }`,
    );
  }
  #reported = false;

  readonly #close = (): void => {
    this.#closing = false;
    this.#turnStart = -1;
    const n = this.#calls.length;
    if (n === 0) return;
    const now = performance.now();
    const calls = this.#calls, states = this.#states;
    const starts = this.#starts, outcomes = this.#outcomes;
    for (let i = 0; i < n; i++) {
      try {
        this.#timing.end(calls[i], states[i], now - starts[i], outcomes[i], now);
      } catch (error) {
        // This runs in a microtask of its own: a throw here would end the process. An
        // observer that fails (a log sink that throws, say) loses its record, not the server.
        this.#failed(error);
      }
    }
    calls.length = 0;
    states.length = 0;
    starts.length = 0;
    outcomes.length = 0;
  };
}
