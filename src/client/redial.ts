/**
 * Keeping a client's connection up while it serves handlers or holds subscriptions (the
 * server can only reach it over that connection): one reconnect at a time, spaced by the
 * client's policy, counted afresh once a connection succeeds. The TCP and WebSocket clients
 * share it.
 *
 * @module
 */

import type { ReconnectPolicy } from "../core/backoff.ts";

/** What {@linkcode Redial} needs of its client. */
export interface RedialTarget {
  /** Connects (resolves once the connection is ready). */
  open(): Promise<unknown>;
  /** Whether something needs the connection now (handlers, subscriptions). */
  wanted(): boolean;
  /** Whether the client is closed: no more reconnects. */
  closed(): boolean;
}

/** The reconnect loop of one client. */
export class Redial {
  readonly #policy: ReconnectPolicy;
  readonly #target: RedialTarget;
  #attempt = 0;
  #retry?: ReturnType<typeof setTimeout>;

  /** Reconnects `target` spaced by `policy`. */
  constructor(policy: ReconnectPolicy, target: RedialTarget) {
    this.#policy = policy;
    this.#target = target;
  }

  /** Connects now, and keeps trying on failure. */
  stay(): void {
    if (!this.#target.closed()) this.#target.open().catch(() => this.schedule());
  }

  /** Tries again after the policy's delay, unless one is pending or nothing needs it. */
  schedule(): void {
    if (this.#target.closed() || this.#retry !== undefined) return;
    if (!this.#target.wanted()) return; // reconnect lazily, on the next call
    const delay = this.#policy.delay(++this.#attempt);
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      this.#target.open().catch(() => this.schedule());
    }, delay);
  }

  /** A connection succeeded: the next loss starts from the first delay. */
  connected(): void {
    this.#attempt = 0;
  }

  /** Stops a pending retry (the client closes). */
  stop(): void {
    clearTimeout(this.#retry);
    this.#retry = undefined;
  }
}
