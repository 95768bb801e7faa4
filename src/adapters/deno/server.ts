/**
 * A server: one router, its introspection, and any number of listeners (HTTP, TCP, AMQP)
 * that all feed that router. It lives in the Deno adapter because it is where the
 * runtime-free parts of `src/server/` (the HTTP app, the TCP sessions, the AMQP worker) are
 * bound to Deno's sockets; the `./server` entry re-exports it.
 *
 * @module
 */

import { Router, type RouterOptions } from "../../core/router/router.ts";
import type { Implementation } from "../../core/implement.ts";
import { introspection } from "../../core/router/introspection.ts";
import { routerView } from "../../core/router/_transport.ts";
import { Client } from "../../core/client/client.ts";
import { LocalTransport } from "../../core/client/local.ts";
import type { Peer } from "../../core/client/peer.ts";
import { xmlRpcHandler } from "../../wire/xmlrpc/codec.ts";
import { type AmqpListener, type AmqpServeOptions, serveAmqp } from "../../server/amqp.ts";
import type { PeerInfo, TcpOptions, TopicDelivery } from "../../server/tcp.ts";
import { type HttpListener, type HttpOptions, serveHttp } from "./http.ts";
import { serveTcp, type TcpAddress, type TcpListener } from "./tcp_listener.ts";
import { Topics } from "../../server/tcp_pubsub.ts";
import type { ReplayOptions } from "../../server/topic_replay.ts";
import type { OtlpExport, OtlpExportOptions } from "../../observe/otlp_options.ts";

/** Options of a server. */
export interface ServerOptions extends RouterOptions {
  /** Register `system.*` and `rpc.discover` (default true). */
  introspection?: boolean;
  /**
   * Keep the last published calls of every topic, numbered, so that a subscriber that lost
   * its connection gets what it missed (off by default; `{}` for 1000 calls / 1 MiB a topic).
   */
  replay?: ReplayOptions;
  /**
   * Joins this server's publish–subscribe to other servers' (the worker isolates of one
   * `serve --workers`), whatever its listeners: given its delivery to its own subscribers,
   * returns where its publishes go besides them.
   */
  topicRelay?: (deliver: TopicDelivery) => TopicDelivery;
  /**
   * A span per call (the OpenTelemetry RPC conventions), exported over OTLP/HTTP as the
   * standard `OTEL_EXPORTER_OTLP_*` and `OTEL_TRACES_SAMPLER` variables say (`true`) or as
   * given here; the spans still waiting are sent by {@linkcode Server.close}. Reading the
   * variables needs `--allow-env`; with `OTEL_DENO=true`, Deno's own export is used.
   */
  trace?: boolean | OtlpExportOptions;
}

/** Something a server listens with; closed when the server closes. */
export interface Listener {
  /** Stops accepting and waits for in-flight calls to finish. */
  shutdown(): Promise<void>;
}

/** Host and port to listen on. */
export interface Address {
  /** Interface address (default `127.0.0.1`). */
  hostname?: string;
  /** Port (0 picks a free one). */
  port?: number;
}

/**
 * A Switchboard server.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect, defineInterface, implement, method, t } from "@switchboard/rpc";
 * import { Server } from "@switchboard/rpc/server";
 *
 * const Echo = defineInterface("Echo", { echo: method({ params: { text: t.string }, result: t.string }) });
 * const server = new Server();
 * server.register(implement(Echo, { echo: ({ text }) => text }));
 * const http = await server.listenHttp({ port: 0 });
 * const client = connect(http.url);
 * assert.equal(await client.proxy(Echo).echo({ text: "hi" }), "hi");
 * await client.close();
 * await server.close();
 * ```
 */
export class Server {
  /** The router every listener feeds. */
  readonly router: Router;
  readonly #listeners = new Set<Listener>();
  readonly #tcp: TcpListener[] = [];
  /** Listeners whose peers can be called back: TCP, and HTTP with WebSocket. */
  readonly #peerListeners: Required<Pick<TcpListener, "peers" | "peer">>[] = [];
  /** One topic table for every listener: a publish reaches subscribers on every transport. */
  readonly #topics: Topics;
  /** The span export of `trace`, started with the server and awaited by every listen. */
  readonly #tracing?: Promise<OtlpExport | undefined>;

