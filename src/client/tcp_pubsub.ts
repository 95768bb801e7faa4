/**
 * Publish–subscribe over a TCP client: a publisher sends an interface's calls to a topic
 * (`$/publish` notifications); the server fans each one out to every subscriber of the
 * topic (connected peers that sent `$/subscribe`, and in-process `listener.subscribe`
 * handlers), which run it with their own implementation. Delivery is at most once, in
 * publish order per publisher, with no reply.
 *
 * @module
 */

import type { InterfaceDef, ParamsOf } from "../idl/interface.ts";
import type { Implementation } from "../router/implement.ts";
import type { Client } from "./client.ts";
import { TcpTransport } from "./tcp.ts";

/** An interface's methods as publications: each resolves once handed to the wire. */
export type Publisher<I extends InterfaceDef> = {
  readonly [K in keyof I["methods"]]: (params: ParamsOf<I["methods"][K]>) => Promise<void>;
};

function tcpOf(client: Client): TcpTransport {
  const transport = client.transport;
  if (!(transport instanceof TcpTransport)) {
    throw new TypeError("publish/subscribe needs a tcp:// (or tls://) client");
  }
  return transport;
}

/**
 * A typed publisher of `iface`'s calls to `topic`.
 *
 * @example Two subscribers, one publisher
 * ```ts
 * import assert from "node:assert/strict";
 * import {
 *   connect, defineInterface, implement, method, publisher, Server, subscribe, t,
 * } from "@switchboard/rpc";
 *
 * const Feed = defineInterface("Feed", { post: method({ params: { text: t.string } }) });
 * const server = new Server();
 * const tcp = await server.listenTcp({ port: 0 });
 * const received: string[] = [];
 * const reader = connect(tcp.url);
 * await subscribe(reader, "news", implement(Feed, { post: ({ text }) => void received.push(text) }));
 * tcp.subscribe("news", implement(Feed, { post: ({ text }) => void received.push(`local ${text}`) }));
 *
 * const writer = connect(tcp.url);
 * await publisher(writer, "news", Feed).post({ text: "hello" });
 * for (let i = 0; received.length < 2 && i < 500; i++) await new Promise((r) => setTimeout(r, 10));
 * assert.deepEqual(received.sort(), ["hello", "local hello"]);
 * await reader.close();
 * await writer.close();
 * await server.close();
 * ```
 */
export function publisher<I extends InterfaceDef>(
  client: Client,
  topic: string,
  iface: I,
): Publisher<I> {
  const transport = tcpOf(client);
  const methods: Record<string, (params: unknown) => Promise<void>> = {};
  for (const name of Object.keys(iface.methods)) {
    const full = `${iface.name}.${name}`;
    methods[name] = (params) => transport.publish(topic, full, params ?? {});
  }
  return Object.freeze(methods) as Publisher<I>;
}

/**
 * Runs `impl` for every call published to `topic`; the subscription is renewed after
 * reconnects. Resolves once the server has registered it.
 *
 * @example
 * ```ts ignore
 * // See publisher() for a complete example.
 * await subscribe(client, "news", implement(Feed, { post: ({ text }) => console.log(text) }));
 * ```
 */
export function subscribe(client: Client, topic: string, impl: Implementation): Promise<void> {
  return tcpOf(client).subscribe(topic, impl);
}
