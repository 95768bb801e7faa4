/**
 * msgpack-rpc over raw TCP (optionally TLS), server side. Plain msgpack-rpc clients work
 * as the spec says; Switchboard clients also use the reserved `$/…` methods (listed in
 * `src/wire/msgpackrpc/reserved.ts`), which never reach application handlers.
 *
 * With an `AuthGate`, every other request before a successful login is refused with
 * `Unauthorized` (-32001) and later calls carry the logged-in identity as `caller`.
 *
 * @module
 */

import type { AuthGate } from "../auth/gate.ts";
import { AUTH_HELLO, AUTH_LOGIN } from "../auth/types.ts";
import type { NotificationMessage, RequestMessage } from "../wire/msgpackrpc/codec.ts";
import type { Call, Identity } from "../core/context.ts";
import { asRpcError, errorShape, methodNotFound, RpcError, rpcError } from "../core/errors.ts";
import type { Implementation } from "../core/implement.ts";
import { Router } from "../core/router/router.ts";
import { Peer, type PeerLink } from "../core/client/peer.ts";
import { type ByteStream, Session, type SessionOwner } from "../wire/msgpackrpc/session.ts";
import {
  EVENT,
  HELLO,
  isReserved,
  PING,
  PUBLISH,
  SUBSCRIBE,
  UNSUBSCRIBE,
} from "../wire/msgpackrpc/reserved.ts";
import { listen } from "../adapters/deno/tcp.ts";
import { type HeartbeatPolicy, missedBeats } from "../core/backoff.ts";
import { floatOutcome } from "../wire/msgpackrpc/plain_peer.ts";
import { strBytesParams } from "../wire/msgpackrpc/bytes_params.ts";

/** Where a TCP listener listens. */
export interface TcpAddress {
  /** Interface address (default `127.0.0.1`). */
  hostname?: string;
  /** Port (default 8081; 0 picks a free one). */
  port?: number;
  /** Serve TLS with this PEM certificate chain and key . */
  tls?: { cert: string; key: string };
}

/** Options of the TCP transport. */
export interface TcpOptions {
  /** Largest accepted message in bytes (default 16 MiB); larger frames close the connection. */
  maxMessageBytes?: number;
  /** Requests running at once per connection; more are refused `Overloaded` (default 1024). */
  maxInFlight?: number;
  /** Require a login (`$/auth.hello` + `$/auth.login`) before any other request. */
  auth?: AuthGate;
  /** Liveness of Switchboard peers (those that said `$/hello`); `false` turns it off. */
  heartbeat?: HeartbeatPolicy | false;
  /** Which methods this listener exposes (all by default); others are "not found". */
  expose?: (method: string) => boolean;
  /** Default timeout of server → peer calls in ms (default 30 s). */
  peerTimeout?: number;
  /** How long `shutdown()` lets in-flight calls run before closing anyway (default 30 s). */
  shutdownGrace?: number;
}

/** A connected peer, as listed by {@linkcode TcpListener.peers}. */
export interface PeerInfo {
  /** The peer's identity. */
  id: string;
  /** Its address (`host:port`). */
  remote: string;
  /** When its current connection was made. */
  connectedAt: Date;
  /** The authenticated identity, when the server requires auth. */
  caller?: Identity;
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

interface ConnState {
  /** The peer's address, kept for every call's `remote`. */
  remote: string;
  peerId?: string;
  caller?: Identity;
  nonce?: string;
  connectedAt: Date;
  peer: Peer;
  topics: Set<string>;
}

function state(session: Session): ConnState {
  return session.state as unknown as ConnState;
}

/** The server side of every connection: reserved methods, auth, peers, topics. */
class TcpServer implements SessionOwner {
  readonly #router: Router;
  readonly #options: TcpOptions;
  readonly #heartbeat?: HeartbeatPolicy;
  readonly sessions = new Set<Session>();
  readonly #byId = new Map<string, Session>();
  readonly #handles = new Map<string, Peer>();
  /** topic → subscribed connections. */
  readonly #remoteTopics = new Map<string, Set<Session>>();
  /** topic → in-process subscribers. */
  readonly #localTopics = new Map<string, Set<Router>>();

  constructor(router: Router, options: TcpOptions) {
    this.#router = router;
    this.#options = options;
    this.#heartbeat = options.heartbeat === false ? undefined : options.heartbeat ?? missedBeats();
  }

