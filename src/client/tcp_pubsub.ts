/**
 * Publish–subscribe over a TCP client: a publisher sends an interface's calls to a topic
 * (`$/publish` notifications); the server fans each one out to every subscriber of the
 * topic (connected peers that sent `$/subscribe`, and in-process `listener.subscribe`
 * handlers), which run it with their own implementation. Delivery is at most once, in
 * publish order per publisher, with no reply.
 *
 * @module
 */

import type { InterfaceDef } from "../core/idl/interface.ts";
import type { Implementation } from "../core/implement.ts";
import type { Client, Publisher } from "../core/client/client.ts";
import type { SubscribeOptions, TopicGap } from "../core/client/transport.ts";

export type { Publisher, SubscribeOptions, TopicGap };

/**
 * A typed publisher of `iface`'s calls to `topic`.
 *
 * @example Two subscribers, one publisher
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect, defineInterface, implement, method, t } from "@switchboard/rpc";
 * import { publisher, subscribe } from "@switchboard/rpc/tcp";
 * import { Server } from "@switchboard/rpc/server";
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
  return client.publish(topic, iface);
}

/**
 * Runs `impl` for every call published to `topic`; the subscription is renewed after
 * reconnects. Resolves once the server has registered it. Where the server keeps a replay
 * buffer (`new Server({ replay: {} })`), a renewed subscription first gets the calls
 * published while the connection was down, each exactly once and in order; the ones the
 * buffer no longer holds go to `options.onGap` as `{ topic, from, to }`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect, defineInterface, implement, method, t } from "@switchboard/rpc";
 * import { subscribe } from "@switchboard/rpc/tcp";
 * import { Server } from "@switchboard/rpc/server";
 *
 * const Feed = defineInterface("Feed", { post: method({ params: { text: t.string } }) });
 * const server = new Server();
 * const tcp = await server.listenTcp({ port: 0 });
 * const client = connect(tcp.url);
 * const received: string[] = [];
 * await subscribe(client, "news", implement(Feed, { post: ({ text }) => void received.push(text) }));
 *
 * // Subscribed: the server's own publish reaches this client.
 * assert.equal(await tcp.publish("news", "Feed.post", { text: "hello" }), 1);
 * for (let i = 0; received.length < 1 && i < 500; i++) await new Promise((r) => setTimeout(r, 10));
 * assert.deepEqual(received, ["hello"]);
 * await client.close();
 * await server.close();
 * ```
 */
export function subscribe(
  client: Client,
  topic: string,
  impl: Implementation,
  options?: SubscribeOptions,
): Promise<void> {
  return client.subscribe(topic, impl, options);
}
