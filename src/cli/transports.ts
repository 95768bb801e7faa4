/**
 * The transport `switchboard call` and `describe` need for a URL, imported when needed: a
 * `call` over `http:` loads neither XML-RPC, msgpack-rpc nor AMQP. Which entry point serves
 * which scheme is src/entries.ts's table; the imports are literal, so that `deno compile`
 * and `deno publish` see them, and deno.json's `lazy-dynamic-imports` keeps `deno run` from
 * loading their graphs at start.
 *
 * @module
 */

import { entryOfScheme, type TransportEntry } from "../entries.ts";

/** Each transport's client module, by the entry point that plugs it in. */
const TRANSPORTS: Record<TransportEntry, () => Promise<unknown>> = {
  "./xmlrpc": () => import("../client/http_xmlrpc.ts"),
  "./tcp": () => import("../adapters/deno/tcp_client.ts"),
  "./amqp": () => import("../client/amqp.ts"),
};

/** The "." entry's own transports beyond HTTP, which the CLI's `call` loads only when asked. */
const BUILT_IN: Record<string, () => Promise<unknown>> = {
  "ws:": () => import("../client/ws.ts"),
  "wss:": () => import("../client/ws.ts"),
};

/**
 * Imports the transport `connect()` needs for `url` (with `protocol`, for http(s) URLs):
 * none for JSON-RPC over HTTP (built in), else XML-RPC, msgpack-rpc over TCP/TLS, or AMQP.
 * A scheme none of them serves loads them all, so that `connect()`'s error lists every scheme.
 */
export async function loadTransport(url: string, protocol?: "jsonrpc" | "xmlrpc"): Promise<void> {
  const scheme = new URL(url).protocol;
  const http = scheme === "http:" || scheme === "https:";
  const entry = entryOfScheme(http && protocol === "xmlrpc" ? "xmlrpc+http:" : scheme);
  if (entry === ".") await BUILT_IN[scheme]?.();
  else if (entry) await TRANSPORTS[entry as TransportEntry]();
  else {await Promise.all([...Object.values(TRANSPORTS), ...Object.values(BUILT_IN)].map((load) =>
      load()
    ));}
}