  accept(stream: ByteStream): void {
    const session = new Session(stream, this, {
      maxMessageBytes: this.#options.maxMessageBytes,
      maxInFlight: this.#options.maxInFlight,
    });
    const peer = new Peer(
      `anonymous@${session.remote}`,
      () => session.open ? link(session) : undefined,
      {
        timeout: this.#options.peerTimeout,
      },
    );
    const s: ConnState = {
      remote: session.remote,
      connectedAt: new Date(),
      peer,
      topics: new Set(),
    };
    Object.assign(session.state, s);
    this.sessions.add(session);
  }

  request(session: Session, message: RequestMessage, signal?: AbortSignal): void {
    const method = message.method;
    if (isReserved(method)) {
      this.#reserved(session, message).then(
        (value) => session.respond(message.msgid, { ok: true, value }),
        (error) =>
          session.respond(message.msgid, { ok: false, error: asRpcError(error).toShape() }),
      );
      return;
    }
    const st = state(session);
    if (this.#options.auth && !st.caller) {
      session.respond(message.msgid, {
        ok: false,
        error: errorShape(
          "Unauthorized",
          `log in first ($/auth.hello, then $/auth.login) before calling ${method}`,
        ),
      });
      return;
    }
    const call: Call = {
      method,
      params: strBytesParams(this.#router, method, message.params, st.caller),
      protocol: "msgpack-rpc",
      id: message.msgid,
      peer: st.peer,
      remote: st.remote,
    };
    if (st.caller) call.caller = st.caller;
    if (this.#options.expose) call.expose = this.#options.expose;
    if (signal) call.signal = signal;
    if (message.timeout !== undefined) call.deadline = Date.now() + message.timeout;
    this.#run(session, message.msgid, call);
  }

  #run(session: Session, msgid: number, call: Call): void {
    const router = this.#router;
    const outcome = router.dispatchNow(call);
    if (outcome instanceof Promise) {
      outcome.then((settled) => session.respond(msgid, floatOutcome(router, call, settled)));
    } else session.respond(msgid, floatOutcome(router, call, outcome));
  }

