/**
 * A msgpack-rpc TCP listener: the runtime-free sessions of `src/server/tcp.ts` bound to a
 * Deno socket (TLS with a certificate) through the accept loop.
 *
 * @module
 */

import type { Router } from "../../core/router/router.ts";
import type { Implementation } from "../../core/implement.ts";
import type { Peer } from "../../core/client/peer.ts";
import { type PeerInfo, type TcpOptions, tcpSessions } from "../../server/tcp.ts";
import { listen } from "./tcp.ts";

/** Where a TCP listener listens. */
export interface TcpAddress {
  /** Interface address (default `127.0.0.1`). */
  hostname?: string;
  /** Port (default 8081; 0 picks a free one). */
  port?: number;
  /** Serve TLS with this PEM certificate chain and key . */
  tls?: { cert: string; key: string };
  /** Share the port with other listeners that set it too (`SO_REUSEPORT`; `--unstable-net`). */
  reusePort?: boolean;
}

/** A listening TCP transport. */
export interface TcpListener {
  /** Where it listens. */
  readonly hostname: string;
  /** The bound port. */
  readonly port: number;
  /** `tcp://host:port` (or `tls://…`). */
  readonly url: string;
  /** Stops accepting, lets in-flight calls finish, closes every connection. */
  shutdown(): Promise<void>;
  /** The peers connected now (connections that introduced themselves). */
  peers(): PeerInfo[];
  /** How many connections are open now (plain clients and peers alike). */
  connections(): number;
  /** A handle on a peer by identity; valid across its reconnects. */
  peer(id: string): Peer;
  /** Serves a topic's published calls with `impl` in this process; returns an unsubscribe. */
  subscribe(topic: string, impl: Implementation): () => void;
  /** Publishes a call to a topic's subscribers; resolves with how many received it. */
  publish(topic: string, method: string, params?: unknown): Promise<number>;
}

/**
 * Serves a router over msgpack-rpc on TCP (or TLS).
 *
 * @example Serve, call with a Switchboard client, shut down
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect, defineInterface, implement, method, t } from "@switchboard/rpc";
 * import { Router, serveTcp } from "@switchboard/rpc/server";
 *
 * const Echo = defineInterface("Echo", { echo: method({ params: { text: t.string }, result: t.string }) });
 * const router = new Router().register(implement(Echo, { echo: ({ text }) => text }));
 * const tcp = await serveTcp(router, { port: 0 });
 * const client = connect(tcp.url);
 * assert.equal(await client.proxy(Echo).echo({ text: "hi" }), "hi");
 * await client.close();
 * await tcp.shutdown();
 * ```
 */
export function serveTcp(
  router: Router,
  address: TcpAddress = {},
  options: TcpOptions = {},
): Promise<TcpListener> {
  const sessions = tcpSessions(router, options);
  const socket = listen(
    {
      hostname: address.hostname ?? "127.0.0.1",
      port: address.port ?? 8081,
      tls: address.tls,
      reusePort: address.reusePort,
    },
    sessions.accept,
    (message) => router.logger.warn(`tcp: ${message}`),
  );
  const host = socket.hostname.includes(":") ? `[${socket.hostname}]` : socket.hostname;
  let stopping: Promise<void> | undefined;
  return Promise.resolve({
    hostname: socket.hostname,
    port: socket.port,
    url: `${address.tls ? "tls" : "tcp"}://${host}:${socket.port}`,
    shutdown: () => stopping ??= socket.close().then(sessions.drain),
    peers: sessions.peers,
    connections: sessions.connections,
    peer: sessions.peer,
    subscribe: sessions.subscribe,
    publish: sessions.publish,
  });
}
