/**
 * The server side of the handshake, shared by every transport: issues nonces, checks
 * proofs with the configured backends, and rate-limits failed attempts per peer address.
 *
 * @module
 */

import type { Identity } from "../router/context.ts";
import { rpcError } from "../router/errors.ts";
import { encodeBase64 } from "../util/base64.ts";
import type { AuthBackend, Proof } from "./types.ts";

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
   * (also when `peer` has failed too often recently).
   */
  async login(peer: string, nonce: string, scheme: unknown, proof: unknown): Promise<Identity> {
    const now = Date.now();
    const recent = (this.#failures.get(peer) ?? []).filter((t) => now - t < this.#window);
    if (recent.length >= this.#maxFailures) {
      this.#failures.set(peer, recent);
      throw rpcError(
        "Unauthorized",
        `too many failed logins from ${peer}; retry in ${
          Math.ceil((this.#window - (now - recent[0])) / 1000)
        } s`,
      );
    }
    const backend = typeof scheme === "string" ? this.#backends.get(scheme) : undefined;
    let identity: Identity | undefined;
    if (backend && typeof proof === "object" && proof !== null && !Array.isArray(proof)) {
      try {
        identity = await backend.verify(proof as Proof, nonce);
      } catch {
        identity = undefined;
      }
    }
    if (!identity) {
      recent.push(now);
      this.#failures.set(peer, recent);
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
  }
}
