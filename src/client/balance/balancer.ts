/**
 * One interface served by several replicas: a transport that sends each call to one healthy
 * replica, ejects the ones that fail (a circuit breaker per replica, probed back after a
 * while), retries only what may run twice (idempotent calls, or calls that surely never left)
 * under a retry budget, and can hedge idempotent calls. `connect([url, url, …])` makes one; a
 * deployment's front and `MultiClient` build theirs over any transports.
 *
 * @module
 */

import type { Outcome } from "../../core/context.ts";
import { asRpcError, RpcError, rpcError } from "../../core/errors.ts";
import type { OutgoingCall, Transport } from "../../core/client/transport.ts";
import { wasUnsent } from "../../core/client/unsent.ts";
import { type BreakerOptions, type BreakerState, CircuitBreaker } from "../../core/breaker.ts";
import { RetryBudget, type RetryBudgetOptions } from "../../core/retry_budget.ts";
import { exponentialBackoff, type ReconnectPolicy } from "../../core/backoff.ts";
import { abortReason, sleep } from "../../core/abort.ts";
import { type BalanceStrategy, type Picker, picker } from "./pick.ts";

/** A replica: a name (its URL, for messages) and the transport that reaches it. */
export interface Replica {
  /** Shown in errors and status. */
  name: string;
  /** How calls reach it. */
  transport: Transport;
  /**
   * False while it must get no new calls whatever its breaker says (e.g. its supervisor
   * reports it frozen or draining); calls in flight on it are not affected. Default: always.
   */
  available?: () => boolean;
}

/** Options of a {@linkcode BalancedTransport} (also accepted by `connect([…])`). */
export interface BalanceOptions {
  /** How calls are spread (default `"least-in-flight"`). */
  balance?: BalanceStrategy;
  /** When a replica is ejected and probed back (its circuit breaker). */
  breaker?: BreakerOptions;
  /** Retries: attempts in all (default 3), the budget (10 % of calls), backoff between. */
  retry?: { attempts?: number; budget?: RetryBudgetOptions; backoff?: ReconnectPolicy };
  /**
   * Idempotent calls still unanswered after `delay` ms are sent to a second replica too; the
   * first answer wins and the other is cancelled. Hedges are paid from the retry budget.
   */
  hedge?: { delay: number };
  /** Randomness of the choice (tests pass their own). */
  random?: () => number;
}

/** What a balancer reports of one replica. */
export interface ReplicaStatus {
  /** Its name. */
  name: string;
  /** `closed` (healthy), `open` (ejected) or `half-open` (a probe may pass). */
  state: BreakerState;
  /** Calls sent to it and not yet settled. */
  inFlight: number;
}

class Member {
  inFlight = 0;
  readonly breaker: CircuitBreaker;
  constructor(
    readonly name: string,
    readonly transport: Transport,
    options?: BreakerOptions,
    readonly available: () => boolean = () => true,
  ) {
    this.breaker = new CircuitBreaker(options);
  }
}

/** A failed attempt: why, and whether the call may have reached a server. */
interface Failure {
  error: RpcError;
  sent: boolean;
  replica?: string;
  /** The replica's own answer, returned when the call is not retried (Overloaded). */
  answer?: Outcome;
}
type Attempt = { outcome: Outcome } | Failure;

const HEDGE_LOST = "the hedged call's other attempt answered first";

/**
 * A transport over several replicas of one interface (see the module doc).
 *
 * @example Calls go to whichever replica answers; a dead one is skipped
 * ```ts
 * import assert from "node:assert/strict";
 * import { BalancedTransport, Client, connect, defineInterface, implement, method, t } from "@switchboard/rpc";
 * import { Server } from "@switchboard/rpc/server";
 *
 * const Echo = defineInterface("Echo", {
 *   echo: method({ params: { text: t.string }, result: t.string, idempotent: true }),
 * });
 * const server = new Server().register(implement(Echo, { echo: ({ text }) => text }));
 * const http = await server.listenHttp({ port: 0 });
 * const client = connect([http.url, "http://127.0.0.1:9"]); // nothing listens on port 9
 * for (let i = 0; i < 5; i++) assert.equal(await client.proxy(Echo).echo({ text: "hi" }), "hi");
 * assert.ok(client.transport instanceof BalancedTransport);
 * await client.close();
 * await server.close();
 * ```
 */
