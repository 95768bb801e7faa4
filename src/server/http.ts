/**
 * The HTTP transport, on hono: JSON-RPC and XML-RPC at `POST /` (told apart by content
 * type), also at `POST /rpc` and `POST /RPC2`, the OpenRPC document at `GET /openrpc.json`, and
 * `GET /healthz`. Bodies are size-limited before they are parsed.
 *
 * @module
 */

import { Hono } from "hono";
import type { Context } from "hono";
import type { Router } from "../core/router/router.ts";
import type { Call, Identity, Outcome } from "../core/context.ts";
import {
  type CallBase,
  DEFAULT_MAX_BATCH,
  DEFAULT_MAX_RESPONSE_BYTES,
  encodeError,
  type JsonRpcRequest,
  parseError,
  parseRequest,
  parseRequestValue,
  runRequest,
} from "../wire/jsonrpc/codec.ts";
import { DEPTH_SCAN_FROM } from "../wire/jsonrpc/json_text.ts";
import { answerStreamed, streamFormat } from "./http_stream.ts";
import { openRpcDocument } from "../core/idl/openrpc.ts";
import { type ErrorShape, errorShape } from "../core/errors.ts";
import { NAMED_PARAMS_HEADER, SWITCHBOARD_CLIENT_HEADER, TIMEOUT_HEADER } from "../wire/http.ts";
import { callTracing, traceCarrier } from "../core/client/tracing_hook.ts";
import { BodyDeadline, type ReadAnswers, TOO_SLOW } from "./http_request.ts";
import { BodyReadError, mediaType, readLimited } from "../wire/http_body.ts";
import { encodeFault } from "../wire/xmlrpc/fault.ts";
import { overloadedShape } from "../core/router/router.ts";
import { explorerResponse } from "../observe/explorer.ts";
import { clientScriptResponse } from "../observe/client_script.ts";
import { type CorsOptions, CorsPolicy, refuseCrossSite, withCors } from "./cors.ts";
import type { HttpAuthenticator, HttpRequestInfo } from "../auth/http_authenticator.ts";
import type { WebSocketOptions } from "./ws.ts";

/** Default cap on request bodies: 1 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** Default time a request body may take to arrive after its headers: 30 s. */
export const DEFAULT_BODY_TIMEOUT_MS = 30_000;

export { TIMEOUT_HEADER };
export type { HttpAuthenticator, HttpRequestInfo };

/** Handles an XML-RPC request body (installed by the XML-RPC codec's transport glue). */
export type XmlRpcHandler = (
  body: string,
  dispatch: (call: Call) => Promise<Outcome>,
  base: Omit<Call, "method" | "params">,
  options?: {
    namedFaults?: boolean;
    namedParams?: boolean;
    maxBatch?: number;
    maxResponseBytes?: number;
  },
) => Promise<string>;

/** Options of the HTTP transport. */
export interface HttpOptions {
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
  /** Open connections of the listener (default 10,000); more get 503. Deno listener only. */
  maxConnections?: number;
  /**
   * How long a new connection may take to send its first request's headers (default 10 s);
   * then it is closed (a slowloris client). Deno listener only.
   */
  headerTimeout?: number;
  /**
   * How long a kept-alive connection may sit between requests, the next request's headers
   * included (default 30 s); then it is closed. Deno listener only.
   */
  idleTimeout?: number;
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
   * Serve JSON-RPC over WebSocket on this listener too (a `GET` with `Upgrade: websocket`
   * at any path, see `docs/websocket.md`): `true` or its options; off by default. Deno
   * listener only; such a listener is served by `Deno.serve`, so `maxConnections`,
   * `headerTimeout` and `idleTimeout` do not apply to its HTTP connections.
   */
  websocket?: WebSocketOptions | boolean;
  /** More `GET` routes by path (e.g. `/metrics`). */
  get?: Record<string, (request: Request) => Response | Promise<Response>>;
}

const JSON_TYPES = ["application/json", "application/json-rpc", "application/jsonrequest"];

