/**
 * Switchboard under benchmark, as its own process: one `Server` with the `Bench`
 * component, listening over HTTP (JSON-RPC at /rpc, XML-RPC at /RPC2 where installed)
 * and TCP (msgpack-rpc, where the transport exists). Prints one JSON line with the ports.
 *
 * @module
 */

import { Server } from "../../mod.ts";
import { bench } from "./bench_component.ts";

const server = new Server();
server.register(bench);
const http = await server.listenHttp({ hostname: "127.0.0.1", port: 0 });

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
