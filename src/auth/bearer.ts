/**
 * Bearer tokens: a caller presents an opaque token (an API key, a JWT, …) and a
 * user-supplied `check(token)` says who it is. Over HTTP the token travels in the
 * standard `Authorization: Bearer <token>` header (see `httpAuthenticator`); on
 * connection-based transports it is the proof of a `bearer` login. A token is a secret
 * in itself, so use it over TLS.
 *
 * @module
 */

import type { Identity } from "../core/context.ts";
import type { AuthBackend, AuthCredentials, Proof } from "./types.ts";

/** Longest token accepted. */
export const MAX_TOKEN_LENGTH = 8192;

/** Decides who holds `token`; undefined (or throwing) refuses it. */
export type TokenCheck = (
  token: string,
) => Identity | undefined | Promise<Identity | undefined>;

/**
 * Server half of the bearer scheme (`bearer`): hands the proof's `token` to `check`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AuthGate, bearerBackend } from "@switchboard/rpc/server";
 *
 * const tokens: Record<string, { id: string; roles: string[] }> = {
 *   "s3cr3t-token": { id: "ci-bot", roles: ["deploy"] },
 * };
 * const gate = new AuthGate([bearerBackend((token) => tokens[token])]);
 * const { nonce } = gate.hello();
 * const who = await gate.login("10.0.0.7", nonce, "bearer", { token: "s3cr3t-token" });
 * assert.equal(who.id, "ci-bot");
 * ```
 */
export function bearerBackend(check: TokenCheck): AuthBackend {
  return {
    scheme: "bearer",
    verify(proof: Proof): Promise<Identity | undefined> | undefined {
      const token = proof.token;
      if (typeof token !== "string" || !token || token.length > MAX_TOKEN_LENGTH) {
        return undefined;
      }
      return Promise.resolve(check(token));
    },
  };
}

/**
 * Client half of the bearer scheme, for connection-based transports (over HTTP, an
 * `authorization: Bearer …` header does the same without a handshake).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bearerCredentials } from "@switchboard/rpc";
 *
 * assert.deepEqual(await bearerCredentials("s3cr3t-token").prove("nonce"), {
 *   token: "s3cr3t-token",
 * });
 * ```
 */
export function bearerCredentials(token: string): AuthCredentials {
  return { scheme: "bearer", prove: () => ({ token }) };
}
