/**
 * Cross-origin calls from browser pages (CORS) for the HTTP listener: the preflight answer,
 * `Access-Control-Allow-Origin` on responses to allowed origins, and the refusal of calls a
 * browser can send cross-site without a preflight. Runtime-free (web standard types); the
 * preflights and response headers are HTTP middleware, the refusal is each call handler's.
 *
 * @module
 */

import { errorShape } from "../core/errors.ts";
import { TIMEOUT_HEADER } from "../wire/http.ts";
import type { HttpMiddleware } from "./http_middleware.ts";

/** Which browser pages may call a listener from another origin. */
export interface CorsOptions {
  /**
   * Origins allowed to call, e.g. `https://app.example.com` (scheme, host and port, no
   * path), or `"*"` for any page.
   */
  origins: readonly string[];
  /**
   * Let pages send cookies and HTTP authentication (`Access-Control-Allow-Credentials`);
   * off by default, and refused together with `"*"`.
   */
  credentials?: boolean;
  /** How long a browser may reuse a preflight answer, in seconds (default 600). */
  maxAge?: number;
}

/** The request headers a Switchboard client (or a tracing page) sends with a call. */
const ALLOWED_HEADERS = [
  "content-type",
  "authorization",
  TIMEOUT_HEADER,
  "x-switchboard-client",
  "x-switchboard-params",
  "traceparent",
  "tracestate",
];

/** Paths a preflight is answered for: where calls and the OpenRPC document are served. */
const PREFLIGHT_PATHS = new Set(["/rpc", "/RPC2", "/", "/openrpc.json"]);

/** Media types a browser sends cross-origin without asking first (CORS "simple" requests). */
const SIMPLE_TYPES = new Set([
  "",
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data",
]);

/**
 * `value` as an origin (`scheme://host[:port]`), or a TypeError saying what is wrong.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseOrigin } from "@switchboard/rpc/server";
 *
 * assert.equal(parseOrigin("https://app.example.com/"), "https://app.example.com");
 * assert.throws(() => parseOrigin("app.example.com"), /is not a URL/);
 * ```
 */
export function parseOrigin(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(
      `CORS origin ${JSON.stringify(value)} is not a URL: write it as https://host[:port]`,
    );
  }
  if (url.origin === "null" || (url.pathname !== "/" && url.pathname !== "") || url.search) {
    throw new TypeError(
      `CORS origin ${JSON.stringify(value)} is not an origin: write only scheme://host[:port]`,
    );
  }
  return url.origin;
}

/**
 * A listener's CORS policy, checked once when the listener is made (`createHttpApp` and
 * `listenHttp` make one from their `cors` option).
 *
 * @example Answer a preflight
 * ```ts
 * import assert from "node:assert/strict";
 * import { CorsPolicy } from "@switchboard/rpc/server";
 *
 * const cors = new CorsPolicy({ origins: ["https://app.example.com"] });
 * const preflight = new Request("http://127.0.0.1:8080/rpc", {
 *   method: "OPTIONS",
 *   headers: { origin: "https://app.example.com", "access-control-request-method": "POST" },
 * });
 * const answer = cors.preflight(preflight, "https://app.example.com");
 * assert.equal(answer.status, 204);
 * assert.equal(answer.headers.get("access-control-allow-origin"), "https://app.example.com");
 * assert.equal(cors.allows("https://evil.example"), false);
 * ```
 */
export class CorsPolicy {
  readonly #any: boolean;
  readonly #origins: Set<string>;
  readonly #credentials: boolean;
  readonly #maxAge: string;

  /** Checks `options`: a TypeError for an origin that is not one, or credentials with `*`. */
  constructor(options: CorsOptions) {
    this.#any = options.origins.includes("*");
    this.#origins = new Set(options.origins.filter((o) => o !== "*").map(parseOrigin));
    this.#credentials = options.credentials ?? false;
    if (this.#any && this.#credentials) {
      throw new TypeError("CORS: credentials cannot be allowed for every origin (*); list them");
    }
    const maxAge = options.maxAge ?? 600;
    if (!(Number.isInteger(maxAge) && maxAge >= 0)) {
      throw new TypeError(`CORS: maxAge must be a whole number of seconds, got ${maxAge}`);
    }
    this.#maxAge = String(maxAge);
  }

