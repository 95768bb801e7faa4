/**
 * The server side of the handshake, shared by every transport: issues nonces, checks
 * proofs with the configured backends, and throttles failed attempts per (address,
 * identity) and per identity.
 *
 * @module
 */

import type { Identity } from "../core/context.ts";
import { rpcError } from "../core/errors.ts";
import { encodeBase64 } from "../core/base64.ts";
import type { AuthBackend, Proof } from "./types.ts";
import { Throttle } from "./throttle.ts";

/** Options of an {@linkcode AuthGate}. */
export interface AuthGateOptions {
  /**
   * Failed logins allowed per (peer address, claimed identity) before backoff begins
   * (default 5; `Infinity` turns throttling off, per identity too unless
   * `maxIdentityFailures` is given).
   */
  maxFailures?: number;
  /** Failed logins allowed per claimed identity, from all addresses together (default 20). */
  maxIdentityFailures?: number;
  /** The first backoff delay in ms, doubling with each further failure (default 1000). */
  backoff?: number;
  /** The longest backoff delay in ms (default 60 000). */
  maxBackoff?: number;
  /** Failures are forgotten this long (ms) after the last one (default 15 minutes). */
  window?: number;
}

/**
 * Who a proof claims to be, for throttling: the password scheme's `user`, the shared
 * secret's `id`; undefined for schemes that name nobody (bearer tokens).
 */
function claimOf(proof: unknown): string | undefined {
  if (typeof proof !== "object" || proof === null) return undefined;
  const { user, id } = proof as Record<string, unknown>;
  const claim = typeof user === "string" ? user : typeof id === "string" ? id : undefined;
  return claim === undefined ? undefined : claim.slice(0, 256);
}

/**
 * Checks logins for a server: hands out nonces, verifies proofs with the accepted
 * schemes, and slows down guessing: after a few failures for one account from one
 * address, that address waits longer and longer (1 s, 2 s, 4 s … up to a minute) before
 * its next guess at that account is even checked; the same holds, with a larger
 * allowance, for one account from all addresses together. Nobody else behind the address
 * is held up, and a success clears only its own record.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AuthGate, sharedSecretBackend } from "@switchboard/rpc/server";
 *
 * const gate = new AuthGate([sharedSecretBackend("s3cret")], { maxFailures: 2 });
 * const { nonce } = gate.hello();
 * for (let i = 0; i < 2; i++) {
 *   await assert.rejects(gate.login("10.0.0.9", nonce, "secret", { id: "a", mac: "guess" }), {
 *     name: "Unauthorized",
 *   });
 * }
 * await assert.rejects(
 *   gate.login("10.0.0.9", nonce, "secret", { id: "a", mac: "guess" }),
 *   /too many failed logins as a from 10\.0\.0\.9; retry in 1 s/,
 * );
 * ```
 */
export class AuthGate {
  readonly #backends = new Map<string, AuthBackend>();
  readonly #perAddress: Throttle;
  readonly #perIdentity: Throttle;

  /** `backends`: the schemes this server accepts. */
  constructor(backends: readonly AuthBackend[], options: AuthGateOptions = {}) {
    for (const b of backends) this.#backends.set(b.scheme, b);
    const free = options.maxFailures ?? 5;
    const timing = {
      backoff: options.backoff ?? 1000,
      maxBackoff: options.maxBackoff ?? 60_000,
      window: options.window ?? 15 * 60_000,
    };
    this.#perAddress = new Throttle({ free, ...timing });
    this.#perIdentity = new Throttle({
      free: options.maxIdentityFailures ?? (free === Infinity ? Infinity : 20),
      ...timing,
    });
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
   * Verifies a login; resolves with the identity or rejects with `Unauthorized` (also,
   * without checking the proof, while the claimed identity is in backoff for `peer` or
   * for everyone).
   */
  async login(peer: string, nonce: string, scheme: unknown, proof: unknown): Promise<Identity> {
    const claim = claimOf(proof);
    const who = claim === undefined ? "" : ` as ${claim}`;
    // Schemes that name nobody share one record per address and scheme.
    const addressKey = `${peer}\n${String(scheme)}\n${claim ?? "*"}`;
    const identityKey = claim === undefined ? undefined : `${String(scheme)}\n${claim}`;
    const wait = Math.max(
      this.#perAddress.wait(addressKey),
      identityKey ? this.#perIdentity.wait(identityKey) : 0,
    );
    if (wait > 0) {
      throw rpcError(
        "Unauthorized",
        `too many failed logins${who} from ${peer}; retry in ${Math.ceil(wait / 1000)} s`,
      );
    }
    this.#perAddress.begin(addressKey);
    if (identityKey) this.#perIdentity.begin(identityKey);
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
    } finally {
      this.#perAddress.end(addressKey, !identity);
      if (identityKey) this.#perIdentity.end(identityKey, !identity);
    }
    if (!identity) {
      throw rpcError(
        "Unauthorized",
        backend
          ? `login refused (${scheme})`
          : `unknown auth scheme ${JSON.stringify(scheme)}; this server accepts ${
            this.schemes.join(", ")
          }`,
      );
    }
    // Its own record only: one account's success says nothing about guesses at another.
    // A scheme that names nobody keeps its record (any valid token would clear it).
    if (claim !== undefined) this.#perAddress.clear(addressKey);
    return identity;
  }
}
