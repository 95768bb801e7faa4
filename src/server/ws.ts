/**
 * JSON-RPC 2.0 over WebSocket, server side (runtime-free: the Deno adapter upgrades the
 * request and hands over the socket). Every connection is a peer like a TCP one: calls both
 * ways (`ctx.peer` calls the page back), notifications, batches, `$/subscribe` to the
 * server's shared topics, `$/ping` heartbeats after `$/hello`, streamed results and params
 * to peers that said `$/hello` (the same `$/stream.*` messages as TCP), and the listener's HTTP
 * authentication, on the upgrade request (a bearer or session header, a cookie) or in band
 * (`$/auth.hello`, `$/auth.login`). A page of another origin is refused at the upgrade
 * unless the listener's CORS options allow it (cross-site WebSocket hijacking).
 *
 * @module
 */

import { AUTH_HELLO, AUTH_LOGIN } from "../auth/types.ts";
import type { Call, Identity, Outcome } from "../core/context.ts";
import { asRpcError, errorShape, methodNotFound, RpcError, rpcError } from "../core/errors.ts";
import type { Router } from "../core/router/router.ts";
import { type RouterView, routerView } from "../core/router/_transport.ts";
import { Peer } from "../core/client/peer.ts";
import { type HeartbeatPolicy, missedBeats } from "../core/backoff.ts";
import {
  type MessageSocket,
  type PeerRequest,
  PeerSession,
  type PeerSessionOwner,
} from "../wire/jsonrpc/peer_session.ts";
import { HELLO, isReserved, PUBLISH, SUBSCRIBE, UNSUBSCRIBE } from "../wire/msgpackrpc/reserved.ts";
import { PeerRegistry } from "./tcp_peers.ts";
import { Topics } from "./tcp_pubsub.ts";
import type { HttpAuthenticator } from "../auth/http_authenticator.ts";
import type { CorsPolicy } from "./cors.ts";
import type { StreamLimits } from "../core/stream/table.ts";
import { streamParamNames } from "../core/stream/params.ts";

/** Options of the WebSocket transport of an HTTP listener. */
export interface WebSocketOptions {
  /** Largest accepted message in bytes (default 16 MiB); larger ones close the socket (1009). */
  maxMessageBytes?: number;
  /** Requests running at once per connection (default 1024); more are refused `Overloaded`. */
  maxInFlight?: number;
  /** Topics one connection may subscribe to (default 1000); more are refused `Overloaded`. */
  maxTopics?: number;
  /** Open WebSocket connections (default 10,000); more upgrades are answered 503. */
  maxConnections?: number;
  /** Liveness of peers that said `$/hello`; `false` turns it off. */
  heartbeat?: HeartbeatPolicy | false;
  /** Default timeout of server → peer calls in ms (default 30 s). */
  peerTimeout?: number;
  /** The topic table to share (a `Server` shares one among its listeners, every transport). */
  topics?: Topics;
  /**
   * Streams (`t.stream`) with Switchboard peers, per connection: `maxStreams` produced at
   * once (default 256), `maxItemBytes` per item message (default 1 MiB), `idleMs` a stream
   * waits for credit before it ends `Timeout` (default 60 s). The same as TCP's.
   */
  streams?: StreamLimits;
}

/** What the upgrade learned about the connection. */
export interface WebSocketInfo {
  /** The client's address (`host:port`). */
  remote: string;
  /** The listener's URL (HTTP sessions are bound to it). */
  listener?: string;
  /** Who the upgrade request authenticated as. */
  caller?: Identity;
  /** Calls need an in-band login first (the upgrade carried no credentials). */
  loginRequired: boolean;
}

/** What the connection owner needs of the HTTP listener. */
export interface WebSocketListenerParts {
  authenticate?: HttpAuthenticator;
  expose?: (method: string) => boolean;
  cors?: CorsPolicy;
}

interface WsState {
  peer: Peer;
  peerId?: string;
  caller?: Identity;
  loginRequired: boolean;
  listener?: string;
  connectedAt: Date;
}

const MAX_PEER_ID = 256;

function state(session: PeerSession): WsState {
  return session.state as unknown as WsState;
}

/** Every WebSocket connection of one HTTP listener. */
export class WebSocketServer implements PeerSessionOwner {
  readonly #router: Router;
  readonly #view: RouterView;
  readonly #options: WebSocketOptions;
  readonly #parts: WebSocketListenerParts;
  readonly #heartbeat?: HeartbeatPolicy;
  /** Whether any registered method takes a `t.stream` param, as of `#streamGeneration`. */
  #anyStreamParams = false;
  #streamGeneration = -1;
  readonly sessions = new Set<PeerSession>();
  readonly peers: PeerRegistry;
  readonly topics: Topics;

  constructor(router: Router, options: WebSocketOptions, parts: WebSocketListenerParts) {
    this.#router = router;
    this.#view = routerView(router);
    this.#options = options;
    this.#parts = parts;
    this.#heartbeat = options.heartbeat === false ? undefined : options.heartbeat ?? missedBeats();
    this.peers = new PeerRegistry(options.peerTimeout);
    this.topics = options.topics ?? new Topics(router);
  }

