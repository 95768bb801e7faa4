/**
 * What an HTTP server asks an authenticator, and what the authenticator answers: the
 * contract between the HTTP transport (src/server/http.ts) and the authenticators that
 * plug into it (src/auth/http.ts, or a program's own).
 *
 * @module
 */

import type { Identity } from "../core/context.ts";

/** What the transport knows about a request besides the request itself. */
export interface HttpRequestInfo {
  /** The client's address (IP), when served from a socket; keys per-peer rate limits. */
  peer?: string;
  /** The URL of the listener that received the request (sessions are bound to it). */
  listener?: string;
  /**
   * Reads the body (once, size-limited; undefined when over the limit). The transport
   * reuses what an authenticator read, so nobody needs to clone the request.
   */
  body?: () => Promise<string | undefined>;
}

/** Decides who the caller is; return a Response to refuse (or answer) the request outright. */
export type HttpAuthenticator = (
  request: Request,
  info: HttpRequestInfo,
) => Identity | undefined | Response | Promise<Identity | undefined | Response>;
