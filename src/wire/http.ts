/**
 * What both ends of Switchboard's HTTP transports share: header names, the session
 * scheme, and the 401 answer both ends recognise. Runtime-free (web standard `Response`).
 *
 * @module
 */

import { ErrorCode } from "../core/errors.ts";

/** Header carrying the caller's remaining time budget in milliseconds. */
export const TIMEOUT_HEADER = "x-rpc-timeout";

/**
 * The header a Switchboard XML-RPC client sends: its faults may carry `faultName` and
 * `faultData` (plain clients get exactly `faultCode` and `faultString`).
 */
export const SWITCHBOARD_CLIENT_HEADER = "x-switchboard-client";

/**
 * The header a Switchboard client adds when its one struct param is params by name
 * (`client.call("Greeter.greet", { name: "Ada" })`, `switchboard call … '{"name":"Ada"}'`):
 * said explicitly, never guessed from the struct's members.
 */
export const NAMED_PARAMS_HEADER = "x-switchboard-params";

/** The `Authorization` scheme of a session opened by `$/auth.login` over HTTP. */
export const SESSION_SCHEME = "Switchboard-Session";

function escapeXml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

/** A JSON-RPC response object with the given HTTP status. */
export function jsonRpcResponse(
  status: number,
  id: string | number | null,
  body: object,
  headers: HeadersInit = {},
): Response {
  return new Response(JSON.stringify({ jsonrpc: "2.0", ...body, id }), {
    status,
    headers: { ...headers, "content-type": "application/json" },
  });
}

/**
 * The 401 answer to a request without valid credentials: a JSON-RPC error (code -32001)
 * or, for XML-RPC, a fault.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { unauthorizedResponse } from "./http.ts";
 *
 * const response = unauthorizedResponse(false, "log in first");
 * assert.equal(response.status, 401);
 * assert.equal((await response.json()).error.code, -32001);
 * ```
 */
export function unauthorizedResponse(
  xml: boolean,
  detail: string,
  id: string | number | null = null,
  headers: Record<string, string> = {},
): Response {
  const message = `Unauthorized: ${detail}`;
  if (xml) {
    return new Response(
      `<?xml version="1.0"?><methodResponse><fault><value><struct>` +
        `<member><name>faultCode</name><value><int>${ErrorCode.Unauthorized}</int></value></member>` +
        `<member><name>faultString</name><value><string>${escapeXml(message)}</string></value>` +
        `</member></struct></value></fault></methodResponse>`,
      { status: 401, headers: { ...headers, "content-type": "text/xml; charset=utf-8" } },
    );
  }
  return jsonRpcResponse(401, id, {
    error: { code: ErrorCode.Unauthorized, name: "Unauthorized", message },
  }, headers);
}
