/**
 * XML-RPC over HTTP, server side: the handler of `POST /RPC2` (and of `POST /` with an XML
 * media type), around the codec the `./xmlrpc` glue installs (`XmlRpcHandler`). It imports
 * `src/core/`, `src/wire/`, and the shared HTTP plumbing of `src/server/http_*.ts`.
 *
 * @module
 */

import type { Router } from "../core/router/router.ts";
import { routerView } from "../core/router/_transport.ts";
import type { Call, Outcome } from "../core/context.ts";
import { DEFAULT_MAX_BATCH, DEFAULT_MAX_RESPONSE_BYTES } from "../wire/jsonrpc/codec.ts";
import { NAMED_PARAMS_HEADER, SWITCHBOARD_CLIENT_HEADER } from "../wire/http.ts";
import { mediaType } from "../wire/http_body.ts";
import type { HttpCalls } from "./http_calls.ts";
import { type CorsPolicy, refuseCrossSite } from "./cors.ts";
import type { HttpEnv } from "./http_env.ts";

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

/** A listener's limits on requests of many calls (`system.multicall`). */
interface BatchLimits {
  maxBatch: number;
  maxResponseBytes: number;
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

/** The XML-RPC handler of an app serving `router` with `codec`; its promise never rejects. */
export function xmlRpcHttp(
  router: Router,
  calls: HttpCalls,
  codec: XmlRpcHandler,
  options: { maxBatch?: number; maxResponseBytes?: number; cors: CorsPolicy | undefined },
): (request: Request, env: HttpEnv | undefined) => Promise<Response> {
  const limits: BatchLimits = {
    maxBatch: options.maxBatch ?? DEFAULT_MAX_BATCH,
    maxResponseBytes: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
  };
  const cors = options.cors;
  // The codec awaits its calls: it takes a promise always.
  const view = routerView(router);
  const dispatch = (call: Call): Promise<Outcome> => Promise.resolve(view.dispatchNow(call));
  const handle = async (request: Request, env: HttpEnv | undefined): Promise<Response> => {
    const refused = refuseCrossSite(request, mediaType(request), cors);
    if (refused) return refused;
    if (view.saturated) return calls.overloaded(request);
    const pre = await calls.prologue(request, env);
    if (pre instanceof Response) return pre;
    // A Switchboard client says so; its faults carry the error's name (see wire/xmlrpc).
    const reply = await codec(pre.body, dispatch, pre.base, new ClientHeaders(request, limits));
    return new Response(reply, { headers: { "content-type": "text/xml; charset=utf-8" } });
  };
  return (request, env) => handle(request, env).catch(calls.failed);
}
