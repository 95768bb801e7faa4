/**
 * The shared-secret scheme: the client proves it knows the secret by an HMAC-SHA256 of
 * the server's nonce (and its claimed id); the secret itself never travels.
 *
 * @module
 */

import type { Identity } from "../core/context.ts";
import { encodeBase64 } from "../core/base64.ts";
import type { AuthBackend, AuthCredentials, Proof } from "./types.ts";

const encoder = new TextEncoder();

async function hmac(secret: string, message: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return encodeBase64(
    new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(message))),
  );
}

function timingSafeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/**
 * Server half of the shared-secret scheme (`secret`): accepts callers that prove the
 * secret; their identity is the id they claimed, with `roles`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AuthGate, sharedSecretBackend } from "@switchboard/rpc/server";
 * import { sharedSecretCredentials } from "@switchboard/rpc";
 *
 * const gate = new AuthGate([sharedSecretBackend("s3cret", { roles: ["peer"] })]);
 * const { nonce } = gate.hello();
 * const proof = await sharedSecretCredentials("s3cret", "worker-1").prove(nonce);
 * assert.deepEqual(await gate.login("127.0.0.1", nonce, "secret", proof), {
 *   id: "worker-1",
 *   roles: ["peer"],
 * });
 * ```
 */
export function sharedSecretBackend(
  secret: string,
  options: { roles?: readonly string[] } = {},
): AuthBackend {
  if (!secret) throw new TypeError("shared secret must not be empty");
  return {
    scheme: "secret",
    async verify(proof: Proof, nonce: string): Promise<Identity | undefined> {
      const id = typeof proof.id === "string" && proof.id ? proof.id : "anonymous";
      if (typeof proof.mac !== "string") return undefined;
      const expected = await hmac(secret, `${nonce}\n${id}`);
      return timingSafeEqual(expected, proof.mac) ? { id, roles: options.roles ?? [] } : undefined;
    },
  };
}

/**
 * Client half of the shared-secret scheme: proves the secret for a nonce under a chosen
 * id, with an HMAC-SHA256; the secret itself is never sent.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sharedSecretCredentials } from "@switchboard/rpc";
 *
 * const proof = await sharedSecretCredentials("s3cret", "worker-1").prove("nonce-1");
 * assert.equal(proof.id, "worker-1");
 * assert.ok(!JSON.stringify(proof).includes("s3cret"));
 * ```
 */
export function sharedSecretCredentials(secret: string, id = "anonymous"): AuthCredentials {
  return {
    scheme: "secret",
    async prove(nonce: string): Promise<Proof> {
      return { id, mac: await hmac(secret, `${nonce}\n${id}`) };
    },
  };
}
