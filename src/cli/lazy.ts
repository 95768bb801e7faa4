/**
 * The modules the CLI imports only when a command needs them: each command's own, and each
 * client transport (a `call` over `http:` loads neither msgpack-rpc nor AMQP).
 *
 * Their specifiers are computed, not literal: at start, `deno run` walks the module graph of
 * every literal `import("…")` too, which cost a cold `call` more than its own modules (the
 * server stack's graph). So `deno compile` cannot see them either: scripts/compile.ts embeds
 * {@linkcode LAZY_MODULES} with `--include`. The type imports keep them type-checked.
 *
 * @module
 */

import type * as ServeModule from "./serve.ts";
import type * as CallModule from "./call.ts";
import type * as DeployModule from "./deploy.ts";

const MODULES = {
  serve: "./serve.ts",
  call: "./call.ts",
  deploy: "./deploy.ts",
  xmlrpc: "../client/http_xmlrpc.ts",
  tcp: "../client/tcp.ts",
  amqp: "../client/amqp.ts",
  ws: "../client/ws.ts",
  allTransports: "../client/all_transports.ts",
} as const;

interface Modules {
  serve: typeof ServeModule;
  call: typeof CallModule;
  deploy: typeof DeployModule;
  xmlrpc: unknown;
  tcp: unknown;
  amqp: unknown;
  ws: unknown;
  allTransports: unknown;
}

/** Every lazily imported module, as a file URL (for `deno compile --include`). */
export const LAZY_MODULES: URL[] = [
  ...Object.values(MODULES).map((path) => new URL(path, import.meta.url)),
  // Servers load msgpackr's native decoder this way (src/adapters/deno/msgpack_native.ts).
  new URL("../adapters/deno/msgpack_native_entry.ts", import.meta.url),
];

/** Imports one of the lazy modules. */
export function lazyImport<K extends keyof Modules>(name: K): Promise<Modules[K]> {
  return import(new URL(MODULES[name], import.meta.url).href);
}

/**
 * Imports the transport `connect()` needs for `url` (with `protocol`, for http(s) URLs):
 * none for JSON-RPC over HTTP (built in), else XML-RPC, msgpack-rpc over TCP/TLS, AMQP, or
 * JSON-RPC over WebSocket.
 * A scheme none of them serves loads them all, so that `connect()`'s error lists every scheme.
 */
export async function loadTransport(url: string, protocol?: "jsonrpc" | "xmlrpc"): Promise<void> {
  switch (new URL(url).protocol) {
    case "http:":
    case "https:":
      if (protocol === "xmlrpc") await lazyImport("xmlrpc");
      return;
    case "tcp:":
    case "tls:":
      await lazyImport("tcp");
      return;
    case "amqp:":
    case "amqps:":
      await lazyImport("amqp");
      return;
    case "ws:":
    case "wss:":
      await lazyImport("ws");
      return;
    default:
      await lazyImport("allTransports");
  }
}
