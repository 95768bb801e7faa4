/**
 * Authentication plug-ins. A scheme has a server half ({@linkcode AuthBackend}: verifies a
 * proof against a server nonce) and a client half ({@linkcode AuthCredentials}: makes the
 * proof). Transports run the same two-step handshake through an `AuthGate`:
 *
 * 1. `$/auth.hello` → `{ nonce, schemes }` (a fresh random nonce per connection/session)
 * 2. `$/auth.login` `{ scheme, proof }` → the caller's `Identity`
 *
 * Secrets never travel: a scheme proves knowledge (e.g. HMAC of the nonce).
 *
 * @module
 */

import type { Identity } from "../core/context.ts";

/** A proof as it travels: a JSON/msgpack-friendly record. */
export type Proof = Record<string, unknown>;

/** Server half of a scheme. */
export interface AuthBackend {
  /** The scheme name clients ask for (`secret`, `password`, `bearer`, …). */
  readonly scheme: string;
  /** Checks a proof made for `nonce`; the identity when accepted, undefined when refused. */
  verify(proof: Proof, nonce: string): Promise<Identity | undefined> | Identity | undefined;
}

/** Client half of a scheme. */
export interface AuthCredentials {
  /** The scheme name. */
  readonly scheme: string;
  /** Makes the proof for a server nonce. */
  prove(nonce: string): Promise<Proof> | Proof;
}

/** Reserved method names of the handshake (never reach application handlers). */
export const AUTH_HELLO = "$/auth.hello";
/** Reserved method names of the handshake (never reach application handlers). */
export const AUTH_LOGIN = "$/auth.login";
