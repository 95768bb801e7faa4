/**
 * What every protocol's HTTP handler shares, made once per app: the call a request makes
 * (its caller, deadline and trace context), its body read under the app's size limit and
 * deadline (after the authenticator, which may read it first), and the error answers, each
 * in the request's own protocol (an XML-RPC fault to an XML-RPC request, a JSON-RPC error
 * otherwise) with the HTTP status that says what happened.
 *
 * @module
 */

import type { Router } from "../core/router/router.ts";
import { overloadedShape } from "../core/router/router.ts";
import { routerView } from "../core/router/_transport.ts";
import type { Identity } from "../core/context.ts";
import { type ErrorShape, errorShape } from "../core/errors.ts";
import { callTracing, traceCarrier } from "../core/client/tracing_hook.ts";
import { type CallBase, encodeError } from "../wire/jsonrpc/codec.ts";
import { encodeFault } from "../wire/xmlrpc/fault.ts";
import { SWITCHBOARD_CLIENT_HEADER, TIMEOUT_HEADER } from "../wire/http.ts";
import { BodyDeadline, TOO_SLOW } from "./http_request.ts";
import { BodyReadError, mediaType, readLimited } from "../wire/http_body.ts";
import type { HttpAuthenticator } from "../auth/http_authenticator.ts";
import type { HttpEnv } from "./http_env.ts";

/** Default cap on request bodies: 1 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** Default time a request body may take to arrive after its headers: 30 s. */
export const DEFAULT_BODY_TIMEOUT_MS = 30_000;

/** The path of a request URL (what hono routes on), without parsing the whole URL. */
export function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("://") + 3);
  if (start < 0) return "/";
  const query = url.indexOf("?", start);
  return url.slice(start, query < 0 ? url.length : query);
}

/** Whether a request is XML-RPC (by path, or by content type on `POST /`). */
function isXmlRpc(request: Request): boolean {
  const path = pathOf(request.url);
  return path === "/RPC2" || (path !== "/rpc" && mediaType(request).endsWith("xml"));
}

/**
 * An error answer in the request's own protocol: an XML-RPC fault to an XML-RPC request,
 * a JSON-RPC error otherwise, with the HTTP status that says what happened.
 */
export function errorResponse(
  request: Request,
  status: number,
  error: ErrorShape,
  headers: Record<string, string> = {},
): Response {
  if (!isXmlRpc(request)) {
    return new Response(encodeError(null, error), {
      status,
      headers: { "content-type": "application/json", ...headers },
    });
  }
  const named = request.headers.has(SWITCHBOARD_CLIENT_HEADER);
  return new Response(encodeFault(error, named), {
    status,
    headers: { "content-type": "text/xml; charset=utf-8", ...headers },
  });
}

/** What the handlers of one app share (see the module doc). */
export interface HttpCalls {
  /** Largest accepted body in bytes. */
  readonly limit: number;
  /** The deadline on reading bodies. */
  readonly deadline: BodyDeadline;
  /** What a call inherits from its request: the caller, the deadline from its header. */
  base(request: Request, caller: Identity | undefined, env: HttpEnv | undefined): CallBase;
  /** Authenticates and reads the body, or answers the request itself. */
  prologue(
    request: Request,
    env: HttpEnv | undefined,
  ): Promise<{ body: string; base: CallBase } | Response>;
  /** 413: the body is over the limit. */
  tooLarge(request: Request): Response;
  /** 408: the body did not arrive in time. */
  tooSlow(request: Request): Response;
  /** 400: the client broke the body's framing (logged on one line, without a stack). */
  unreadable(request: Request, error: unknown): Response;
  /** 503: the router is at its limit of calls in flight (answered before reading anything). */
  overloaded(request: Request): Response;
  /** The answer to a handler that failed: 400 for a broken body, else 500 (logged). */
  failed(error: unknown): Response;
}