function jsonError(status: number, error: ErrorShape, headers: Record<string, string> = {}) {
  return new Response(encodeError(null, error), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
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
  if (!isXmlRpc(request)) return jsonError(status, error, headers);
  const named = request.headers.has(SWITCHBOARD_CLIENT_HEADER);
  return new Response(encodeFault(error, named), {
    status,
    headers: { "content-type": "text/xml; charset=utf-8", ...headers },
  });
}

/** A JSON-RPC body being read: what its answers need. */
interface JsonRead {
  request: Request;
  base: CallBase;
  answers: AnswerTracking | undefined;
}

/** What a call inherits from its request: the caller, and the deadline from its header. */
function callBase(
  request: Request,
  caller: Identity | undefined,
  env: HttpEnv | undefined,
  expose: ((method: string) => boolean) | undefined,
  observed: boolean,
): CallBase {
  // Cancellation over HTTP travels as the deadline header; request.signal is not used
  // because Deno.serve (legacy mode) also aborts it after every successful response, and
  // merely reading it prints a warning. A caller that hangs up stops waiting; the
  // handler runs on until it finishes or its deadline passes.
  const base: CallBase = {};
  if (caller) base.caller = caller;
  if (expose) base.expose = expose;
  const timeout = request.headers.get(TIMEOUT_HEADER);
  if (timeout !== null && Number(timeout) > 0) base.deadline = Date.now() + Number(timeout);
  // The peer's address and trace context are for observers (logs, metrics, traces) and for
  // tracing's client side: each is a lookup into the request, skipped when neither is on.
  if (!observed && callTracing() === undefined) return base;
  const remote = env?.remoteAddr?.hostname;
  if (remote !== undefined) base.remote = remote;
  const traceparent = request.headers.get("traceparent");
  if (traceparent !== null) {
    // Malformed (e.g. two values joined by a comma): dropped, the call is traced afresh.
    const trace = traceCarrier(traceparent, request.headers.get("tracestate"));
    if (trace) base.trace = trace;
  }
  return base;
}

/**
 * What a Switchboard XML-RPC client says in its headers, read only when the codec asks (a
 * fault; a lone struct param), and the listener's limits on a `system.multicall`: a class,
 * because getters on an object literal cost more than the lookups they save.
 */
class ClientHeaders {
  readonly #request: Request;
  readonly #limits: BatchLimits;
  constructor(request: Request, limits: BatchLimits) {
    this.#request = request;
    this.#limits = limits;
  }
  get maxBatch(): number {
    return this.#limits.maxBatch;
  }
  get maxResponseBytes(): number {
    return this.#limits.maxResponseBytes;
  }
  get namedFaults(): boolean {
    return this.#request.headers.has(SWITCHBOARD_CLIENT_HEADER);
  }
  get namedParams(): boolean {
    return this.#request.headers.get(NAMED_PARAMS_HEADER) === "named";
  }
}

/** A listener's limits on requests of many calls (batches, multicalls). */
interface BatchLimits {
  maxBatch: number;
  maxResponseBytes: number;
}

/** What `Deno.serve` passes along with a request (its second argument), and the listener. */
type HttpEnv = {
  remoteAddr?: { hostname?: string };
  listener?: string;
  answers?: AnswerTracking;
};

/**
 * How a listener that counts each connection's requests in progress (for its idle timeout)
 * learns that a request was answered without a promise of its own per request: an app that
 * will report the answer sets `taken` before `fetch` returns, then calls `answered` once.
 * A listener that finds `taken` unset learns it from the promise `fetch` returned.
 */
export interface AnswerTracking {
  /** Set by the app, synchronously in `fetch`, for a request it will report answered. */
  taken: boolean;
  /** The request taken is answered (its response is made). */
  answered(): void;
}

/** A request handler (a hono app): give it to `Deno.serve`, or call `fetch` in tests. */
export interface HttpApp {
  /** Answers one HTTP request. */
  fetch(
    request: Request,
    env?: { remoteAddr?: { hostname?: string }; listener?: string; answers?: AnswerTracking },
  ): Response | Promise<Response>;
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
export function createHttpApp(router: Router, options: HttpOptions = {}): HttpApp {
  const limit = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
  const maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const batchLimits: BatchLimits = { maxBatch, maxResponseBytes };
  const deadline = new BodyDeadline(options.bodyTimeout ?? DEFAULT_BODY_TIMEOUT_MS);
  const expose = options.expose;
  const cors = options.cors ? new CorsPolicy(options.cors) : undefined;
  const app: Hono = new Hono();
  // JSON-RPC takes outcomes at once where the router has them (no promise per small call).
  const dispatchNow = (call: Call) => router.dispatchNow(call);
  // XML-RPC's handler awaits its calls: it takes a promise always.
  const dispatch = (call: Call): Promise<Outcome> => Promise.resolve(dispatchNow(call));

  const tooLarge = (request: Request) =>
    errorResponse(request, 413, {
      ...errorShape("InvalidRequest", `Invalid Request: body exceeds the limit of ${limit} bytes`),
      name: "PayloadTooLarge",
    }, { connection: "close" });
  const tooSlow = (request: Request) =>
    errorResponse(request, 408, {
      ...errorShape(
        "Timeout",
        `request body did not arrive within ${options.bodyTimeout ?? DEFAULT_BODY_TIMEOUT_MS} ms`,
      ),
      name: "RequestTimeout",
    }, { connection: "close" });
  /**
   * A body whose framing the client broke (a malformed chunk): 400, and one line in the log
   * without a stack, since nothing went wrong in the server.
   */
  const unreadable = (request: Request, error: unknown): Response => {
    const problem = error instanceof BodyReadError ? error : new BodyReadError(error);
    router.logger.warn(`http: ${problem.message}`);
    return errorResponse(request, 400, {
      ...errorShape("InvalidRequest", `Invalid Request: ${problem.message}`),
      name: "BadRequest",
    }, { connection: "close" });
  };
  /** The router is at its limit of calls in flight: 503 before reading anything. */
  const overloaded = (request: Request) =>
    errorResponse(request, 503, overloadedShape(router.maxInFlight), { "retry-after": "1" });

  /** Authenticates and reads the body, or answers the request itself. */
  const prologue = async (
    request: Request,
    env: HttpEnv | undefined,
  ): Promise<{ body: string; base: CallBase } | Response> => {
    let caller: Identity | undefined;
    let read: Promise<string | undefined> | undefined;
    const readBody = () => read ??= readLimited(request, limit);
    if (options.authenticate) {
      const verdict = await options.authenticate(request, {
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
    return { body, base: callBase(request, caller, env, expose, router.observed) };
  };

  // Nothing to answer (notifications): 200 with an empty body, as JSON-RPC-over-HTTP
  // clients such as Python's jsonrpclib require (they raise on 204).
  const jsonResponse = (reply: string | null): Response =>
    reply === null
      ? new Response("", { status: 200 })
      : new Response(reply, { headers: { "content-type": "application/json" } });
  const answerJson = (parsed: JsonRpcRequest, base: CallBase): Response | Promise<Response> => {
    const reply = runRequest(parsed, dispatchNow, base, maxResponseBytes);
    return reply instanceof Promise ? reply.then(jsonResponse) : jsonResponse(reply);
  };

  // What the body deadline answers for a JSON-RPC body read through request.json(): made
  // once, so a request allocates no closures for them. They never reject. A read that fails
  // other than by bad JSON is broken framing.
  const jsonAnswers: ReadAnswers<JsonRead, unknown, Response> = {
    done: (read, value) => answerJson(parseRequestValue(value, maxBatch), read.base),
    failed: (read, error) =>
      error instanceof SyntaxError
        ? answerJson({ kind: "error", error: parseError(error.message) }, read.base)
        : unreadable(read.request, error),
    slow: (read) => tooSlow(read.request),
    threw: (_, error) => failed(error),
    ended: (read) => read.answers?.answered(),
  };
  // The same for a body long enough to nest deep, read as text for the depth check first.
  const textAnswers: ReadAnswers<JsonRead, string, Response> = {
    ...jsonAnswers,
    done: (read, text) => answerJson(parseRequest(text, maxBatch), read.base),
    failed: (read, error) => unreadable(read.request, error),
  };

  /**
   * Answers JSON-RPC at `POST /rpc` or `POST /`; the promise never rejects (failures are
   * answered 500). `answers`: report the answer there (given only where `fetch` itself calls
   * this, synchronously). `type`: the request's media type, when the caller read it already.
   */
  const jsonRpc = (
    request: Request,
    env: HttpEnv | undefined,
    answers?: AnswerTracking,
    type: string = mediaType(request),
  ): Promise<Response> => {
    // Any body is parsed as JSON whatever its media type (curl sends form-urlencoded, fetch
    // text/plain for a string); only a page of another site is refused (see cors.ts).
    if (!JSON_TYPES.includes(type)) {
      const refused = refuseCrossSite(request, type, cors);
      if (refused) return Promise.resolve(refused);
    }
    // The common case, a declared length and nobody to authenticate, goes through
    // request.json(): Deno parses the already-received body without a stream or a
    // separate decode, and no async frames stand between it and the router. A body too
    // short to nest deep enough to matter skips the depth check (see json_text.ts).
    if (router.saturated) return Promise.resolve(overloaded(request));
    // A streamed result asked for by Accept (NDJSON, SSE): see http_stream.ts.
    const format = streamFormat(request);
    if (format) {
      return prologue(request, env).then((pre) => {
        if (pre instanceof Response) return pre;
        const parsed = parseRequest(pre.body, maxBatch);
        return answerStreamed(format, parsed, pre.base, dispatchNow) ??
          answerJson(parsed, pre.base);
      }).catch(failed);
    }
    const declared = options.authenticate ? null : request.headers.get("content-length");
    if (declared !== null) {
      const length = Number(declared);
      if (length > limit) return Promise.resolve(tooLarge(request));
      const base = callBase(request, undefined, env, expose, router.observed);
      const read = length > DEPTH_SCAN_FROM
        ? deadline.read(request.text(), { request, base, answers }, textAnswers)
        : deadline.read(request.json(), { request, base, answers }, jsonAnswers);
      if (answers) answers.taken = true;
      return read;
    }
    return prologue(request, env).then((pre) =>
      pre instanceof Response ? pre : answerJson(parseRequest(pre.body, maxBatch), pre.base)
    ).catch(failed);
  };

  const xmlRpcRequest = async (request: Request, env: HttpEnv | undefined): Promise<Response> => {
    const refused = refuseCrossSite(request, mediaType(request), cors);
    if (refused) return refused;
    if (router.saturated) return overloaded(request);
    const pre = await prologue(request, env);
    if (pre instanceof Response) return pre;
    // A Switchboard client says so; its faults carry the error's name (see wire/xmlrpc).
    const reply = await options.xmlrpc!(
      pre.body,
      dispatch,
      pre.base,
      new ClientHeaders(request, batchLimits),
    );
    return new Response(reply, { headers: { "content-type": "text/xml; charset=utf-8" } });
  };

  const xmlRpc = (c: Context): Response | Promise<Response> => {
    if (!options.xmlrpc) return c.text("XML-RPC is not served here\n", 404);
    return xmlRpcRequest(c.req.raw, c.env as HttpEnv | undefined);
  };

  app.post("/rpc", (c) => jsonRpc(c.req.raw, c.env as HttpEnv | undefined));
  app.post("/RPC2", xmlRpc);
  app.post(
    "/",
    (c) =>
      mediaType(c.req.raw).endsWith("xml")
        ? xmlRpc(c)
        : jsonRpc(c.req.raw, c.env as HttpEnv | undefined),
  );
  app.on(
    ["GET", "PUT", "DELETE", "PATCH"],
    ["/rpc", "/RPC2"],
    (c) => c.text("use POST\n", 405, { allow: "POST" }),
  );
  // Listing the methods is as private as calling them: a guarded listener guards it.
  const guarded = (answer: (c: Context) => Response | Promise<Response>) => async (c: Context) => {
    if (options.authenticate) {
      const env = c.env as HttpEnv | undefined;
      const verdict = await options.authenticate(c.req.raw, {
        peer: env?.remoteAddr?.hostname,
        listener: env?.listener,
      });
      if (verdict instanceof Response) return verdict;
    }
    return await answer(c);
  };
  const visibleInterfaces = () => {
    const visible = expose ?? (() => true);
    return router.interfaces().map((i) => ({
      ...i,
      methods: Object.fromEntries(
        Object.entries(i.methods).filter(([m]) => visible(`${i.name}.${m}`)),
      ),
    })).filter((i) => Object.keys(i.methods).length > 0);
  };
  app.get("/openrpc.json", guarded((c) => c.json(openRpcDocument(visibleInterfaces()))));
  if (options.explorer ?? true) {
    app.get("/", guarded(() => explorerResponse(visibleInterfaces())));
  }
  if (options.clientScript ?? options.explorer ?? true) {
    app.get("/client.js", (c) => clientScriptResponse(c.req.raw));
  }
  for (const [path, handler] of Object.entries(options.get ?? {})) {
    app.get(path, (c) => handler(c.req.raw));
  }
  app.get("/healthz", (c) => c.json({ ok: true }));
  app.notFound((c) =>
    c.text(
      "not found: JSON-RPC and XML-RPC are at POST / (also POST /rpc and POST /RPC2), the " +
        "OpenRPC document at GET /openrpc.json, health at GET /healthz\n",
      404,
    )
  );
  const failed = (error: unknown): Response => {
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
  };
  app.onError(failed);
  // POST /, /rpc and /RPC2 are the hot paths: they skip the framework's routing and context
  // (about a microsecond per call). `/` is where a client given a bare `http://host:port`
  // posts, and it tells the protocols apart by media type. Anything else, including paths
  // hono would normalise, goes to hono. Middleware added to `app` must also wrap these paths.
  const fetch: HttpApp["fetch"] = (request, env) => {
    if (request.method === "POST") {
      const path = pathOf(request.url);
      if (path === "/rpc") return jsonRpc(request, env, env?.answers);
      if (path === "/") {
        const type = mediaType(request);
        if (!type.endsWith("xml")) return jsonRpc(request, env, env?.answers, type);
        if (options.xmlrpc) return xmlRpcRequest(request, env).catch(failed);
      } else if (path === "/RPC2" && options.xmlrpc) {
        return xmlRpcRequest(request, env).catch(failed);
      }
    }
    return app.fetch(request, env);
  };
  // Without CORS options nothing wraps the hot paths.
  return { fetch: cors ? withCors(cors, fetch) : fetch };
}

/** The path of a request URL (what hono routes on), without parsing the whole URL. */
function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("://") + 3);
  if (start < 0) return "/";
  const query = url.indexOf("?", start);
  return url.slice(start, query < 0 ? url.length : query);
}