  /** Creates a server with an empty router (plus introspection). */
  constructor(options: ServerOptions = {}) {
    this.router = new Router(options);
    routerView(this.router).installClientFactory((router) =>
      new Client(new LocalTransport(router))
    );
    this.#topics = new Topics(this.router, undefined, options.replay);
    const topics = this.#topics;
    if (options.topicRelay) {
      topics.relay = options.topicRelay((topic, method, params, caller) =>
        void topics.deliver(topic, method, params, caller).catch(() => {})
      );
    }
    if (options.introspection ?? true) {
      for (const impl of introspection(this.router)) this.router.register(impl);
    }
    if (options.trace) {
      // Loaded only when asked for: tracing and its SDK are no part of a plain server's start.
      const trace = options.trace === true ? {} : options.trace;
      this.#tracing = import("./trace_export.ts").then((m) => m.traceExport(this.router, trace));
    }
  }

  /** Registers implementations. */
  register(...impls: Implementation[]): this {
    for (const impl of impls) this.router.register(impl);
    return this;
  }

  /** Listens for JSON-RPC (and XML-RPC, where installed) over HTTP (HTTPS with `address.tls`). */
  async listenHttp(
    address: Address & { tls?: { cert: string; key: string }; reusePort?: boolean } = {},
    options: HttpOptions = {},
  ): Promise<HttpListener> {
    await this.#tracing;
    const listener = await serveHttp(this.router, address, {
      ...defaultHttpOptions(this.router),
      topics: this.#topics,
      ...options,
      // WebSocket peers share the server's topics with its other listeners.
      websocket: options.websocket
        ? { topics: this.#topics, ...(options.websocket === true ? {} : options.websocket) }
        : false,
    });
    this.track(listener);
    if (listener.peers && listener.peer) {
      this.#peerListeners.push({ peers: listener.peers, peer: listener.peer });
    }
    return listener;
  }

  /**
   * Consumes this server's interfaces from RabbitMQ (`amqp://user:pass@host/vhost`) as one of
   * any number of competing workers.
   */
  async listenAmqp(url: string | URL, options: AmqpServeOptions = {}): Promise<AmqpListener> {
    await this.#tracing;
    return this.track(await serveAmqp(this.router, url, options));
  }

  /**
   * Listens for msgpack-rpc over TCP (TLS with `address.tls`): plain msgpack-rpc clients,
   * and Switchboard clients with auth, heartbeats, cancellation and server → client calls.
   */
  async listenTcp(address: TcpAddress = {}, options: TcpOptions = {}): Promise<TcpListener> {
    await this.#tracing;
    const listener = this.track(
      await serveTcp(this.router, address, { topics: this.#topics, ...options }),
    );
    this.#tcp.push(listener);
    this.#peerListeners.push(listener);
    return listener;
  }

  /** The peers connected to this server's TCP and WebSocket listeners now. */
  peers(): PeerInfo[] {
    return this.#peerListeners.flatMap((listener) => listener.peers());
  }

  /**
   * A connected peer by identity, to call what it registered (`peer(id).proxy(Iface)`); the
   * handle stays valid across the peer's reconnects (to the same listener; one not connected
   * now is looked for on the first TCP listener, else the first WebSocket one).
   */
  peer(id: string): Peer {
    const listener = this.#peerListeners.find((l) => l.peers().some((p) => p.id === id)) ??
      this.#tcp[0] ?? this.#peerListeners[0];
    if (!listener) {
      throw new Error(
        "this server has no TCP or WebSocket listener; peers connect over tcp:// or ws://",
      );
    }
    return listener.peer(id);
  }

  /**
   * Publishes a call to a topic's subscribers on every listener (TCP and WebSocket peers,
   * in-process subscribers); resolves with how many received it.
   */
  publish(topic: string, method: string, params?: unknown): Promise<number> {
    return this.#topics.publish(topic, method, params);
  }

  /** Serves a topic's published calls with `impl` in this process; returns an unsubscribe. */
  subscribe(topic: string, impl: Implementation): () => void {
    return this.#topics.subscribe(topic, impl);
  }

  /** Adds a listener to close with the server (used by the TCP and AMQP transports). */
  track<L extends Listener>(listener: L): L {
    this.#listeners.add(listener);
    return listener;
  }

  /**
   * Stops every listener, letting in-flight calls finish; then sends the spans still
   * waiting (for at most five seconds).
   */
  async close(): Promise<void> {
    const all = [...this.#listeners];
    this.#listeners.clear();
    await Promise.all(all.map((l) => l.shutdown()));
    await (await this.#tracing)?.close(5000);
  }

  /** Spans exported and dropped so far by the `trace` export (zeros without one). */
  async traceCounts(): Promise<{ exported: number; dropped: number }> {
    const counts = (await this.#tracing)?.counts();
    return { exported: counts?.exported ?? 0, dropped: counts?.dropped ?? 0 };
  }
}

/** HTTP options every server gets unless overridden (XML-RPC, typed by the router's IDL). */
function defaultHttpOptions(router: Router): HttpOptions {
  return { xmlrpc: xmlRpcHandler(router) };
}
