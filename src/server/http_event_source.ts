/**
 * A streamed result for `EventSource`: `GET /rpc/<Interface.method>?params=<JSON>` answers
 * as `text/event-stream`, the same events as `POST` with `Accept: text/event-stream` (see
 * docs/wire.md, "Streams"). An `EventSource` can only `GET` and cannot set headers, so the
 * params travel in the query, and credentials are whatever the browser sends by itself
 * (cookies, HTTP authentication) to the listener's authenticator.
 *
 * **Which methods a `GET` runs, and why.** Only methods whose result is a stream and that
 * are declared `idempotent: true`. A `GET` is sent by more than the page that means it: an
 * `EventSource` sends it again on its own when a connection drops, prefetchers and link
 * previews send it, and any page of another site can make a visitor's browser send it (an
 * `<img src>`), with the visitor's cookies: cross-site request forgery. Methods that may
 * safely run twice are the ones that may sit behind such a request; anything else is called
 * with `POST`. On top of that, a request a browser marks as sent by a page of another site
 * (`Origin` of another host, or `Sec-Fetch-Site: cross-site`) is refused 403 unless the
 * listener's CORS options allow that origin.
 *
 * A request carrying `Last-Event-ID` is an `EventSource` reconnecting after its stream
 * ended or was cut. A streamed result cannot be resumed, and is not run again unasked: the
 * answer is 204, which stops the `EventSource`. So that every reconnect carries the header,
 * the stream opens with an event-less `id: open` (it sets the last event id, dispatches
 * nothing).
 *
 * @module
 */

import type { Call } from "../core/context.ts";
import { type ErrorShape, errorShape, methodNotFound } from "../core/errors.ts";
import type { Router } from "../core/router/router.ts";
import { routerView } from "../core/router/_transport.ts";
import { OpenStream } from "../core/stream/open_stream.ts";
import { encodeError, encodeResponse } from "../wire/jsonrpc/codec.ts";
import { parseJsonText } from "../wire/jsonrpc/json_text.ts";
import type { HttpAuthenticator } from "../auth/http_authenticator.ts";
import type { HttpCalls } from "./http_calls.ts";
import type { CorsPolicy } from "./cors.ts";
import type { HttpEnv } from "./http_env.ts";
import type { OpenBodies } from "./http_open_bodies.ts";
import { FRAMINGS, streamResponse } from "./http_stream.ts";

/** The path prefix of the route: `GET /rpc/<method>`. */
export const EVENT_SOURCE_PREFIX = "/rpc/";

/** What the route needs of the app. */
export interface EventSourceParts {
  calls: HttpCalls;
  bodies: OpenBodies;
  authenticate?: HttpAuthenticator;
  expose?: (method: string) => boolean;
  cors?: CorsPolicy;
}

/** The HTTP status that says what an error before the first item means. */
function statusOf(error: ErrorShape): number {
  switch (error.name) {
    case "ParseError":
    case "InvalidRequest":
    case "InvalidParams":
      return 400;
    case "Unauthorized":
      return 401;
    case "Forbidden":
      return 403;
    case "MethodNotFound":
      return 404;
    case "Overloaded":
    case "Unavailable":
      return 503;
    default:
      return 500;
  }
}

function refusal(error: ErrorShape, headers: Record<string, string> = {}): Response {
  return new Response(encodeError(null, error), {
    status: statusOf(error),
    headers: { "content-type": "application/json", ...headers },
  });
}

/**
 * Whether a browser says a page of another site sent the request: an `Origin` of another
 * host (an `EventSource` or `fetch` across origins always sends one), or
 * `Sec-Fetch-Site: cross-site` (sent by browsers on every request, `<img>` included).
 */
function crossSite(request: Request, cors: CorsPolicy | undefined): string | undefined {
  const origin = request.headers.get("origin");
  if (origin !== null && origin !== "null" && cors?.allows(origin)) return undefined;
  if (origin !== null && new URL(request.url).host !== hostOf(origin)) return origin;
  if (request.headers.get("sec-fetch-site") === "cross-site") return origin ?? "another site";
  return undefined;
}

function hostOf(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
}

/** The handler of `GET /rpc/<method>` (see the module doc). */
export function eventSourceRoute(
  router: Router,
  parts: EventSourceParts,
): (request: Request, env: HttpEnv | undefined) => Promise<Response> {
  const view = routerView(router);
  const { calls, bodies, authenticate, expose, cors } = parts;
  return async (request, env) => {
    const url = new URL(request.url);
    let method: string;
    try {
      method = decodeURIComponent(url.pathname.slice(EVENT_SOURCE_PREFIX.length));
    } catch {
      return refusal(errorShape("InvalidRequest", "Invalid Request: the method name is not UTF-8"));
    }
    const foreign = crossSite(request, cors);
    if (foreign !== undefined) {
      return refusal(errorShape("Forbidden", `Forbidden: pages from ${foreign} may not GET here`));
    }
    if (request.headers.has("last-event-id")) {
      // An EventSource reconnecting: the stream it read is over (see the module doc).
      return new Response(null, { status: 204 });
    }
    if (view.saturated) return calls.overloaded(request);
    let caller;
    if (authenticate) {
      const verdict = await authenticate(request, {
        peer: env?.remoteAddr?.hostname,
        listener: env?.listener,
      });
      if (verdict instanceof Response) return verdict;
      caller = verdict;
    }
    const entry = router.resolve(method, caller);
    if (!entry || (expose !== undefined && !expose(entry.name))) {
      return refusal(methodNotFound(method));
    }
    if (entry.def.result?.kind !== "stream") {
      return refusal(
        errorShape(
          "InvalidRequest",
          `Invalid Request: ${entry.name} does not stream its result; GET /rpc/<method> is ` +
            `for streamed results: POST it to /rpc`,
        ),
      );
    }
    if (!entry.def.idempotent) {
      return new Response(
        encodeError(
          null,
          errorShape(
            "InvalidRequest",
            `Invalid Request: ${entry.name} is not declared idempotent: a GET may be sent ` +
              `again (EventSource reconnects, prefetching, other sites' pages), so it runs ` +
              `only methods that may safely run twice; POST it to /rpc with ` +
              `Accept: text/event-stream`,
          ),
        ),
        { status: 405, headers: { "content-type": "application/json", allow: "POST" } },
      );
    }
    const text = url.searchParams.get("params");
    if (text !== null && text.length > calls.limit) return calls.tooLarge(request);
    let params: unknown = {};
    if (text !== null) {
      try {
        params = parseJsonText(text);
      } catch (error) {
        return refusal(
          errorShape("ParseError", `Parse error: params: ${(error as Error).message}`),
        );
      }
      if (typeof params !== "object" || params === null) {
        return refusal(
          errorShape("InvalidParams", "Invalid params: params must be a JSON object or array"),
        );
      }
    }
    const call: Call = {
      ...calls.base(request, caller, env),
      method,
      params,
      protocol: "jsonrpc",
      id: null,
      stream: true,
    };
    const outcome = await view.dispatchNow(call);
    if (!outcome.ok) return refusal(outcome.error);
    if (!(outcome.value instanceof OpenStream)) {
      return new Response(encodeResponse(null, outcome), {
        headers: { "content-type": "application/json" },
      });
    }
    return streamResponse(FRAMINGS.sse, outcome.value, bodies, "id: open\n\n");
  };
}