/** The shared plumbing of an app serving `router` (see the module doc). */
export function httpCalls(
  router: Router,
  options: {
    maxBodyBytes?: number;
    bodyTimeout?: number;
    authenticate?: HttpAuthenticator;
    expose?: (method: string) => boolean;
  },
): HttpCalls {
  const limit = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const bodyTimeout = options.bodyTimeout ?? DEFAULT_BODY_TIMEOUT_MS;
  const deadline = new BodyDeadline(bodyTimeout);
  const { authenticate, expose } = options;
  const view = routerView(router);

  const base = (
    request: Request,
    caller: Identity | undefined,
    env: HttpEnv | undefined,
  ): CallBase => {
    const base: CallBase = {};
    if (caller) base.caller = caller;
    if (expose) base.expose = expose;
    const timeout = request.headers.get(TIMEOUT_HEADER);
    if (timeout !== null && Number(timeout) > 0) {
      base.deadline = Date.now() + Number(timeout);
      // A caller that hangs up cancels its call: Deno.serve aborts request.signal when the
      // connection closes before the response. Only calls with a deadline listen (every
      // Switchboard client sends one): they leave the synchronous fast path anyway, while
      // a signal on every call would cost each one. Deno's legacy mode also aborts the
      // signal after a successful response, by when the call is over and no longer listens.
      base.signal = request.signal;
    }
    // The peer's address and trace context are for observers (logs, metrics, traces) and for
    // tracing's client side: each is a lookup into the request, skipped when neither is on.
    if (!view.observed && callTracing() === undefined) return base;
    const remote = env?.remoteAddr?.hostname;
    if (remote !== undefined) base.remote = remote;
    const traceparent = request.headers.get("traceparent");
    if (traceparent !== null) {
      // Malformed (e.g. two values joined by a comma): dropped, the call is traced afresh.
      const trace = traceCarrier(traceparent, request.headers.get("tracestate"));
      if (trace) base.trace = trace;
    }
    return base;
  };

  const tooLarge = (request: Request) =>
    errorResponse(request, 413, {
      ...errorShape("InvalidRequest", `Invalid Request: body exceeds the limit of ${limit} bytes`),
      name: "PayloadTooLarge",
    }, { connection: "close" });
  const tooSlow = (request: Request) =>
    errorResponse(request, 408, {
      ...errorShape("Timeout", `request body did not arrive within ${bodyTimeout} ms`),
      name: "RequestTimeout",
    }, { connection: "close" });
  const unreadable = (request: Request, error: unknown): Response => {
    const problem = error instanceof BodyReadError ? error : new BodyReadError(error);
    router.logger.warn(`http: ${problem.message}`);
    return errorResponse(request, 400, {
      ...errorShape("InvalidRequest", `Invalid Request: ${problem.message}`),
      name: "BadRequest",
    }, { connection: "close" });
  };

  const prologue = async (
    request: Request,
    env: HttpEnv | undefined,
  ): Promise<{ body: string; base: CallBase } | Response> => {
    let caller: Identity | undefined;
    let read: Promise<string | undefined> | undefined;
    const readBody = () => read ??= readLimited(request, limit);
    if (authenticate) {
      const verdict = await authenticate(request, {
        peer: env?.remoteAddr?.hostname,
        listener: env?.listener,
        body: readBody,
      });
      if (verdict instanceof Response) return verdict;
      caller = verdict;
    }
    let body;
    try {
      body = await deadline.race(readBody());
    } catch (error) {
      if (error instanceof BodyReadError) return unreadable(request, error);
      throw error;
    }
    if (body === TOO_SLOW) return tooSlow(request);
    if (body === undefined) return tooLarge(request);
    return { body, base: base(request, caller, env) };
  };

  return {
    limit,
    deadline,
    base,
    prologue,
    tooLarge,
    tooSlow,
    unreadable,
    overloaded: (request) =>
      errorResponse(request, 503, overloadedShape(router.maxInFlight), { "retry-after": "1" }),
    failed: (error) => {
      if (error instanceof BodyReadError) {
        router.logger.warn(`http: ${error.message}`);
        return new Response(`bad request: ${error.message}\n`, {
          status: 400,
          headers: { "content-type": "text/plain; charset=UTF-8", connection: "close" },
        });
      }
      router.logger.error(`http transport: ${error instanceof Error ? error.stack : error}`);
      return new Response("internal error\n", {
        status: 500,
        headers: { "content-type": "text/plain; charset=UTF-8" },
      });
    },
  };
}
