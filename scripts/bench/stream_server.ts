/**
 * Switchboard under the stream benchmarks, as its own process: the `Streams` component
 * (stream_component.ts) over TCP (msgpack-rpc) and HTTP (JSON-RPC: NDJSON streams, and
 * WebSocket at the same port). Run it with `--v8-flags=--expose-gc`, so that `heap` can
 * collect first. Prints one JSON line with the ports.
 *
 * @module
 */

import { Server } from "../../server.ts";
import { streamsImpl } from "./stream_component.ts";
import { useNativeMsgpack } from "../../src/adapters/deno/msgpack_native.ts";

await useNativeMsgpack();

/** Streams one connection may hold open: the idle-streams cell opens 10⁴. */
export const MAX_OPEN_STREAMS = 20_000;

const server = new Server({ logger: { error: () => {}, warn: () => {} } });
server.register(streamsImpl());
const http = await server.listenHttp({ hostname: "127.0.0.1", port: 0 }, { websocket: true });
const tcp = await server.listenTcp({ hostname: "127.0.0.1", port: 0 }, {
  // The idle cell's streams wait for no credit; the slow reader's wait between its reads.
  streams: { maxStreams: MAX_OPEN_STREAMS, idleMs: 30 * 60_000 },
});
console.log(JSON.stringify({ http: http.port, tcp: tcp.port }));
Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
