/**
 * JSON-RPC over HTTP, server side: the handler of `POST /rpc` (and of `POST /` for any media
 * type but XML). It imports the JSON-RPC codec (`src/wire/jsonrpc/`), `src/core/`, and the
 * shared HTTP plumbing of `src/server/http_*.ts`; nothing of a runtime. Its answer is a
 * `Response`, so a handler that streams its result can answer with a streamed body.
 *
 * @module
 */

import type { Router } from "../core/router/router.ts";
import { routerView } from "../core/router/_transport.ts";
import type { Call } from "../core/context.ts";
import {
  type CallBase,
  DEFAULT_MAX_BATCH,
  DEFAULT_MAX_RESPONSE_BYTES,
  type JsonRpcRequest,
  parseError,
  parseRequest,
  parseRequestValue,
  runRequest,
} from "../wire/jsonrpc/codec.ts";
import { DEPTH_SCAN_FROM } from "../wire/jsonrpc/json_text.ts";
import { answerStreamed, streamFormat } from "./http_stream.ts";
import type { ReadAnswers } from "./http_request.ts";
import { mediaType } from "../wire/http_body.ts";
import type { HttpCalls } from "./http_calls.ts";
import { type CorsPolicy, refuseCrossSite } from "./cors.ts";
import type { HttpEnv } from "./http_env.ts";
import type { OpenBodies } from "./http_open_bodies.ts";

/**
 * Answers one JSON-RPC request; the promise never rejects (failures are answered 500).
 * `answered`: called once when the response is made (given where a listener counts its
 * requests in progress, so that it needs no promise of its own per request). `type`: the
 * request's media type, when the caller read it already.
 */
export type JsonRpcHttpHandler = (
  request: Request,
  env: HttpEnv | undefined,
  answered?: () => void,
  type?: string,
) => Promise<Response>;

const JSON_TYPES = ["application/json", "application/json-rpc", "application/jsonrequest"];
/** The init of every JSON answer: made once (a Response reads it, never keeps or changes it). */
const JSON_INIT: ResponseInit = { headers: { "content-type": "application/json" } };

/** A JSON-RPC body being read: what its answer needs. */
interface JsonRead {
  request: Request;
  base: CallBase;
  answered: (() => void) | undefined;
}

/** The JSON-RPC handler of an app serving `router`. */
export function jsonRpcHttp(
  router: Router,
  calls: HttpCalls,
  options: {
    maxBatch?: number;
    maxResponseBytes?: number;
    authenticated: boolean;
    cors: CorsPolicy | undefined;
    /** Where streamed responses are held while their bodies are open. */
    bodies: OpenBodies;
  },
): JsonRpcHttpHandler {
  const maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
  const maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const { authenticated, cors, bodies } = options;
  const { limit, deadline } = calls;
  // Outcomes are taken at once where the router has them (no promise per small call).
  const view = routerView(router);
  const dispatchNow = (call: Call) => view.dispatchNow(call);

  // Nothing to answer (notifications): 200 with an empty body, as JSON-RPC-over-HTTP
  // clients such as Python's jsonrpclib require (they raise on 204).
  const jsonResponse = (reply: string | null): Response =>
    reply === null ? new Response("", { status: 200 }) : new Response(reply, JSON_INIT);
  const answer = (parsed: JsonRpcRequest, base: CallBase): Response | Promise<Response> => {
    const reply = runRequest(parsed, dispatchNow, base, maxResponseBytes);
    return reply instanceof Promise ? reply.then(jsonResponse) : jsonResponse(reply);
  };

  // What the body deadline answers for a body read through request.json(): made once, so
  // a request allocates no closures for them. They never reject. A read that fails other
  // than by bad JSON is broken framing.
  const jsonAnswers: ReadAnswers<JsonRead, unknown, Response> = {
    done: (read, value) => answer(parseRequestValue(value, maxBatch), read.base),
    failed: (read, error) =>
      error instanceof SyntaxError
        ? answer({ kind: "error", error: parseError(error.message) }, read.base)
        : calls.unreadable(read.request, error),
    slow: (read) => calls.tooSlow(read.request),
    threw: (_, error) => calls.failed(error),
    ended: (read) => read.answered?.(),
  };
  // The same for a body long enough to nest deep, read as text for the depth check first.
  const textAnswers: ReadAnswers<JsonRead, string, Response> = {
    ...jsonAnswers,
    done: (read, text) => answer(parseRequest(text, maxBatch), read.base),
    failed: (read, error) => calls.unreadable(read.request, error),
  };
  const now = (response: Response, answered: (() => void) | undefined) => {
    answered?.();
    return Promise.resolve(response);
  };

  return (request, env, answered, type = mediaType(request)) => {
    // Any body is parsed as JSON whatever its media type (curl sends form-urlencoded, fetch
    // text/plain for a string); only a page of another site is refused (see cors.ts).
    if (!JSON_TYPES.includes(type)) {
      const refused = refuseCrossSite(request, type, cors);
      if (refused) return now(refused, answered);
    }
    if (view.saturated) return now(calls.overloaded(request), answered);
    // A streamed result asked for by Accept (NDJSON, SSE): see http_stream.ts.
    const format = streamFormat(request);
    if (format) {
      const streamed = calls.prologue(request, env).then((pre) => {
        if (pre instanceof Response) return pre;
        const parsed = parseRequest(pre.body, maxBatch);
        return answerStreamed(format, parsed, pre.base, dispatchNow, bodies) ??
          answer(parsed, pre.base);
      }).catch(calls.failed);
      // The request is in progress until its body is over (a listener's idle timeout).
      return bodies.report(streamed, answered) as Promise<Response>;
    }
    // The common case, a declared length and nobody to authenticate, goes through
    // request.json(): Deno parses the already-received body without a stream or a
    // separate decode, and no async frames stand between it and the router. A body too
    // short to nest deep enough to matter skips the depth check (see json_text.ts).
    const declared = authenticated ? null : request.headers.get("content-length");
    if (declared !== null) {
      const length = Number(declared);
      if (length > limit) return now(calls.tooLarge(request), answered);
      const base = calls.base(request, undefined, env);
      return length > DEPTH_SCAN_FROM
        ? deadline.read(request.text(), { request, base, answered }, textAnswers)
        : deadline.read(request.json(), { request, base, answered }, jsonAnswers);
    }
    const reply = calls.prologue(request, env).then((pre) =>
      pre instanceof Response ? pre : answer(parseRequest(pre.body, maxBatch), pre.base)
    ).catch(calls.failed);
    return answered ? reply.finally(answered) : reply;
  };
}
