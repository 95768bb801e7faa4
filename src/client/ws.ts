/**
 * The WebSocket client transport behind `connect("ws://host:port")` (and `wss://`): JSON-RPC
 * 2.0 over one socket, calls both ways. It uses only `globalThis.WebSocket`, so it runs in
 * browsers, Deno and Node 22+ (on Node 20, set `globalThis.WebSocket` from the `ws` or
 * `undici` package first). The socket opens on first use; after a drop, the next call
 * reconnects, and a client that serves handlers or subscriptions reconnects by itself with
 * backoff. On every (re)connect it says `$/hello` (with its peer id), logs in when given
 * credentials, and re-subscribes, before any queued call is sent. A call in flight when the
 * connection drops is sent again if its method is idempotent, else fails `Unavailable`.
 * Between Switchboard ends, `t.stream` results and params travel item by item.
 *
 * @module
 */

import { Redial } from "./redial.ts";
import type { AuthCredentials } from "../auth/types.ts";
import { AUTH_HELLO, AUTH_LOGIN } from "../auth/types.ts";
import type { Call, Identity, Outcome } from "../core/context.ts";
import { RpcError, rpcError } from "../core/errors.ts";
import type { Implementation } from "../core/implement.ts";
import { Router } from "../core/router/router.ts";
import {
  exponentialBackoff,
  type HeartbeatPolicy,
  missedBeats,
  type ReconnectPolicy,
} from "../core/backoff.ts";
import {
  type MessageSocket,
  type PeerRequest,
  PeerSession,
  type PeerSessionOwner,
} from "../wire/jsonrpc/peer_session.ts";
import { Client } from "../core/client/client.ts";
import { Peer } from "../core/client/peer.ts";
import type { OutgoingCall, SubscribeOptions, Transport } from "../core/client/transport.ts";
import { Subscriptions } from "./subscriptions.ts";
import { type ConnectOptions, registerTransport } from "./connect.ts";
import { surviveDrops } from "./tcp_reconnect.ts";
import { unsent } from "../core/client/unsent.ts";

// The reserved names (as in `src/wire/msgpackrpc/reserved.ts`, not imported: "." stays small).
const HELLO = "$/hello";
const SUBSCRIBE = "$/subscribe";
const UNSUBSCRIBE = "$/unsubscribe";
const PUBLISH = "$/publish";
const EVENT = "$/event";
const EVENT_GAP = "$/event.gap";

/** Options of the WebSocket client transport (also accepted by `connect()`). */
export interface WebSocketTransportOptions {
  /** This client's peer id, stable across reconnects (the server calls it by this name). */
  id?: string;
  /** Log in with these credentials on every (re)connect (in band: `$/auth.login`). */
  auth?: AuthCredentials;
  /** Heartbeats towards a Switchboard server; `false` turns them off. */
  heartbeat?: HeartbeatPolicy | false;
  /** Delay before background reconnect attempts (default exponential backoff with jitter). */
  reconnect?: ReconnectPolicy;
  /** Send `$/hello` on connect (default true); `false` for plain JSON-RPC servers. */
  hello?: boolean;
  /** Give up on a connect + handshake after this many ms (default 10 000). */
  connectTimeout?: number;
  /** Largest accepted message in bytes (default 16 MiB). */
  maxMessageBytes?: number;
  /** Server → client requests running at once (default 1024). */
  maxInFlight?: number;
}

type WebSocketClass = new (url: string) => MessageSocket & {
  addEventListener(type: "open", listener: () => void): void;
};

/**
 * A JSON-RPC client transport over one WebSocket (what `connect("ws://…")` uses).
 *
 * @example Calls, and a server → client call
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect, defineInterface, implement, method, t } from "@switchboard/rpc";
 * import { Server } from "@switchboard/rpc/server";
 *
 * const Echo = defineInterface("Echo", { echo: method({ params: { text: t.string }, result: t.string }) });
 * const Greeter = defineInterface("Greeter", { greet: method({ result: t.string }) });
 * const server = new Server().register(implement(Echo, {
 *   echo: async ({ text }, ctx) => `${text} ${await ctx.peer!.proxy(Greeter).greet()}`,
 * }));
 * const http = await server.listenHttp({ port: 0 }, { websocket: true });
 * const client = connect(http.url.replace("http", "ws"));
 * client.register(implement(Greeter, { greet: () => "from the client" }));
 * assert.equal(await client.proxy(Echo).echo({ text: "hi" }), "hi from the client");
 * await client.close();
 * await server.close();
 * ```
 */