  /**
   * The refusal of an upgrade request, or undefined to accept it: a page from an origin the
   * listener does not allow (403), too many connections (503), or bad credentials (401).
   * Resolves with what the connection starts with otherwise.
   */
  async admit(
    request: Request,
    remote: string,
    listener?: string,
  ): Promise<Response | WebSocketInfo> {
    const origin = request.headers.get("origin");
    if (origin !== null && !sameOrigin(request, origin) && !this.#parts.cors?.allows(origin)) {
      return new Response(`origin ${origin} may not open a WebSocket here\n`, { status: 403 });
    }
    const limit = this.#options.maxConnections ?? 10_000;
    if (this.sessions.size >= limit) {
      return new Response(`too many WebSocket connections (limit ${limit}); retry later\n`, {
        status: 503,
        headers: { "retry-after": "1" },
      });
    }
    const info: WebSocketInfo = { remote, listener, loginRequired: false };
    const authenticate = this.#parts.authenticate;
    if (!authenticate) return info;
    const verdict = await authenticate(request, { peer: hostOf(remote), listener });
    if (verdict instanceof Response) {
      // Credentials that failed are refused; none at all may still log in over the socket.
      if (request.headers.has("authorization")) return verdict;
      await verdict.body?.cancel();
      info.loginRequired = true;
    } else if (verdict) info.caller = verdict;
    return info;
  }

