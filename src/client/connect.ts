/**
 * `connect(url)`: a {@linkcode Client} whose transport is chosen by the URL's scheme.
 *
 * @module
 */

import { Client, type ClientOptions } from "../core/client/client.ts";
import { HttpJsonRpcTransport, type HttpTransportOptions } from "./http_jsonrpc.ts";
import type { Transport } from "../core/client/transport.ts";
import { transportFetch } from "./http_auth.ts";

/** Options of {@linkcode connect}. */
export interface ConnectOptions extends ClientOptions, HttpTransportOptions {
  /** For http(s) URLs: `jsonrpc` (default) or `xmlrpc`. */
  protocol?: "jsonrpc" | "xmlrpc";
  /**
   * For http(s) URLs: the endpoint's path. Default: the path the URL string spells out
   * (`http://host:port/` posts to `/`), else `/rpc` (`/RPC2` for XML-RPC).
   */
  path?: string;
  /** Any further options a transport understands (TLS, heartbeats, auth, …). */
  [option: string]: unknown;
}

/** Makes a transport for a URL. */
export type TransportFactory = (url: URL, options: ConnectOptions) => Transport;

const factories = new Map<string, TransportFactory>();

/** Plugs a transport into `connect()` for a URL scheme such as `tcp:`. */
export function registerTransport(scheme: string, factory: TransportFactory): void {
  factories.set(scheme.endsWith(":") ? scheme : `${scheme}:`, factory);
}

function httpFactory(url: URL, options: ConnectOptions): Transport {
  const xml = options.protocol === "xmlrpc";
  if (typeof options.path === "string") url.pathname = options.path;
  else if (url.pathname === "/" || url.pathname === "") url.pathname = xml ? "/RPC2" : "/rpc";
  if (xml) {
    const make = factories.get("xmlrpc+http:");
    if (!make) throw new Error("XML-RPC client transport is not available in this build");
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
 * Connects to a Switchboard (or any JSON-RPC / XML-RPC / msgpack-rpc) server.
 *
 * @example
 * ```ts ignore
 * import { connect } from "@switchboard/rpc";
 *
 * const client = connect("http://127.0.0.1:8080");
 * const sum = await client.call("Calculator.add", { a: 2, b: 3 });
 * ```
 */
export function connect(url: string | URL, options: ConnectOptions = {}): Client {
  const parsed = new URL(url);
  const factory = factories.get(parsed.protocol);
  if (!factory) {
    throw new TypeError(
      `cannot connect to ${parsed.href}: no transport for ${parsed.protocol} (known: ${
        [...factories.keys()].filter((k) => !k.includes("+")).join(", ")
      })`,
    );
  }
  // `new URL` turns "http://h:1" and "http://h:1/" into the same path: keep what was written.
  const path = options.path === undefined && typeof url === "string" && spellsPath(url)
    ? { ...options, path: parsed.pathname }
    : options;
  return new Client(factory(parsed, path), path);
}

/** Whether a URL string has a path after its authority (`http://h:1/`, not `http://h:1`). */
function spellsPath(url: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*\//i.test(url);
}
