/**
 * Unguessable tokens (session tokens, deployment secrets).
 *
 * @module
 */

import { encodeBase64 } from "./base64.ts";

/** 256 random bits as URL-safe base64 without padding (43 characters). */
export function randomToken(): string {
  return encodeBase64(crypto.getRandomValues(new Uint8Array(32)))
    .replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}
