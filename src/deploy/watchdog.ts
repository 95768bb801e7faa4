/**
 * The supervisor's watch on one running child: pings it every `interval`, keeps at most
 * one ping unanswered, and says when the child turns unresponsive, when it answers
 * again, and when it has been unresponsive past `restartAfter`. Silence is counted in
 * ticks (see `liveness.ts` for why not by the clock).
 *
 * @module
 */

import type { LivenessPolicy } from "./liveness.ts";

/** What a {@linkcode Watchdog} reports to its supervisor. */
export interface WatchdogEvents {
  /** Sends ping `seq` to the child. */
  ping(seq: number): void;
  /** The child left the ping it got at `since` (epoch ms) unanswered for `timeout`. */
  unresponsive(since: number): void;
  /** An unresponsive child answered. */
  answered(): void;
  /** The child has been unresponsive for `restartAfter`; reported once. */
  overdue(silentMs: number): void;
}

/**
 * Pings one child and judges its silence.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Watchdog } from "./watchdog.ts";
 *
 * const seen: string[] = [];
 * const dog = new Watchdog({ interval: 10, timeout: 20, restartAfter: 0 }, {
 *   ping: (seq) => seen.push(`ping ${seq}`),
 *   unresponsive: () => seen.push("unresponsive"),
 *   answered: () => seen.push("answered"),
 *   overdue: () => seen.push("overdue"),
 * });
 * dog.tick(); // ping 1 goes out
 * dog.tick(); // 10 ms of silence
 * dog.tick(); // 20 ms: unresponsive
 * dog.answer(1);
 * assert.deepEqual(seen, ["ping 1", "unresponsive", "answered"]);
 * ```
 */
export class Watchdog {
  readonly #policy: LivenessPolicy;
  readonly #events: WatchdogEvents;
  #seq = 0;
  #waiting?: { seq: number; sentAt: number; ticks: number };
  #unresponsive = false;
  #overdue = false;
  #timer?: ReturnType<typeof setInterval>;

  /** Starts nothing: {@linkcode Watchdog.start} does. */
  constructor(policy: LivenessPolicy, events: WatchdogEvents) {
    this.#policy = policy;
    this.#events = events;
  }

  /** Pings now, then every `interval`. */
  start(): void {
    this.stop();
    this.tick();
    this.#timer = setInterval(() => this.tick(), this.#policy.interval);
  }

  /** Stops pinging (the child exited, or the supervisor stops). */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One interval passed: ping, or count one more interval of silence. */
  tick(): void {
    const waiting = this.#waiting;
    if (!waiting) {
      this.#waiting = { seq: ++this.#seq, sentAt: Date.now(), ticks: 0 };
      this.#events.ping(this.#seq);
      return;
    }
    const silent = ++waiting.ticks * this.#policy.interval;
    if (!this.#unresponsive && silent >= this.#policy.timeout) {
      this.#unresponsive = true;
      this.#events.unresponsive(waiting.sentAt);
    }
    const limit = this.#policy.restartAfter;
    if (
      this.#unresponsive && !this.#overdue && limit > 0 && silent >= this.#policy.timeout + limit
    ) {
      this.#overdue = true;
      this.#events.overdue(silent);
    }
  }

  /** The child answered ping `seq` (an older or unknown one changes nothing). */
  answer(seq: number): void {
    if (this.#waiting?.seq !== seq) return;
    this.#waiting = undefined;
    this.#overdue = false;
    if (!this.#unresponsive) return;
    this.#unresponsive = false;
    this.#events.answered();
  }
}
