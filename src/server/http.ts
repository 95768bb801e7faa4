/**
 * The HTTP app: a router served over HTTP as `fetch(Request, env) → Response`, runtime-free
 * (a Deno listener binds it in `src/adapters/deno/http.ts`; a test calls `fetch`). This file
 * only composes; each part has its own file:
 *
 * | what                                 | file                                         |
 * | ------------------------------------ | -------------------------------------------- |
 * | `POST /rpc`, `POST /` (not XML)      | `http_jsonrpc.ts` (JSON-RPC)                 |
 * | `POST /RPC2`, `POST /` (XML)         | `http_xmlrpc.ts` (XML-RPC)                   |
 * | `GET` routes, 404, 405               | `http_routes.ts` (on hono)                   |
 * | `GET /rpc/<method>` (EventSource)    | `http_event_source.ts`                       |
 * | `GET /events` (pub-sub over SSE)     | `http_events.ts`                             |
 * | streamed bodies' lifetime            | `http_open_bodies.ts`                        |
 * | body limits, deadlines, auth, errors | `http_calls.ts` (shared by the two above)    |
 * | around everything                    | `http_middleware.ts`, `cors.ts` (middleware) |
 *
 * Each imports `src/core/`, `src/wire/`, `src/observe/` (the explorer page) and its
 * siblings here — never a runtime, a client, or an adapter.
 *
 * **Hono's place.** The `GET` routes are a hono app. The calls are routed before it by their
 * exact path: through hono's router and context a JSON-RPC `add` call cost about 11,000
 * instructions more (callgrind, in process: 95,700 against 84,700 per call with the request
 * built and read), a fifth of what the whole call costs a listener (about 50,000, see
 * scripts/bench/instructions.ts), for nothing a call uses. Middleware is this app's own
 * compose, in the shape of the router's, around the calls and the hono routes alike; with
 * none installed (CORS included) the call paths are reached directly.
 *
 * @module
 */

import type { Router } from "../core/router/router.ts";
import { TIMEOUT_HEADER } from "../wire/http.ts";
import { mediaType } from "../wire/http_body.ts";
import { httpCalls, pathOf } from "./http_calls.ts";
import { jsonRpcHttp } from "./http_jsonrpc.ts";
import { xmlRpcHttp } from "./http_xmlrpc.ts";
import { httpRoutes } from "./http_routes.ts";
import { composeHttp, type HttpHandler, type HttpMiddleware } from "./http_middleware.ts";
import { corsMiddleware, type CorsOptions, CorsPolicy } from "./cors.ts";
import type { ListenerEnv } from "./_http_env.ts";
import { OpenBodies } from "./http_open_bodies.ts";
import type { EventStreamOptions } from "./http_events.ts";
import type { Topics } from "./tcp_pubsub.ts";
import type { HttpEnv } from "./http_env.ts";
import type { XmlRpcHandler } from "./http_xmlrpc.ts";
import type { HttpAuthenticator, HttpRequestInfo } from "../auth/http_authenticator.ts";

export { DEFAULT_BODY_TIMEOUT_MS, DEFAULT_MAX_BODY_BYTES } from "./http_calls.ts";
export { TIMEOUT_HEADER };
export type { EventStreamOptions, HttpAuthenticator, HttpEnv, HttpRequestInfo, XmlRpcHandler };

/** Options of the HTTP app (what a listener adds is in `HttpOptions`). */
export interface HttpAppOptions {
  /** Largest accepted request body in bytes (default 1 MiB); larger ones get 413. */
  maxBodyBytes?: number;
  /**
   * Calls in one JSON-RPC batch or XML-RPC `system.multicall` (default 1000); more are
   * refused whole with InvalidRequest.
   */
  maxBatch?: number;
  /**
   * The answer to one JSON-RPC batch or XML-RPC `system.multicall`, in bytes (default 8 MiB,
   * counted as it is encoded); a request whose answer would be larger is refused with
   * InvalidRequest, and its calls not yet started do not run. Single calls are not counted.
   */
  maxResponseBytes?: number;
  /** How long a body may take to arrive after its headers (default 30 s); then 408. */
  bodyTimeout?: number;
  /** Establishes the caller's identity (or refuses the request). */
  authenticate?: HttpAuthenticator;
  /** Which methods this listener exposes (all by default); others are "not found". */
  expose?: (method: string) => boolean;
  /** Serves XML-RPC when set. */
  xmlrpc?: XmlRpcHandler;
  /** Serve the API explorer page at `GET /` (default true). */
  explorer?: boolean;
  /**
   * Serve the "." entry point bundled for browsers at `GET /client.js` (default: when the
   * explorer is served, which uses it).
   */
  clientScript?: boolean;
  /** Let browser pages from these origins call (CORS); none by default. */
  cors?: CorsOptions;
  /**
   * Serve publish–subscribe over server-sent events at `GET /events?topic=…` (see
   * `docs/http.md`): `true` or its options; off by default.
   */
  events?: EventStreamOptions | boolean;
  /**
   * The topics `GET /events` follows: a `Server` gives the one its TCP and WebSocket
   * subscribers share, so that one publish reaches all of them.
   */
  topics?: Topics;
  /** More `GET` routes by path (e.g. `/metrics`). */
  get?: Record<string, (request: Request) => Response | Promise<Response>>;
  /**
   * HTTP middleware around every request, calls included, outermost first (inside CORS,
   * so that a page can read what middleware answers).
   */
  middleware?: HttpMiddleware[];
}