  async #reserved(session: Session, message: RequestMessage): Promise<unknown> {
    const st = state(session);
    const params = Array.isArray(message.params) ? message.params : [message.params];
    switch (message.method) {
      case HELLO: {
        const hello = (params[0] ?? {}) as { id?: unknown };
        session.extensions = true;
        if (!this.#options.auth && typeof hello.id === "string" && hello.id) {
          this.#identify(session, hello.id);
        }
        if (this.#heartbeat) session.startHeartbeat(this.#heartbeat);
        return {
          server: "switchboard",
          protocol: 1,
          heartbeat: this.#heartbeat?.interval ?? null,
          auth: this.#options.auth ? this.#options.auth.schemes : null,
          peer: st.peerId ?? null,
        };
      }
      case AUTH_HELLO: {
        if (!this.#options.auth) throw rpcError("MethodNotFound", "this server requires no login");
        const hello = this.#options.auth.hello();
        st.nonce = hello.nonce;
        return hello;
      }
      case AUTH_LOGIN: {
        const gate = this.#options.auth;
        if (!gate) throw rpcError("MethodNotFound", "this server requires no login");
        const nonce = st.nonce;
        st.nonce = undefined; // one attempt per nonce
        if (!nonce) throw rpcError("Unauthorized", "call $/auth.hello first for a nonce");
        const login = (params[0] ?? {}) as { scheme?: unknown; proof?: unknown };
        const identity = await gate.login(
          session.remote.slice(0, session.remote.lastIndexOf(":")),
          nonce,
          login.scheme,
          login.proof,
        );
        st.caller = identity;
        this.#identify(session, identity.id);
        return identity;
      }
      case PING:
        return "pong";
      case SUBSCRIBE:
      case UNSUBSCRIBE: {
        if (this.#options.auth && !st.caller) throw rpcError("Unauthorized", "log in first");
        const topic = params[0];
        if (typeof topic !== "string") throw rpcError("InvalidParams", "expected [topic]");
        if (message.method === SUBSCRIBE) {
          st.topics.add(topic);
          setOf(this.#remoteTopics, topic).add(session);
        } else {
          st.topics.delete(topic);
          this.#remoteTopics.get(topic)?.delete(session);
        }
        return true;
      }
      default:
        throw new RpcError(methodNotFound(message.method));
    }
  }

  /** Binds a connection to a peer id; a newer connection of the same peer replaces the old. */
  #identify(session: Session, id: string): void {
    const st = state(session);
    if (st.peerId && st.peerId !== id && this.#byId.get(st.peerId) === session) {
      this.#byId.delete(st.peerId);
    }
    const previous = this.#byId.get(id);
    if (previous && previous !== session) {
      previous.close(rpcError("Unavailable", `peer ${id} connected again; old connection closed`));
    }
    st.peerId = id;
    st.peer = this.peer(id);
    session.label = `peer ${id}`;
    this.#byId.set(id, session);
  }

  notification(session: Session, message: NotificationMessage): void {
    const st = state(session);
    if (this.#options.auth && !st.caller) return; // not logged in: dropped
    if (message.method === PUBLISH) {
      const [topic, method, params] = Array.isArray(message.params) ? message.params : [];
      if (typeof topic === "string" && typeof method === "string") {
        void this.publish(topic, method, params, st.caller);
      }
      return;
    }
    if (isReserved(message.method)) return;
    const call: Call = {
      method: message.method,
      params: strBytesParams(this.#router, message.method, message.params, st.caller),
      notification: true,
      protocol: "msgpack-rpc",
      peer: st.peer,
    };
    if (st.caller) call.caller = st.caller;
    if (this.#options.expose) call.expose = this.#options.expose;
    void this.#router.dispatch(call);
  }

  closed(session: Session): void {
    this.sessions.delete(session);
    const st = state(session);
    if (st.peerId && this.#byId.get(st.peerId) === session) this.#byId.delete(st.peerId);
    for (const topic of st.topics) this.#remoteTopics.get(topic)?.delete(session);
  }

  peers(): PeerInfo[] {
    return [...this.#byId.entries()].map(([id, session]) => {
      const st = state(session);
      const info: PeerInfo = { id, remote: session.remote, connectedAt: st.connectedAt };
      if (st.caller) info.caller = st.caller;
      return info;
    });
  }

  peer(id: string): Peer {
    let handle = this.#handles.get(id);
    if (!handle) {
      handle = new Peer(id, () => {
        const session = this.#byId.get(id);
        return session?.open ? link(session) : undefined;
      }, { timeout: this.#options.peerTimeout });
      this.#handles.set(id, handle);
    }
    return handle;
  }

  subscribe(topic: string, impl: Implementation): () => void {
    const router = new Router({ logger: this.#router.logger });
    // Handlers reach other interfaces through the server's own client, looked up when used.
    router.clientFactory = () => this.#router.client;
    router.register(impl);
    setOf(this.#localTopics, topic).add(router);
    return () => void this.#localTopics.get(topic)?.delete(router);
  }

  async publish(
    topic: string,
    method: string,
    params: unknown,
    caller?: Identity,
  ): Promise<number> {
    let count = 0;
    for (const session of this.#remoteTopics.get(topic) ?? []) {
      if (!session.open) continue;
      session.notify(EVENT, [topic, method, params ?? []]);
      count++;
    }
    const local = [...this.#localTopics.get(topic) ?? []];
    count += local.length;
    await Promise.all(local.map((router) => {
      const call: Call = { method, params, notification: true, protocol: "msgpack-rpc" };
      if (caller) call.caller = caller;
      return router.dispatch(call);
    }));
    return count;
  }
}

function setOf<K, V>(map: Map<K, Set<V>>, key: K): Set<V> {
  let set = map.get(key);
  if (!set) map.set(key, set = new Set());
  return set;
}

/** A session as a peer link (server → peer calls). */
function link(session: Session): PeerLink {
  return session;
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
  const server = new TcpServer(router, options);
  const listener = listen(
    {
      hostname: address.hostname ?? "127.0.0.1",
      port: address.port ?? 8081,
      tls: address.tls,
    },
    (stream) => server.accept(stream),
    (message) => router.logger.warn(`tcp: ${message}`),
  );
  const host = listener.hostname.includes(":") ? `[${listener.hostname}]` : listener.hostname;
  let stopping: Promise<void> | undefined;
  const shutdown = async () => {
    await listener.close();
    const sessions = [...server.sessions];
    // In-flight calls may finish (within the grace period), then every connection closes.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, options.shutdownGrace ?? 30_000);
    });
    await Promise.all(sessions.map(async (s) => {
      await Promise.race([s.drain(), grace]);
      await s.closeAfterFlush(rpcError("Unavailable", "server shutting down"));
    }));
    clearTimeout(timer);
    await Promise.all(sessions.map((s) => s.done));
  };
  return Promise.resolve({
    hostname: listener.hostname,
    port: listener.port,
    url: `${address.tls ? "tls" : "tcp"}://${host}:${listener.port}`,
    shutdown: () => stopping ??= shutdown(),
    peers: () => server.peers(),
    connections: () => server.sessions.size,
    peer: (id: string) => server.peer(id),
    subscribe: (topic: string, impl: Implementation) => server.subscribe(topic, impl),
    publish: (topic: string, method: string, params?: unknown) =>
      server.publish(topic, method, params),
  });
}
