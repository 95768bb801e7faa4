/**
 * The shared-secret scheme: the client proves it knows the secret by an HMAC-SHA256 of
 * the server's nonce (and its claimed id); the secret itself never travels.
 *
 * @module
 */

import type { Identity } from "../router/context.ts";
import { encodeBase64 } from "../util/base64.ts";
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

/** Server half: accepts callers that prove the secret. */
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

/** Client half: proves the secret for a nonce under a chosen id. */
export function sharedSecretCredentials(secret: string, id = "anonymous"): AuthCredentials {
  return {
    scheme: "secret",
    async prove(nonce: string): Promise<Proof> {
      return { id, mac: await hmac(secret, `${nonce}\n${id}`) };
    },
  };
}
