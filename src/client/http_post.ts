/**
 * The one HTTP round trip both HTTP client transports make: POST a body with the caller's
 * remaining time budget, map network failures and cancellations to `RpcError`s.
 *
 * @module
 */

import { RpcError, rpcError } from "../core/errors.ts";
import { TIMEOUT_HEADER } from "../wire/http.ts";

/** Where and how to post. */
export interface HttpEndpoint {
  /** The endpoint URL. */
  readonly url: string;
  /** Headers of every request (content type, auth). */
  readonly headers: Record<string, string>;
  /** The fetch to use. */
  readonly fetch: typeof fetch;
}

/**
 * Posts `body`; the deadline travels as the `x-rpc-timeout` header. Rejects with the
 * caller's own Timeout/Cancelled error when it aborted, with `Unavailable` when the
 * server cannot be reached.
 */
export async function postRpc(
  endpoint: HttpEndpoint,
  body: string,
  request: { deadline?: number; signal?: AbortSignal },
): Promise<Response> {
  const headers = request.deadline === undefined ? endpoint.headers : {
    ...endpoint.headers,
    [TIMEOUT_HEADER]: String(Math.max(1, request.deadline - Date.now())),
  };
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
    throw rpcError(
      "Unavailable",
      `cannot reach ${endpoint.url}: ${error instanceof Error ? error.message : error}`,
    );
  }
}