/** A request handler: give it to a listener, or call `fetch` in tests. */
export interface HttpApp {
  /** Answers one HTTP request. */
  fetch(request: Request, env?: HttpEnv): Response | Promise<Response>;
  /**
   * Ends the bodies still streaming (streamed results end with an `Unavailable` error, event
   * streams close), so that a listener shutting down does not wait on them forever.
   */
  close?(): void;
}

/**
 * Builds the app serving a router over HTTP (JSON-RPC, XML-RPC, OpenRPC, health).
 *
 * @example Answer a request without a socket
 * ```ts
 * import assert from "node:assert/strict";
 * import { createHttpApp, Router } from "@switchboard/rpc/server";
 *
 * const app = createHttpApp(new Router());
 * const response = await app.fetch(new Request("http://x/healthz"));
 * assert.equal(response.status, 200);
 * await response.body?.cancel();
 * ```
 */
export function createHttpApp(router: Router, options: HttpAppOptions = {}): HttpApp {
  const cors = options.cors ? new CorsPolicy(options.cors) : undefined;
  const calls = httpCalls(router, options);
  const bodies = new OpenBodies();
  const report = bodies.report.bind(bodies);
  const limits = { maxBatch: options.maxBatch, maxResponseBytes: options.maxResponseBytes };
  const jsonRpc = jsonRpcHttp(router, calls, {
    ...limits,
    authenticated: options.authenticate !== undefined,
    cors,
    bodies,
  });
  const xmlRpc = options.xmlrpc
    ? xmlRpcHttp(router, calls, options.xmlrpc, { ...limits, cors })
    : undefined;
  const routes = httpRoutes(router, calls, options, { jsonRpc, xmlRpc }, { bodies, cors });

  // POST /, /rpc and /RPC2 are the hot paths: they skip hono's routing and context. `/` is
  // where a client given a bare `http://host:port` posts; it tells the protocols apart by
  // media type. Anything else, including paths hono would normalise, goes to hono.
  // `answered`: the listener's, reported by the JSON-RPC handler itself when given.
  const route = (
    request: Request,
    env: HttpEnv | undefined,
    answered?: () => void,
  ): Response | Promise<Response> => {
    if (request.method === "POST") {
      const path = pathOf(request.url);
      if (path === "/rpc") return jsonRpc(request, env, answered);
      if (path === "/") {
        const type = mediaType(request);
        if (!type.endsWith("xml")) return jsonRpc(request, env, answered, type);
        if (xmlRpc) return report(xmlRpc(request, env), answered);
      } else if (path === "/RPC2" && xmlRpc) {
        return report(xmlRpc(request, env), answered);
      }
    }
    return report(routes(request, env), answered);
  };
  const middleware = [...(cors ? [corsMiddleware(cors)] : []), ...(options.middleware ?? [])];
  const close = () => bodies.stopAll();
  if (middleware.length === 0) {
    return {
      close,
      fetch: (request, env) => {
        const answered = (env as ListenerEnv | undefined)?.answered;
        try {
          return route(request, env, answered);
        } catch (error) {
          answered?.();
          return calls.failed(error);
        }
      },
    };
  }
  const composed: HttpHandler = composeHttp(middleware, (request, env) => route(request, env));
  return {
    close,
    fetch: (request, env) => {
      const answered = (env as ListenerEnv | undefined)?.answered;
      let response;
      try {
        response = composed(request, env);
      } catch (error) {
        response = calls.failed(error);
      }
      if (response instanceof Promise) response = response.catch(calls.failed);
      return report(response, answered);
    },
  };
}
