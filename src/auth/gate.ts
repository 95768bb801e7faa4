/**
 * The server side of the handshake, shared by every transport: issues nonces, checks
 * proofs with the configured backends, and rate-limits failed attempts per peer address.
 *
 * @module
 */

import type { Identity } from "../core/context.ts";
import { rpcError } from "../core/errors.ts";
import { encodeBase64 } from "../core/base64.ts";
import type { AuthBackend, Proof } from "./types.ts";

/** How many peers' recent failures are remembered at most. */
const MAX_TRACKED_PEERS = 10_000;

/** Options of an {@linkcode AuthGate}. */
export interface AuthGateOptions {
  /** Failed logins allowed per peer address within `window` ms (default 5). */
  maxFailures?: number;
  /** The rate-limit window in milliseconds (default 60 000). */
  window?: number;
}

/**
 * Checks logins for a server: hands out nonces, verifies proofs with the accepted
 * schemes, and refuses a peer for a while after too many failures.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AuthGate, sharedSecretBackend } from "@switchboard/rpc";
 *
 * const gate = new AuthGate([sharedSecretBackend("s3cret")], { maxFailures: 2 });
 * const { nonce } = gate.hello();
 * for (let i = 0; i < 2; i++) {
 *   await assert.rejects(gate.login("10.0.0.9", nonce, "secret", { mac: "guess" }), {
 *     name: "Unauthorized",
 *   });
 * }
 * await assert.rejects(gate.login("10.0.0.9", nonce, "secret", { mac: "guess" }), /too many/);
 * ```
 */
export class AuthGate {
  readonly #backends = new Map<string, AuthBackend>();
  readonly #failures = new Map<string, number[]>();
  readonly #inFlight = new Map<string, Set<Promise<void>>>();
  readonly #maxFailures: number;
  readonly #window: number;

  /** `backends`: the schemes this server accepts. */
  constructor(backends: readonly AuthBackend[], options: AuthGateOptions = {}) {
    for (const b of backends) this.#backends.set(b.scheme, b);
    this.#maxFailures = options.maxFailures ?? 5;
    this.#window = options.window ?? 60_000;
  }

  /** The accepted scheme names. */
  get schemes(): string[] {
    return [...this.#backends.keys()];
  }

  /** A fresh nonce for a new connection or session. */
  hello(): { nonce: string; schemes: string[] } {
    const bytes = crypto.getRandomValues(new Uint8Array(24));
    return { nonce: encodeBase64(bytes), schemes: this.schemes };
  }

  /**
   * Verifies a login; resolves with the identity or rejects with `Unauthorized`
   * (also when `peer` has failed too often recently). Attempts beyond what a peer may
   * still fail wait for its attempts in flight, so parallel guesses gain nothing.
   */
  async login(peer: string, nonce: string, scheme: unknown, proof: unknown): Promise<Identity> {
    for (;;) {
      const now = Date.now();
      const recent = this.#recent(peer, now);
      if (recent.length >= this.#maxFailures) {
        throw rpcError(
          "Unauthorized",
          `too many failed logins from ${peer}; retry in ${
            Math.ceil((this.#window - (now - recent[0])) / 1000)
          } s`,
        );
      }
      const inFlight = this.#inFlight.get(peer);
      if (!inFlight || recent.length + inFlight.size < this.#maxFailures) break;
      await Promise.race(inFlight);
    }
    let finish!: () => void;
    const attempt = new Promise<void>((resolve) => finish = resolve);
    const inFlight = this.#inFlight.get(peer) ?? new Set();
    this.#inFlight.set(peer, inFlight.add(attempt));
    const backend = typeof scheme === "string" ? this.#backends.get(scheme) : undefined;
    let identity: Identity | undefined;
    try {
      if (backend && typeof proof === "object" && proof !== null && !Array.isArray(proof)) {
        try {
          identity = await backend.verify(proof as Proof, nonce);
        } catch {
          identity = undefined;
        }
      }
      if (!identity) {
        this.#fail(peer);
        throw rpcError(
          "Unauthorized",
          backend
            ? `login refused (${scheme})`
            : `unknown auth scheme ${JSON.stringify(scheme)}; this server accepts ${
              this.schemes.join(", ")
            }`,
        );
      }
      this.#failures.delete(peer);
      return identity;
    } finally {
      inFlight.delete(attempt);
      if (inFlight.size === 0 && this.#inFlight.get(peer) === inFlight) this.#inFlight.delete(peer);
      finish();
    }
  }

  /** The peer's failures within the window (older ones are forgotten). */
  #recent(peer: string, now: number): number[] {
    const all = this.#failures.get(peer);
    if (!all) return [];
    const recent = all.filter((t) => now - t < this.#window);
    if (recent.length) this.#failures.set(peer, recent);
    else this.#failures.delete(peer);
    return recent;
  }

  #fail(peer: string): void {
    const now = Date.now();
    this.#failures.set(peer, [...this.#recent(peer, now), now]);
    // Bound the memory many peers (e.g. spoofed IPv6 addresses) can take: forget expired
    // entries, then the oldest.
    if (this.#failures.size > MAX_TRACKED_PEERS) {
      for (const p of this.#failures.keys()) this.#recent(p, now);
      for (const p of this.#failures.keys()) {
        if (this.#failures.size <= MAX_TRACKED_PEERS) break;
        this.#failures.delete(p);
      }
    }
  }
}