  /** Whether a page from `origin` may call. */
  allows(origin: string): boolean {
    return this.#any || this.#origins.has(origin);
  }

  /** Whether `path` answers preflights. */
  preflights(path: string): boolean {
    return PREFLIGHT_PATHS.has(path);
  }

  /** The answer to a preflight (`OPTIONS` with `Access-Control-Request-Method`) from `origin`. */
  preflight(request: Request, origin: string): Response {
    if (!this.allows(origin)) {
      // No CORS headers: the browser refuses the call and the page sees a TypeError.
      return new Response(`origin ${origin} may not call this server\n`, {
        status: 403,
        headers: { "content-type": "text/plain; charset=utf-8", vary: "origin" },
      });
    }
    const headers = this.#originHeaders(origin);
    headers.set("access-control-allow-methods", "POST, GET");
    headers.set("access-control-allow-headers", this.#allowedHeaders(request).join(", "));
    headers.set("access-control-max-age", this.#maxAge);
    if (!this.#any) headers.append("vary", "access-control-request-headers");
    return new Response(null, { status: 204, headers });
  }

  /** `response` with the headers that let a page from `origin` read it (when allowed). */
  expose(response: Response, origin: string): Response {
    if (!this.allows(origin)) return response;
    const extra = this.#originHeaders(origin);
    try {
      extra.forEach((value, name) => response.headers.append(name, value));
      return response;
    } catch {
      // Immutable headers (a response passed through from fetch): copy it.
      const copy = new Response(response.body, response);
      extra.forEach((value, name) => copy.headers.append(name, value));
      return copy;
    }
  }

  #originHeaders(origin: string): Headers {
    const headers = new Headers();
    headers.set("access-control-allow-origin", this.#any ? "*" : origin);
    if (this.#credentials) headers.set("access-control-allow-credentials", "true");
    if (!this.#any) headers.set("vary", "origin");
    return headers;
  }

  /** The fixed list, plus any `x-switchboard-*` header the page asks for. */
  #allowedHeaders(request: Request): string[] {
    const asked = (request.headers.get("access-control-request-headers") ?? "").split(",")
      .map((h) => h.trim().toLowerCase())
      .filter((h) => h.startsWith("x-switchboard-") && !ALLOWED_HEADERS.includes(h));
    return [...ALLOWED_HEADERS, ...asked];
  }
}

/** Middleware answering preflights and marking responses readable by allowed origins. */
export function corsMiddleware(cors: CorsPolicy): HttpMiddleware {
  return (request, _env, next) => {
    const origin = request.headers.get("origin");
    if (origin === null) return next();
    if (
      request.method === "OPTIONS" && request.headers.has("access-control-request-method") &&
      cors.preflights(new URL(request.url).pathname)
    ) {
      return cors.preflight(request, origin);
    }
    const response = next();
    return response instanceof Promise
      ? response.then((r) => cors.expose(r, origin))
      : cors.expose(response, origin);
  };
}

/**
 * A 403 for a request a browser sent from a page of another site without a preflight (a
 * "simple" media type, which a form or `fetch` with a string body may send anywhere), unless
 * `cors` allows its origin. Without this, accepting any media type would let every web page
 * make its visitors' browsers call a server on their network (cross-site request forgery).
 * Requests without `Origin` (curl, servers) and same-host pages pass.
 */
export function refuseCrossSite(
  request: Request,
  type: string,
  cors: CorsPolicy | undefined,
): Response | undefined {
  if (!SIMPLE_TYPES.has(type)) return undefined;
  const origin = request.headers.get("origin");
  if (origin === null || cors?.allows(origin) || sameHost(origin, request.url)) return undefined;
  return new Response(
    JSON.stringify({
      jsonrpc: "2.0",
      error: errorShape(
        "Forbidden",
        `Forbidden: pages from ${origin} may not call this server` +
          (cors ? "" : " (it allows no other origins)"),
      ),
      id: null,
    }),
    { status: 403, headers: { "content-type": "application/json" } },
  );
}

/** Whether `origin` names the host (and port) `url` was requested at; a proxy may change the scheme. */
function sameHost(origin: string, url: string): boolean {
  const at = origin.indexOf("://");
  if (at < 0) return false;
  const host = origin.slice(at + 3);
  const start = url.indexOf("://") + 3;
  return url.startsWith(host, start) &&
    (url.length === start + host.length || url[start + host.length] === "/");
}