export class WebSocketTransport implements Transport {
  readonly #url: string;
  readonly #options: WebSocketTransportOptions;
  readonly #redial: Redial;
  #session?: PeerSession;
  #connecting?: Promise<PeerSession>;
  #closed = false;
  #router?: Router;
  /** topic → handlers of published calls, and the last sequence number received. */
  readonly #topics = new Subscriptions();
  #server?: Peer;
  readonly #owner: PeerSessionOwner = {
    request: (session, request, signal) => this.#request(session, request, signal),
    notification: (_session, method, params) => this.#notification(method, params),
    closed: (session) => this.#lost(session),
  };
  /** The identity the server gave this client at login, if any. */
  identity?: Identity;

  /** `url` is `ws://host:port[/path]` or `wss://…`. */
  constructor(url: string | URL, options: WebSocketTransportOptions = {}) {
    this.#url = String(url);
    this.#options = options;
    this.#redial = new Redial(options.reconnect ?? exponentialBackoff(), {
      open: () => this.#ready(),
      wanted: () => this.#router !== undefined || this.#topics.size > 0,
      closed: () => this.#closed,
    });
  }

  /** Whether a connection is open now. */
  get connected(): boolean {
    return this.#session?.open ?? false;
  }

  /** Opens the connection now (calls do it on demand); resolves once the handshake is done. */
  async connect(): Promise<void> {
    await this.#ready();
  }

  /** Calls travel as JSON-RPC. */
  rpcSystem(): string {
    return "jsonrpc";
  }

  /** A drop with the call in flight: idempotent calls are sent again, others fail. */
  call(request: OutgoingCall): Promise<Outcome> {
    return surviveDrops(request, () => this.#call(request), () => this.#closed, this.#url);
  }

  #call(request: OutgoingCall): Promise<Outcome> {
    const session = this.#session;
    if (session?.open) return session.call(request.method, request.params, request);
    // No connection could be opened: the call never left (a balancer may send it elsewhere).
    return this.#ready().then(
      (s) => s.call(request.method, request.params, request),
      (error) => Promise.reject(unsent(error)),
    );
  }

  async notify(request: OutgoingCall): Promise<void> {
    (await this.#ready()).notify(request.method, request.params ?? []);
  }

  async batch(requests: OutgoingCall[]): Promise<Outcome[]> {
    return await (await this.#ready()).batch(requests);
  }

  /** Serves an implementation to the server over this connection (server → client calls). */
  register(impl: Implementation): void {
    this.#handlers().register(impl);
    this.#redial.stay();
  }

  /**
   * Runs `impl` for every call published to `topic`; re-subscribed after reconnects, resuming
   * from the server's replay buffer (what it no longer has goes to `options.onGap`).
   */
  async subscribe(
    topic: string,
    impl: Implementation,
    options?: SubscribeOptions,
  ): Promise<void> {
    const router = this.#newRouter();
    router.register(impl);
    this.#topics.set(topic, router, options);
    this.#redial.stay();
    await this.#subscribeOn(await this.#ready(), topic);
  }

  /** `$/subscribe`, resuming after the last published call received. */
  async #subscribeOn(session: PeerSession, topic: string): Promise<void> {
    const reply = unwrap(
      await session.call(SUBSCRIBE, this.#topics.request(topic, session.extensions)),
    );
    this.#topics.subscribed(topic, reply);
  }

  /** Stops receiving a topic. */
  async unsubscribe(topic: string): Promise<void> {
    if (!this.#topics.delete(topic)) return;
    const session = this.#session;
    if (session?.open) unwrap(await session.call(UNSUBSCRIBE, [topic]));
  }

  /** Publishes a call to a topic: the server runs it on every subscriber (no reply). */
  async publish(topic: string, method: string, params?: unknown): Promise<void> {
    (await this.#ready()).notify(PUBLISH, [topic, method, params ?? []]);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#redial.stop();
    await this.#connecting?.catch(() => {});
    const session = this.#session;
    if (session?.open) {
      session.close(rpcError("Unavailable", "the client was closed"));
      // What was sent last (a stream's cancel) goes out before the close handshake ends:
      // wait for it, bounded so close() never hangs.
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        session.socketClosed,
        new Promise((r) => timer = setTimeout(r, 1000)),
      ]);
      clearTimeout(timer);
    }
  }

  #ready(): Promise<PeerSession> {
    const session = this.#session;
    if (session?.open) return Promise.resolve(session);
    if (this.#closed) return Promise.reject(rpcError("Unavailable", "the client is closed"));
    return this.#connecting ??= this.#open().finally(() => this.#connecting = undefined);
  }

  async #open(): Promise<PeerSession> {
    const WebSocket = (globalThis as { WebSocket?: WebSocketClass }).WebSocket;
    if (!WebSocket) {
      throw new TypeError(
        "this runtime has no global WebSocket (Node before 22): set globalThis.WebSocket " +
          'from the "ws" package (or undici) before connecting to ws:// URLs',
      );
    }
    const limit = this.#options.connectTimeout ?? 10_000;
    let socket: InstanceType<WebSocketClass>;
    try {
      socket = new WebSocket(this.#url);
    } catch (error) {
      throw rpcError("Unavailable", `cannot connect to ${this.#url}: ${messageOf(error)}`);
    }
    const session = new PeerSession(socket, this.#owner, {
      label: this.#url,
      remote: this.#url,
      maxMessageBytes: this.#options.maxMessageBytes,
      maxInFlight: this.#options.maxInFlight,
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const opened = new Promise<void>((resolve) => socket.addEventListener("open", resolve));
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(rpcError("Unavailable", `connecting to ${this.#url} timed out`)),
          limit,
        );
      });
      const failed = session.done.then(() => {
        throw rpcError("Unavailable", `cannot connect to ${this.#url}`);
      });
      failed.catch(() => {}); // the socket may close long after it opened
      await Promise.race([opened.then(() => this.#handshake(session)), timedOut, failed]);
      if (this.#closed) throw rpcError("Unavailable", "the client is closed");
      this.#session = session;
      this.#redial.connected();
      return session;
    } catch (error) {
      session.close(error instanceof RpcError ? error : undefined);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  async #handshake(session: PeerSession): Promise<void> {
    if (this.#options.hello !== false) {
      const hello = await session.call(HELLO, [{ id: this.#options.id ?? null }]);
      // An error: a plain JSON-RPC server, spoken to by the spec alone.
      if (hello.ok) session.extensions = true;
      const heartbeat = this.#options.heartbeat === false
        ? undefined
        : this.#options.heartbeat ?? missedBeats();
      if (hello.ok && heartbeat && (hello.value as { heartbeat?: unknown })?.heartbeat) {
        session.startHeartbeat(heartbeat);
      }
    }
    if (this.#options.auth) await this.#login(session, this.#options.auth);
    for (const topic of [...this.#topics.keys()]) await this.#subscribeOn(session, topic);
  }

  async #login(session: PeerSession, credentials: AuthCredentials): Promise<void> {
    let nonce = "";
    if (credentials.scheme !== "bearer") {
      const hello = unwrap(await session.call(AUTH_HELLO, [])) as { nonce?: unknown };
      if (typeof hello?.nonce !== "string") {
        throw rpcError("Unauthorized", `${this.#url} sent no login nonce`);
      }
      nonce = hello.nonce;
    }
    const proof = await credentials.prove(nonce);
    const result = unwrap(
      await session.call(AUTH_LOGIN, [{ scheme: credentials.scheme, proof, nonce }]),
    ) as { identity?: Identity } & Identity;
    this.identity = result.identity ?? result;
  }

  #handlers(): Router {
    return this.#router ??= this.#newRouter();
  }

  #newRouter(): Router {
    const router = new Router();
    router.client = new Client(this);
    return router;
  }

  #serverPeer(): Peer {
    return this.#server ??= new Peer(
      this.#url,
      () => this.#session?.open ? this.#session : undefined,
    );
  }

  #request(
    session: PeerSession,
    request: PeerRequest,
    signal: AbortSignal | undefined,
  ): Outcome | Promise<Outcome> {
    const router = this.#router;
    if (!router || request.method.startsWith("$/")) {
      return {
        ok: false,
        error: rpcError(
          "MethodNotFound",
          `Method not found: ${request.method} (this client serves ${
            router ? router.interfaces().map((i) => i.name).join(", ") : "nothing"
          })`,
        ).toShape(),
      };
    }
    let params = request.params;
    const names = session.extensions ? router.resolve(request.method)?.streamParams : undefined;
    if (names) params = session.streams.paramsIn(request.method, params, names);
    const call: Call = {
      method: request.method,
      params,
      protocol: "jsonrpc",
      id: request.id,
      peer: this.#serverPeer(),
    };
    if (signal) call.signal = signal;
    if (request.stream) call.stream = true;
    return router.dispatch(call);
  }

  #notification(method: string, params: unknown): void {
    let router = this.#router;
    if (method === EVENT) {
      const delivery = this.#topics.event(params);
      if (!delivery) return;
      ({ router, method, params } = delivery);
    } else if (method === EVENT_GAP) {
      return this.#topics.gap(params);
    } else if (method.startsWith("$/")) return;
    if (!router) return;
    void router.dispatch({
      method,
      params,
      notification: true,
      protocol: "jsonrpc",
      peer: this.#serverPeer(),
    });
  }

  #lost(session: PeerSession): void {
    if (this.#session !== session) return;
    this.#session = undefined;
    this.#redial.schedule();
  }
}

function unwrap(outcome: Outcome): unknown {
  if (outcome.ok) return outcome.value;
  throw RpcError.fromShape(outcome.error);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function wsFactory(url: URL, options: ConnectOptions): Transport {
  return new WebSocketTransport(url, options as WebSocketTransportOptions);
}
registerTransport("ws:", wsFactory);
registerTransport("wss:", wsFactory);