export class BalancedTransport implements Transport {
  readonly #members: Member[];
  readonly #pick: Picker;
  readonly #budget: RetryBudget;
  readonly #attempts: number;
  readonly #backoff: ReconnectPolicy;
  readonly #hedge?: number;
  readonly #ejected: string;

  /** Balances over `replicas` (at least one). */
  constructor(replicas: readonly Replica[], options: BalanceOptions = {}) {
    if (replicas.length === 0) throw new RangeError("a balancer needs at least one replica");
    this.#members = replicas.map((r) =>
      new Member(r.name, r.transport, options.breaker, r.available)
    );
    this.#pick = picker(options.balance, options.random);
    this.#budget = new RetryBudget(options.retry?.budget);
    this.#attempts = Math.max(1, options.retry?.attempts ?? 3);
    this.#backoff = options.retry?.backoff ?? exponentialBackoff({ initial: 10, max: 1000 });
    const hedge = options.hedge?.delay;
    if (hedge !== undefined && !(hedge >= 0)) throw new RangeError("hedge delay must be >= 0");
    this.#hedge = hedge;
    const names = this.#members.map((m) => m.name).join(", ");
    this.#ejected = `every replica is ejected after failing (circuit open): ${names}`;
  }

  /** Each replica's health and load, in the order given. */
  status(): ReplicaStatus[] {
    return this.#members.map((m) => ({
      name: m.name,
      state: m.breaker.state,
      inFlight: m.inFlight,
    }));
  }

  /** As the replicas' transports say (they speak one protocol family). */
  rpcSystem(method: string): string | undefined {
    return this.#members[0].transport.rpcSystem?.(method);
  }

  /**
   * The first answer of a replica. Transport failures move on to another replica when the
   * call may run twice or surely never left; anything else fails with `Unavailable` saying
   * what happened.
   */
  call(request: OutgoingCall): Promise<Outcome> {
    // Every replica ejected: refused here, at the cost of one error and no network call.
    if (!this.#members.some((m) => m.available() && m.breaker.available)) {
      return Promise.reject(this.#refused(request.method));
    }
    return this.#call(request);
  }

  async #call(request: OutgoingCall): Promise<Outcome> {
    this.#budget.deposit();
    const tried = new Set<Member>();
    for (let attempt = 1;; attempt++) {
      const result = await this.#round(request, tried);
      if ("outcome" in result) return result.outcome;
      if (request.signal?.aborted) throw abortReason(request.method, request.signal);
      const why = this.#noRetry(request, result, attempt);
      if (why !== undefined) {
        if (result.answer) return result.answer;
        throw rpcError("Unavailable", `${request.method}: ${result.error.message}${why}`);
      }
      // Nothing may take it (every replica ejected): say so now rather than after a pause.
      if (!this.#members.some((m) => m.available() && m.breaker.available)) {
        throw this.#refused(request.method);
      }
      const delay = this.#backoff.delay(attempt);
      if (request.deadline !== undefined && Date.now() + delay >= request.deadline) {
        throw rpcError(
          "Unavailable",
          `${request.method}: ${result.error.message}; no time left for a retry`,
        );
      }
      await sleep(delay, request.signal);
      if (request.signal?.aborted) throw abortReason(request.method, request.signal);
    }
  }

  /** Why `failure` ends the call ("" when nothing more is worth saying), else undefined. */
  #noRetry(request: OutgoingCall, failure: Failure, attempt: number): string | undefined {
    if (failure.sent && !request.idempotent) {
      return `; not retried: the call may have run, and ${request.method} is not declared idempotent`;
    }
    if (failure.replica === undefined) return ""; // nothing to retry on
    if (attempt >= this.#attempts) return ` (after ${attempt} attempts)`;
    if (!this.#budget.withdraw()) return "; not retried: the retry budget is spent";
    return undefined;
  }

  /** One attempt, or two when hedging: the first answer, or the last failure. */
  #round(request: OutgoingCall, tried: Set<Member>): Promise<Attempt> {
    const first = this.#choose(request, tried);
    if (!first) return Promise.resolve(this.#refusal());
    if (this.#hedge === undefined || !request.idempotent) {
      return this.#attempt(first, request, request.signal);
    }
    const hedge = this.#hedge;
    return new Promise((resolve, reject) => {
      const controllers: AbortController[] = [];
      let running = 0;
      const outer = request.signal;
      const onAbort = () => controllers.forEach((c) => c.abort(outer!.reason));
      outer?.addEventListener("abort", onAbort, { once: true });
      const finish = (result: Attempt | { thrown: unknown }) => {
        clearTimeout(timer);
        outer?.removeEventListener("abort", onAbort);
        for (const c of controllers) c.abort(rpcError("Cancelled", HEDGE_LOST));
        if ("thrown" in result) reject(result.thrown);
        else resolve(result);
      };
      const launch = (member: Member) => {
        const controller = new AbortController();
        controllers.push(controller);
        running++;
        this.#attempt(member, { ...request, signal: controller.signal }, controller.signal)
          .then((result) => {
            // The first answer wins; a failure waits for the other attempt, if one runs.
            if (--running === 0 || "outcome" in result) finish(result);
          }, (thrown) => finish({ thrown }));
      };
      launch(first);
      const timer = setTimeout(() => {
        // The budget first: a chosen half-open replica must get its probe call.
        if (!this.#budget.withdraw()) return;
        const second = this.#choose(request, tried);
        if (second) launch(second);
      }, hedge);
    });
  }

  /** A replica for the next attempt: an untried one when any may take calls. */
  #choose(request: OutgoingCall, tried: Set<Member>): Member | undefined {
    const open = this.#members.filter((m) => m.available() && m.breaker.available);
    if (open.length === 0) return undefined;
    const fresh = open.filter((m) => !tried.has(m));
    const member = this.#pick(fresh.length > 0 ? fresh : open, request.params);
    member.breaker.admit();
    tried.add(member);
    return member;
  }

  /** Every replica is ejected: refuse here, without touching the network. */
  #refusal(): Failure {
    return { error: rpcError("Unavailable", this.#ejected), sent: false };
  }

  #refused(method: string): RpcError {
    return rpcError("Unavailable", `${method}: ${this.#ejected}`);
  }

  async #attempt(
    member: Member,
    request: OutgoingCall,
    signal: AbortSignal | undefined,
  ): Promise<Attempt> {
    member.inFlight++;
    try {
      const outcome = await member.transport.call(request);
      // Overloaded: refused before running, so another replica may take it.
      if (!outcome.ok && outcome.error.name === "Overloaded") {
        member.breaker.failure();
        const error = RpcError.fromShape(outcome.error);
        return { error, sent: false, replica: member.name, answer: outcome };
      }
      member.breaker.success();
      return { outcome };
    } catch (thrown) {
      const error = asRpcError(thrown, "Unavailable");
      if (signal?.aborted) {
        // Unanswered within the caller's deadline counts against the replica; a cancel does not.
        if (error.name === "Timeout") member.breaker.failure();
        else member.breaker.release();
        return { error, sent: true };
      }
      if (error.name !== "Unavailable") {
        member.breaker.release();
        throw error;
      }
      member.breaker.failure();
      return {
        error: rpcError("Unavailable", `replica ${member.name} failed: ${error.message}`),
        sent: !wasUnsent(thrown),
        replica: member.name,
      };
    } finally {
      member.inFlight--;
    }
  }

  /** Sends a notification to one replica (never twice: nothing says whether it arrived). */
  async notify(request: OutgoingCall): Promise<void> {
    const member = this.#choose(request, new Set());
    if (!member) throw this.#refused(request.method);
    try {
      await member.transport.notify(request);
      member.breaker.success();
    } catch (error) {
      member.breaker.failure();
      throw error;
    }
  }

  /** Closes every replica's transport. */
  async close(): Promise<void> {
    await Promise.all(this.#members.map((m) => m.transport.close().catch(() => {})));
  }
}
