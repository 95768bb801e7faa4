/**
 * `connect(url)`: a {@linkcode Client} whose transport is chosen by the URL's scheme.
 *
 * @module
 */

import { Client, type ClientOptions } from "../core/client/client.ts";
import { HttpJsonRpcTransport, type HttpTransportOptions } from "./http_jsonrpc.ts";
import type { Transport } from "../core/client/transport.ts";
import { transportFetch } from "./http_auth.ts";
import { entryOfScheme, importName } from "../entries.ts";
import { BalancedTransport, type BalanceOptions } from "./balance/balancer.ts";

/** Options of {@linkcode connect}. */
export interface ConnectOptions extends ClientOptions, HttpTransportOptions, BalanceOptions {
  /** For http(s) URLs: `jsonrpc` (default) or `xmlrpc`. */
  protocol?: "jsonrpc" | "xmlrpc";
  /**
   * For http(s) URLs: the endpoint's path instead of the URL's own. Default: the URL is the
   * endpoint, as in any HTTP client (`http://host:port` posts to `/`, where a Switchboard
   * server answers both protocols, as it does at `/rpc` and `/RPC2`).
   */
  path?: string;
  /** Any further options a transport understands (TLS, heartbeats, auth, …). */
  [option: string]: unknown;
}

/** Makes a transport for a URL. */
export type TransportFactory = (url: URL, options: ConnectOptions) => Transport;

const factories = new Map<string, TransportFactory>();

/**
 * Plugs a transport into `connect()` for a URL scheme such as `tcp:`.
 *
 * @example Serve `local:` URLs from a router in this process
 * ```ts
 * import assert from "node:assert/strict";
 * import {
 *   connect,
 *   defineInterface,
 *   implement,
 *   method,
 *   registerTransport,
 *   t,
 * } from "@switchboard/rpc";
 * import { LocalTransport, Router } from "@switchboard/rpc/server";
 *
 * const Calc = defineInterface("Calc", {
 *   add: method({ params: { a: t.int, b: t.int }, result: t.int }),
 * });
 * const router = new Router();
 * router.register(implement(Calc, { add: ({ a, b }) => a + b }));
 * registerTransport("local", (url) => new LocalTransport(router, { id: url.hostname }));
 *
 * const client = connect("local://billing");
 * assert.equal(await client.call("Calc.add", { a: 2, b: 3 }), 5);
 * await client.close();
 * ```
 */
export function registerTransport(scheme: string, factory: TransportFactory): void {
  factories.set(scheme.endsWith(":") ? scheme : `${scheme}:`, factory);
}

function httpFactory(url: URL, options: ConnectOptions): Transport {
  const xml = options.protocol === "xmlrpc";
  if (typeof options.path === "string") url.pathname = options.path;
  if (xml) {
    const make = factories.get("xmlrpc+http:");
    if (!make) {
      throw new TypeError(
        `cannot connect to ${url.href} over XML-RPC: add import "@switchboard/rpc/xmlrpc"`,
      );
    }
    // `auth` becomes an authenticating fetch here, whichever HTTP transport is plugged in.
    return make(
      url,
      options.auth ? { ...options, fetch: transportFetch(options), auth: undefined } : options,
    );
  }
  return new HttpJsonRpcTransport(url.href, options);
}
registerTransport("http:", httpFactory);
registerTransport("https:", httpFactory);

/**
 * Connects to a Switchboard (or any JSON-RPC / XML-RPC / msgpack-rpc) server, or to several
 * replicas of one (an array of URLs): each call then goes to one healthy replica, as
 * {@linkcode BalancedTransport} describes (the `balance`, `breaker`, `retry` and `hedge`
 * options).
 *
 * @example Call a server by URL; a scheme nobody imported is refused with the import to add
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect, defineInterface, implement, method, t } from "@switchboard/rpc";
 * import { Server } from "@switchboard/rpc/server";
 *
 * const Calculator = defineInterface("Calculator", {
 *   add: method({ params: { a: t.int, b: t.int }, result: t.int }),
 * });
 * const server = new Server().register(implement(Calculator, { add: ({ a, b }) => a + b }));
 * const http = await server.listenHttp({ port: 0 });
 *
 * const client = connect(http.url);
 * assert.equal(await client.call("Calculator.add", { a: 2, b: 3 }), 5);
 * assert.equal(await client.call("Calculator.add", [2, 3], { timeout: 1000 }), 5);
 * await client.close();
 * await server.close();
 *
 * assert.throws(() => connect("ftp://127.0.0.1"), /no transport for ftp:/);
 * ```
 */
export function connect(
  url: string | URL | readonly (string | URL)[],
  options: ConnectOptions = {},
): Client {
  if (Array.isArray(url)) {
    const replicas = url.map((u) => ({ name: String(u), transport: transportOf(u, options) }));
    return new Client(new BalancedTransport(replicas, options), options);
  }
  return new Client(transportOf(url as string | URL, options), options);
}

/** The transport `connect()` makes for one URL. */
function transportOf(url: string | URL, options: ConnectOptions): Transport {
  const parsed = new URL(url);
  const factory = factories.get(parsed.protocol);
  if (!factory) {
    const entry = entryOfScheme(parsed.protocol);
    throw new TypeError(
      `cannot connect to ${parsed.href}: ${
        entry
          ? `${parsed.protocol}// needs import "${importName(entry)}"`
          : `no transport for ${parsed.protocol}`
      } (known here: ${[...factories.keys()].filter((k) => !k.includes("+")).join(", ")})`,
    );
  }
  return factory(parsed, options);
}
