/**
 * The HTTP app's routes besides the calls, on hono: the OpenRPC document at
 * `GET /openrpc.json`, the API explorer at `GET /` and its script at `GET /client.js`,
 * streamed results for `EventSource` at `GET /rpc/<method>`, publish–subscribe over
 * server-sent events at `GET /events` (when on), `GET /healthz`, the app's own `GET` routes (e.g. `/metrics`), `405` for other methods on
 * the call paths, and the `404` that says where things are. None is on a hot path, so
 * hono's router and context cost nothing that matters here (see `http.ts` for why the
 * calls themselves skip them).
 *
 * @module
 */

import { Hono } from "hono";
import type { Context } from "hono";
import type { Router } from "../core/router/router.ts";
import { openRpcDocument } from "../core/idl/openrpc.ts";
import { explorerResponse } from "../observe/explorer.ts";
import { clientScriptResponse } from "../observe/client_script.ts";
import type { HttpCalls } from "./http_calls.ts";
import { mediaType } from "../wire/http_body.ts";
import type { HttpEnv } from "./http_env.ts";
import type { HttpAuthenticator } from "../auth/http_authenticator.ts";
import type { OpenBodies } from "./http_open_bodies.ts";
import type { CorsPolicy } from "./cors.ts";
import { EVENT_SOURCE_PREFIX, eventSourceRoute } from "./http_event_source.ts";
import { eventsRoute, type EventStreamOptions } from "./http_events.ts";
import { Topics } from "./tcp_pubsub.ts";

/** What the routes read of the app's options (`HttpAppOptions`). */
export interface HttpRoutesOptions {
  authenticate?: HttpAuthenticator;
  expose?: (method: string) => boolean;
  explorer?: boolean;
  clientScript?: boolean;
  get?: Record<string, (request: Request) => Response | Promise<Response>>;
  events?: EventStreamOptions | boolean;
  topics?: Topics;
}

/** The routes of an app serving `router`, as one `fetch`. */
export function httpRoutes(
  router: Router,
  calls: HttpCalls,
  options: HttpRoutesOptions,
  handlers: {
    jsonRpc: (request: Request, env: HttpEnv | undefined) => Promise<Response>;
    xmlRpc: ((request: Request, env: HttpEnv | undefined) => Promise<Response>) | undefined;
  },
  shared: { bodies: OpenBodies; cors?: CorsPolicy },
): (request: Request, env: HttpEnv | undefined) => Response | Promise<Response> {
  const { authenticate, expose } = options;
  const { jsonRpc, xmlRpc } = handlers;
  const app: Hono = new Hono();
  // The call paths reach their handlers before hono sees them (see http.ts); these routes
  // take the paths hono normalises (percent-encoded letters), and XML where none is served.
  const xml = (c: Context) =>
    xmlRpc
      ? xmlRpc(c.req.raw, c.env as HttpEnv | undefined)
      : c.text("XML-RPC is not served here\n", 404);
  app.post("/rpc", (c) => jsonRpc(c.req.raw, c.env as HttpEnv | undefined));
  app.post("/RPC2", xml);
  app.post(
    "/",
    (c) =>
      mediaType(c.req.raw).endsWith("xml")
        ? xml(c)
        : jsonRpc(c.req.raw, c.env as HttpEnv | undefined),
  );
  app.on(
    ["GET", "PUT", "DELETE", "PATCH"],
    ["/rpc", "/RPC2"],
    (c) => c.text("use POST\n", 405, { allow: "POST" }),
  );
  // Listing the methods is as private as calling them: a guarded listener guards it.
  const guarded = (answer: (c: Context) => Response | Promise<Response>) => async (c: Context) => {
    if (authenticate) {
      const env = c.env as HttpEnv | undefined;
      const verdict = await authenticate(c.req.raw, {
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
  // A streamed result for EventSource (see http_event_source.ts).
  const eventSource = eventSourceRoute(router, { calls, authenticate, expose, ...shared });
  app.get(
    `${EVENT_SOURCE_PREFIX}*`,
    (c) => eventSource(c.req.raw, c.env as HttpEnv | undefined),
  );
  if (options.events) {
    const events = eventsRoute(options.events === true ? {} : options.events, {
      topics: options.topics ?? new Topics(router),
      bodies: shared.bodies,
      logger: router.logger,
      authenticate,
    });
    app.get("/events", (c) => events(c.req.raw, c.env as HttpEnv | undefined));
  }
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
      "not found: JSON-RPC and XML-RPC are at POST / (also POST /rpc and POST /RPC2), " +
        "streamed results for EventSource at GET /rpc/<method>?params=<JSON>, the " +
        "OpenRPC document at GET /openrpc.json, health at GET /healthz\n",
      404,
    )
  );
  app.onError(calls.failed);
  return (request, env) => app.fetch(request, env);
}
