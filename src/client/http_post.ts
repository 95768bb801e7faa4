/**
 * The one HTTP round trip both HTTP client transports make: POST a body with the caller's
 * remaining time budget, map network failures and cancellations to `RpcError`s.
 *
 * @module
 */

import { RpcError, rpcError } from "../core/errors.ts";
import type { TraceCarrier } from "../core/context.ts";
import { callTracing } from "../core/client/tracing_hook.ts";
import { TIMEOUT_HEADER } from "../wire/http.ts";
import type { AuthCredentials } from "../auth/types.ts";
import { transportFetch } from "./http_auth.ts";
import { trustedFetch } from "./trusted_fetch.ts";
import { unsent } from "../core/client/unsent.ts";

/** Where and how to post. */
export interface HttpEndpoint {
  /** The endpoint URL. */
  readonly url: string;
  /** Headers of every request (content type, auth). */
  readonly headers: Record<string, string>;
  /** The fetch to use. */
  readonly fetch: typeof fetch;
  /** Releases what the endpoint holds (an HTTP client trusting extra CAs). */
  close(): void;
}

/** What an HTTP client transport's options say about how to reach its endpoint. */
export interface EndpointOptions {
  /** Extra headers on every request. */
  headers?: Record<string, string>;
  /** The fetch to use (default: the global one). */
  fetch?: typeof fetch;
  /** Log in with these (sessions over HTTP). */
  auth?: AuthCredentials;
  /** Extra PEM CA certificates to trust for `https://` (Deno; ignored with `fetch`). */
  caCerts?: string[];
}

/**
 * The endpoint of an HTTP client transport: its own headers (content type…) under the
 * caller's, and a fetch that trusts `caCerts` and logs in with `auth` when asked to.
 */
export function httpEndpoint(
  url: string,
  ownHeaders: Record<string, string>,
  options: EndpointOptions,
): HttpEndpoint {
  const tls = options.caCerts?.length && !options.fetch ? trustedFetch(options.caCerts) : undefined;
  return {
    url,
    headers: { ...ownHeaders, ...options.headers },
    fetch: transportFetch(tls ? { ...options, fetch: tls.fetch } : options),
    close: () => tls?.close(),
  };
}

/** What Deno's and Node's fetch say when no connection could be made. */
const REFUSED = /\(Connect\)|ECONNREFUSED|Connection refused/;

/**
 * Posts `body`; the deadline travels as the `x-rpc-timeout` header, the trace context as
 * `traceparent`/`tracestate` (unless the runtime's fetch sends its own). Rejects with the
 * caller's own Timeout/Cancelled error when it aborted, with `Unavailable` when the
 * server cannot be reached.
 */
export async function postRpc(
  endpoint: HttpEndpoint,
  body: string,
  request: { deadline?: number; signal?: AbortSignal; trace?: TraceCarrier },
  accept?: string,
): Promise<Response> {
  let headers = request.deadline === undefined ? endpoint.headers : {
    ...endpoint.headers,
    [TIMEOUT_HEADER]: String(Math.max(1, request.deadline - Date.now())),
  };
  if (accept !== undefined) headers = { ...headers, accept };
  const trace = request.trace;
  if (trace && !callTracing()?.fetchPropagates) {
    headers = { ...headers, traceparent: trace.traceparent };
    if (trace.tracestate) headers.tracestate = trace.tracestate;
  }
  // Called as a plain function: browsers throw "Illegal invocation" when the global fetch
  // is called as a method of another object.
  const send = endpoint.fetch;
  try {
    return await send(endpoint.url, {
      method: "POST",
      headers,
      body,
      signal: request.signal,
    });
  } catch (error) {
    if (request.signal?.aborted && request.signal.reason instanceof RpcError) {
      throw request.signal.reason;
    }
    // Deno's fetch says "fetch failed" and tells why in its cause.
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause : undefined;
    const reason = `${error instanceof Error ? error.message : String(error)}${
      cause ? ` (${cause.message})` : ""
    }`;
    const failure = rpcError("Unavailable", `cannot reach ${endpoint.url}: ${reason}`);
    // Refused while connecting (Deno, Node): the request never left.
    throw REFUSED.test(reason) ? unsent(failure) : failure;
  }
}