  /** Serves an upgraded socket. */
  accept(socket: MessageSocket, info: WebSocketInfo): PeerSession {
    const session = new PeerSession(socket, this, {
      maxMessageBytes: this.#options.maxMessageBytes,
      maxInFlight: this.#options.maxInFlight,
      remote: info.remote,
      label: `ws peer ${info.remote}`,
      streams: this.#options.streams,
    });
    const peer = new Peer(
      `anonymous@${info.remote}`,
      () => session.open ? session : undefined,
      { timeout: this.#options.peerTimeout },
    );
    const st: WsState = {
      peer,
      loginRequired: info.loginRequired,
      listener: info.listener,
      connectedAt: new Date(),
    };
    if (info.caller) {
      st.caller = info.caller;
      Object.assign(session.state, st);
      this.#identify(session, info.caller.id);
    } else Object.assign(session.state, st);
    this.sessions.add(session);
    return session;
  }

  request(
    session: PeerSession,
    request: PeerRequest,
    signal: AbortSignal | undefined,
  ): Outcome | Promise<Outcome> {
    if (isReserved(request.method)) {
      return this.#reserved(session, request).then(
        (value): Outcome => ({ ok: true, value }),
        (error): Outcome => ({ ok: false, error: asRpcError(error).toShape() }),
      );
    }
    const st = state(session);
    if (st.loginRequired && !st.caller) {
      return {
        ok: false,
        error: errorShape(
          "Unauthorized",
          `log in first (${AUTH_HELLO}, then ${AUTH_LOGIN}) before calling ${request.method}`,
        ),
      };
    }
    const call: Call = {
      method: request.method,
      params: this.#streamParams(session, request, st.caller),
      protocol: "jsonrpc",
      id: request.id,
      peer: st.peer,
      remote: session.remote,
    };
    if (signal) call.signal = signal;
    // A Switchboard peer that asks takes a streamed result item by item; others get the array.
    if (request.stream) call.stream = true;
    if (st.caller) call.caller = st.caller;
    if (this.#parts.expose) call.expose = this.#parts.expose;
    return this.#view.dispatchNow(call);
  }

  /** A Switchboard peer's params, with the stream handles at `t.stream` params as streams. */
  #streamParams(session: PeerSession, request: PeerRequest, caller?: Identity): unknown {
    const params = request.params;
    if (!session.extensions || typeof params !== "object" || params === null) return params;
    if (Array.isArray(params) || !this.#someStreamParams()) return params;
    const names = this.#router.resolve(request.method, caller)?.streamParams;
    return names ? session.streams.paramsIn(request.method, params, names) : params;
  }

  /** Whether a method takes stream params at all (most servers have none: no lookup per call). */
  #someStreamParams(): boolean {
    const generation = this.#view.generation;
    if (generation !== this.#streamGeneration) {
      this.#anyStreamParams = this.#view.registeredInterfaces().some((i) =>
        Object.values(i.methods).some((def) => streamParamNames(def.params) !== undefined)
      );
      this.#streamGeneration = generation;
    }
    return this.#anyStreamParams;
  }

  notification(session: PeerSession, method: string, params: unknown): void | Promise<unknown> {
    const st = state(session);
    if (st.loginRequired && !st.caller) return; // not logged in: dropped
    if (method === PUBLISH) {
      const [topic, name, args] = Array.isArray(params) ? params : [];
      if (typeof topic === "string" && typeof name === "string") {
        return this.topics.publish(topic, name, args, st.caller);
      }
      return;
    }
    // Other reserved notifications belong to extensions this listener does not serve.
    if (isReserved(method)) return;
    const call: Call = { method, params, notification: true, protocol: "jsonrpc", peer: st.peer };
    if (st.caller) call.caller = st.caller;
    if (this.#parts.expose) call.expose = this.#parts.expose;
    const outcome = this.#view.dispatchNow(call);
    if (outcome instanceof Promise) return outcome;
  }

  closed(session: PeerSession): void {
    this.sessions.delete(session);
    const st = state(session);
    if (st.peerId) this.peers.release(session, st.peerId);
    this.topics.drop(session);
  }

  /** Lets running calls finish (up to `graceMs`), then closes every connection. */
  async shutdown(graceMs = 30_000): Promise<void> {
    const sessions = [...this.sessions];
    let timer: ReturnType<typeof setTimeout> | undefined;
    const grace = new Promise<void>((resolve) => timer = setTimeout(resolve, graceMs));
    await Promise.race([Promise.all(sessions.map((s) => s.drain())), grace]);
    clearTimeout(timer);
    const reason = rpcError("Unavailable", "server shutting down");
    for (const session of sessions) session.close(reason, 1001);
  }

  async #reserved(session: PeerSession, request: PeerRequest): Promise<unknown> {
    const st = state(session);
    const params = Array.isArray(request.params) ? request.params : [request.params];
    switch (request.method) {
      case HELLO: {
        const hello = (params[0] ?? {}) as { id?: unknown };
        if (typeof hello.id === "string" && hello.id.length > MAX_PEER_ID) {
          throw rpcError("InvalidParams", `peer id longer than ${MAX_PEER_ID} characters`);
        }
        if (!st.caller && !st.loginRequired && typeof hello.id === "string" && hello.id) {
          this.#identify(session, hello.id);
        }
        session.extensions = true;
        if (this.#heartbeat) session.startHeartbeat(this.#heartbeat);
        return {
          server: "switchboard",
          protocol: 1,
          heartbeat: this.#heartbeat?.interval ?? null,
          auth: st.loginRequired && !st.caller ? "login" : null,
          peer: st.peerId ?? null,
        };
      }
      case AUTH_HELLO:
      case AUTH_LOGIN:
        return await this.#login(session, request.method, params[0]);
      case SUBSCRIBE:
      case UNSUBSCRIBE: {
        if (st.loginRequired && !st.caller) throw rpcError("Unauthorized", "log in first");
        if (request.method === SUBSCRIBE) {
          return this.topics.subscribeRequest(session, params, this.#options.maxTopics);
        }
        const topic = params[0];
        if (typeof topic !== "string") throw rpcError("InvalidParams", "expected [topic]");
        this.topics.remove(session, topic);
        return true;
      }
      default:
        throw new RpcError(methodNotFound(request.method));
    }
  }

  /**
   * The in-band login, through the listener's own HTTP authenticator (so every scheme it
   * accepts over HTTP works here too): the handshake as the POST an HTTP client would send,
   * and a bearer token as the header it would carry.
   */
  async #login(session: PeerSession, method: string, param: unknown): Promise<unknown> {
    const authenticate = this.#parts.authenticate;
    if (!authenticate) throw rpcError("MethodNotFound", "this server requires no login");
    const st = state(session);
    const args = (typeof param === "object" && param !== null ? param : {}) as {
      scheme?: unknown;
      proof?: { token?: unknown };
    };
    const headers = new Headers({ "content-type": "application/json" });
    if (method === AUTH_LOGIN && args.scheme === "bearer") {
      headers.set("authorization", `Bearer ${String(args.proof?.token ?? "")}`);
    }
    const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method, params: param ?? {} });
    const synthetic = new Request(st.listener ?? "http://localhost/", {
      method: "POST",
      headers,
      body,
    });
    const verdict = await authenticate(synthetic, {
      peer: hostOf(session.remote),
      listener: st.listener,
      body: () => Promise.resolve(body),
    });
    let identity: Identity | undefined;
    let result: unknown;
    if (verdict instanceof Response) {
      const reply = await verdict.json().catch(() => undefined) as
        | { result?: { identity?: Identity }; error?: { message?: string } }
        | undefined;
      if (!reply || reply.error || !("result" in reply)) {
        throw rpcError("Unauthorized", reply?.error?.message ?? "login refused");
      }
      result = reply.result;
      if (method === AUTH_HELLO) return result;
      identity = reply.result?.identity;
    } else {
      identity = verdict;
      result = verdict;
    }
    if (!identity) throw rpcError("Unauthorized", "login refused");
    st.caller = identity;
    this.#identify(session, identity.id);
    return result;
  }

  /** Binds a connection to a peer id; a newer connection of the same peer replaces the old. */
  #identify(session: PeerSession, id: string): void {
    const st = state(session);
    st.peer = this.peers.bind(session, id, st.peerId);
    st.peerId = id;
    session.label = `ws peer ${id}`;
  }
}

/** Whether `origin` is the listener's own (the page was served by it). */
function sameOrigin(request: Request, origin: string): boolean {
  const host = request.headers.get("host");
  if (host === null) return false;
  return origin === `http://${host}` || origin === `https://${host}`;
}

function hostOf(remote: string): string {
  const colon = remote.lastIndexOf(":");
  return colon < 0 ? remote : remote.slice(0, colon).replace(/^\[|\]$/g, "");
}
