/**
 * The username/password scheme: the client sends `{ user, password }` in the login proof
 * and the server asks a user-supplied `check(user, password)` for the caller's identity.
 *
 * Why the password travels (unlike the shared secret): a challenge–response over a
 * password needs the server to hold the password itself (or an equivalent of it), while
 * real user stores keep only slow salted hashes (bcrypt, scrypt, argon2) that only a
 * check of the cleartext can use. So this scheme hands the password to `check` and
 * must run over an encrypted channel: HTTPS, or TCP with TLS. Failed logins are
 * rate-limited per peer by the `AuthGate` like every other scheme.
 *
 * @module
 */

import type { Identity } from "../core/context.ts";
import type { AuthBackend, AuthCredentials, Proof } from "./types.ts";

/** Longest user name or password accepted (bounds the work a slow hash is asked to do). */
export const MAX_PASSWORD_FIELD = 1024;

/** Decides who `user` is when `password` is right; undefined (or throwing) refuses. */
export type PasswordCheck = (
  user: string,
  password: string,
) => Identity | undefined | Promise<Identity | undefined>;

/**
 * Server half of the password scheme (`password`): hands the proof's `user` and
 * `password` to `check`. Use it over TLS only: the password travels as sent.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AuthGate, passwordBackend } from "@switchboard/rpc/server";
 * import { passwordCredentials } from "@switchboard/rpc";
 *
 * const gate = new AuthGate([
 *   passwordBackend((user, password) =>
 *     user === "alice" && password === "wonderland" ? { id: "alice", roles: ["admin"] } : undefined
 *   ),
 * ]);
 * const { nonce } = gate.hello();
 * const proof = await passwordCredentials("alice", "wonderland").prove(nonce);
 * assert.deepEqual(await gate.login("127.0.0.1", nonce, "password", proof), {
 *   id: "alice",
 *   roles: ["admin"],
 * });
 * ```
 */
export function passwordBackend(check: PasswordCheck): AuthBackend {
  return {
    scheme: "password",
    verify(proof: Proof): Promise<Identity | undefined> | undefined {
      const { user, password } = proof;
      if (typeof user !== "string" || typeof password !== "string") return undefined;
      if (!user || user.length > MAX_PASSWORD_FIELD || password.length > MAX_PASSWORD_FIELD) {
        return undefined;
      }
      return Promise.resolve(check(user, password));
    },
  };
}

/**
 * Client half of the password scheme: sends `user` and `password` as the proof. Connect
 * over `https:` (or TCP with TLS) when using it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { passwordCredentials } from "@switchboard/rpc";
 *
 * const credentials = passwordCredentials("alice", "wonderland");
 * assert.equal(credentials.scheme, "password");
 * assert.deepEqual(await credentials.prove("any nonce"), { user: "alice", password: "wonderland" });
 * ```
 */
export function passwordCredentials(user: string, password: string): AuthCredentials {
  return { scheme: "password", prove: () => ({ user, password }) };
}
