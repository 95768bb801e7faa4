/**
 * Switchboard under benchmark, as its own process: one `Server` with the `Bench`
 * component, listening over HTTP (JSON-RPC at /rpc, XML-RPC at /RPC2 where installed)
 * and TCP (msgpack-rpc, where the transport exists). Prints one JSON line with the ports.
 *
 * Flags: `--metrics` (Prometheus metrics at /metrics), `--log` (the JSON access log, to a
 * temporary file: on stdout the load generator, busy on its own CPU, would be the one
 * reading it), `--trace` (a span per call, exported as `Server({ trace: true })` does: by
 * Switchboard itself, or by Deno with `OTEL_DENO=true`).
 *
 * @module
 */

import { Server } from "../../server.ts";
import { bench } from "./bench_component.ts";
import { Metrics } from "../../src/observe/metrics.ts";
import { AccessLog } from "../../src/observe/access_log.ts";
import { QueuedWriter } from "../../src/observe/log_writer.ts";
import { instrument } from "../../src/observe/instrument.ts";
import { processProbe } from "../../src/adapters/deno/observe_io.ts";
import { useNativeMsgpack } from "../../src/adapters/deno/msgpack_native.ts";

await useNativeMsgpack();

const flags = new Set(Deno.args);
const metrics = flags.has("--metrics") ? new Metrics({ process: processProbe() }) : undefined;
let log: AccessLog | undefined;
if (flags.has("--log")) {
  const path = await Deno.makeTempFile({ prefix: "switchboard-bench-", suffix: ".log" });
  const file = await Deno.open(path, { append: true });
  await Deno.remove(path); // the open file lives on until the process ends
  // The way `serve` writes its log to stdout: asynchronously, through a bounded queue.
  const writer = new QueuedWriter((bytes) => file.write(bytes));
  log = new AccessLog({ sink: writer.sink });
}

const server = new Server({ trace: flags.has("--trace") });
server.register(bench);
instrument(server.router, { metrics, log });
const http = await server.listenHttp(
  { hostname: "127.0.0.1", port: 0 },
  metrics ? { get: { "/metrics": () => metrics.response() } } : {},
);

let tcp: number | null = null;
const withTcp = server as unknown as {
  listenTcp?: (address: { hostname?: string; port?: number }) => Promise<unknown>;
};
if (typeof withTcp.listenTcp === "function") {
  const listener = await withTcp.listenTcp({ hostname: "127.0.0.1", port: 0 }) as {
    port?: number;
    addr?: { port?: number };
  };
  tcp = listener.port ?? listener.addr?.port ?? null;
}

console.log(JSON.stringify({ http: http.port, tcp }));
Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
