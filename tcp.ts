/**
 * msgpack-rpc over TCP (and TLS) for Switchboard clients: importing this module lets
 * `connect()` speak `tcp://` and `tls://`. One pipelined connection per client, calls both
 * ways, heartbeats, cancellation and publish–subscribe between Switchboard ends; the plain
 * msgpack-rpc spec with any other peer (Neovim, pynvim, msgpack5rpc…). Deno only: it opens
 * sockets with `Deno.connect`.
 *
 * @example Call a server over TCP
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect, defineInterface, implement, method, t } from "@switchboard/rpc";
 * import "@switchboard/rpc/tcp";
 * import { Server } from "@switchboard/rpc/server";
 *
 * const Echo = defineInterface("Echo", {
 *   echo: method({ params: { text: t.string }, result: t.string }),
 * });
 * const server = new Server().register(implement(Echo, { echo: ({ text }) => text }));
 * const tcp = await server.listenTcp({ port: 0 });
 * const client = connect(tcp.url);
 * assert.equal(await client.proxy(Echo).echo({ text: "hi" }), "hi");
 * await client.close();
 * await server.close();
 * ```
 *
 * @module
 */

import "./src/adapters/deno/tcp_client.ts";

export { TcpTransport } from "./src/client/tcp.ts";
export type { TcpTransportOptions } from "./src/client/tcp.ts";
export { publisher, subscribe } from "./src/client/tcp_pubsub.ts";
export type { Publisher, SubscribeOptions, TopicGap } from "./src/client/tcp_pubsub.ts";
export { exponentialBackoff, missedBeats } from "./src/core/backoff.ts";
export type { HeartbeatPolicy, ReconnectPolicy } from "./src/core/backoff.ts";
export { MsgpackExtension } from "./src/wire/msgpackrpc/extension.ts";
