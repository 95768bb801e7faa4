/**
 * HTTP middleware: what wraps every request of an app (its calls included), composed once
 * when the app is built, in the shape of the router's own middleware — Web-standard
 * `Request` and `Response`, no framework context. CORS is one (see `cors.ts`); a user adds
 * their own with the app's `middleware` option.
 *
 * @module
 */

import type { HttpEnv } from "./http_env.ts";

/** Answers one request (a route, or the rest of a middleware chain). */
export type HttpHandler = (
  request: Request,
  env: HttpEnv | undefined,
) => Response | Promise<Response>;

/**
 * Wraps the rest of the app: answer `request` itself (e.g. refuse it), or pass it on with
 * `next` (optionally as another request) and return, or change, what it answers.
 *
 * @example A header on every response
 * ```ts
 * import assert from "node:assert/strict";
 * import { createHttpApp, type HttpMiddleware, Router } from "@switchboard/rpc/server";
 *
 * const tagged: HttpMiddleware = async (request, _env, next) => {
 *   const response = await next();
 *   response.headers.set("x-served-by", "switchboard");
 *   return response;
 * };
 * const app = createHttpApp(new Router(), { middleware: [tagged] });
 * const response = await app.fetch(new Request("http://x/healthz"));
 * assert.equal(response.headers.get("x-served-by"), "switchboard");
 * await response.body?.cancel();
 * ```
 */
export type HttpMiddleware = (
  request: Request,
  env: HttpEnv | undefined,
  next: (request?: Request) => Response | Promise<Response>,
) => Response | Promise<Response>;

/** `middleware` in order (outermost first) around `handler`, composed once. */
export function composeHttp(
  middleware: readonly HttpMiddleware[],
  handler: HttpHandler,
): HttpHandler {
  let composed = handler;
  for (let i = middleware.length - 1; i >= 0; i--) {
    const outer = middleware[i], inner = composed;
    composed = (request, env) => outer(request, env, (next) => inner(next ?? request, env));
  }
  return composed;
}
