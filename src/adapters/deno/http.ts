/**
 * Deno's HTTP server as a Switchboard HTTP listener: the runtime-free app of
 * `src/server/http.ts` built from a router and served on a socket, HTTPS when given a
 * certificate. The app's options and the listener's own (connection limits and timeouts)
 * are separate types; `HttpOptions` is both.
 *
 * `Deno.serve` (Deno 2.9) neither times out a client that never finishes its request
 * headers (slowloris) or idles on a kept-alive connection, nor lets anyone count or close
 * its connections. So the listener accepts connections itself and serves each with Deno's
 * own HTTP engine (`serveHttpOnConnection`, the per-connection form of `Deno.serve`, reached
 * through `Deno[Deno.internal]` as Deno's own `node:http` does), which lets it cap the
 * connections and close those that send no complete request in time. Where that function is
 * missing, it falls back to `Deno.serve` without those limits, and says so.
 *
 * @module
 */

import type { Router } from "../../core/router/router.ts";
import { createHttpApp, type HttpApp, type HttpAppOptions } from "../../server/http.ts";
import { errorResponse } from "../../server/http_calls.ts";
import type { ListenerEnv } from "../../server/_http_env.ts";
import { errorShape } from "../../core/errors.ts";
import { hostProblem } from "../../server/http_request.ts";
import { acceptLoop } from "./accept.ts";
import { isWebSocketUpgrade, WebSocketUpgrades } from "./ws.ts";
import type { WebSocketOptions } from "../../server/ws.ts";
import type { PeerInfo } from "../../server/tcp_peers.ts";
import type { Peer } from "../../core/client/peer.ts";

/**
 * What a Deno HTTP listener adds to the app's options: limits on its connections, and
 * WebSocket upgrades.
 */
export interface HttpListenerOptions {
  /** Open connections of the listener (default 10,000); more get 503. */
  maxConnections?: number;
  /**
   * How long a new connection may take to send its first request's headers (default 10 s);
   * then it is closed (a slowloris client).
   */
  headerTimeout?: number;
  /**
   * How long a kept-alive connection may sit between requests, the next request's headers
   * included (default 30 s); then it is closed.
   */
  idleTimeout?: number;
  /**
   * Serve JSON-RPC over WebSocket on this listener too (a `GET` with `Upgrade: websocket`
   * at any path, see `docs/websocket.md`): `true` or its options; off by default. Such a
   * listener is served by `Deno.serve`, so `maxConnections`, `headerTimeout` and
   * `idleTimeout` do not apply to its HTTP connections.
   */
  websocket?: WebSocketOptions | boolean;
}

/** Options of an HTTP listener: the app's and the listener's own. */
export interface HttpOptions extends HttpAppOptions, HttpListenerOptions {}

/**
 * What the app learns about a connection's requests besides the request: the client's
 * address (the connection's, read once: Deno builds a new object on every read of a
 * request's), which listener took it (sessions are bound to their listener), and whom to
 * tell when a request is answered (the connection's count of requests in progress).
 */
class ConnectionEnv implements ListenerEnv {
  readonly remoteAddr: Deno.NetAddr;
  readonly listener: string;
  readonly answered: () => void;
  constructor(conn: Deno.Conn, listener: string, answered: () => void) {
    this.remoteAddr = conn.remoteAddr as Deno.NetAddr;
    this.listener = listener;
    this.answered = answered;
  }
}

/** A listening HTTP transport. */
export interface HttpListener {
  /** Where it listens. */
  readonly hostname: string;
  /** The bound port (useful with port 0). */
  readonly port: number;
  /** Base URL, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  /** Stops accepting and waits for in-flight requests to finish. */
  shutdown(): Promise<void>;
  /** Resolves when the listener has stopped. */
  readonly finished: Promise<void>;
  /** How many connections are open now (0 when it cannot tell: the `Deno.serve` fallback). */
  connections(): number;
  /** With `websocket`: the WebSocket peers connected now (those that said their id). */
  peers?(): PeerInfo[];
  /** With `websocket`: a WebSocket peer by identity; valid across its reconnects. */
  peer?(id: string): Peer;
}

/** Where an HTTP listener binds, and its certificate and key (PEM) for HTTPS. */
export interface HttpAddress {
  /** Interface address (default `127.0.0.1`). */
  hostname?: string;
  /** Port (0 picks a free one). */
  port?: number;
  /** Serve HTTPS with this certificate chain and private key (PEM text). */
  tls?: { cert: string; key: string };
  /**
   * Share the port with other listeners that set it too (`SO_REUSEPORT`: on Linux the kernel
   * spreads connections among them); needs `--unstable-net`.
   */
  reusePort?: boolean;
}

/** Default cap on open connections per HTTP listener. */
export const DEFAULT_MAX_HTTP_CONNECTIONS = 10_000;
/** Default time a new connection has to send its first request's headers. */
export const DEFAULT_HEADER_TIMEOUT_MS = 10_000;
/** Default time a kept-alive connection may idle before its next request's headers. */
export const DEFAULT_IDLE_TIMEOUT_MS = 30_000;
/** Connections over the limit answered 503 at once; more are closed unanswered. */
const MAX_REFUSING = 64;
/** How long a connection over the limit has to send the request it is refused. */
const REFUSE_WAIT_MS = 1000;

type ServeOnConnection = (
  conn: Deno.Conn,
  signal: AbortSignal,
  handler: (request: Request, info: Deno.ServeHandlerInfo) => Response | Promise<Response>,
  onError: (error: unknown) => Response | Promise<Response>,
  onListen: () => void,
) => { finished: Promise<void>; shutdown(): Promise<void> };

const internal = (Deno as unknown as Record<symbol, Record<string, unknown> | undefined>)[
  (Deno as unknown as { internal: symbol }).internal
];
const serveOnConnection = internal?.serveHttpOnConnection as ServeOnConnection | undefined;

/** One served connection and when it last had no request in progress. */
interface Served {
  active: number;
  /** The sweep count when it last had no request in progress. */
  idleSince: number;
  served: boolean;
  stop: AbortController;
  /** Header timeout of this connection (shorter for refused ones). */
  headerTimeout: number;
}

/**
 * The app behind the check a socket's requests need before any app sees them: a Host header
 * (a `Request` made in code has none, so the runtime-free app cannot insist on it).
 */
/** What serves a connection's requests. */
type Handle = (request: Request, env: ListenerEnv) => Response | Promise<Response>;

function withHostCheck(app: HttpApp): Handle {
  return (request, env) => {
    const problem = hostProblem(request);
    if (problem === undefined) return app.fetch(request, env);
    env.answered?.();
    return errorResponse(
      request,
      400,
      { ...errorShape("InvalidRequest", `Invalid Request: ${problem}`), name: "BadRequest" },
      { connection: "close" },
    );
  };
}

/** Serves a router over HTTP (HTTPS with `listen.tls`). */
export function serveHttp(
  router: Router,
  listen: HttpAddress,
  options: HttpOptions = {},
): Promise<HttpListener> {
  const app = createHttpApp(router, options);
  const ws = options.websocket ? new WebSocketUpgrades(router, options) : undefined;
  // Deno 2.9 cannot hand over a connection upgraded under serveHttpOnConnection (the socket
  // closes with the connection's HTTP loop): a WebSocket listener is served by Deno.serve.
  if (ws) return serveWithDenoServe(app, listen, ws);
  if (!serveOnConnection) {
    router.logger.warn(
      "http: this Deno cannot serve single connections; HTTP connection limits and header " +
        "timeouts are off",
    );
    return serveWithDenoServe(app, listen);
  }
  try {
    return Promise.resolve(serveConnections(app, listen, options, serveOnConnection, router));
  } catch (error) {
    return Promise.reject(error);
  }
}

function serveConnections(
  app: HttpApp,
  listen: HttpAddress,
  options: HttpListenerOptions,
  serveOn: ServeOnConnection,
  router: Router,
): HttpListener {
  const maxConnections = options.maxConnections ?? DEFAULT_MAX_HTTP_CONNECTIONS;
  const headerTimeout = options.headerTimeout ?? DEFAULT_HEADER_TIMEOUT_MS;
  const idleTimeout = options.idleTimeout ?? DEFAULT_IDLE_TIMEOUT_MS;
  const hostname = listen.hostname ?? "127.0.0.1";
  const port = listen.port ?? 8080;
  // Only set when asked: the option needs --unstable-net.
  const reuse = listen.reusePort ? { reusePort: true } : {};
  const listener: Deno.Listener = listen.tls
    ? Deno.listenTls({ hostname, port, cert: listen.tls.cert, key: listen.tls.key, ...reuse })
    : Deno.listen({ hostname, port, ...reuse });
  const addr = listener.addr as Deno.NetAddr;
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  const url = `${listen.tls ? "https" : "http"}://${host}:${addr.port}`;
  // Where the adapter composes what only Deno can do ahead of the runtime-free app (a
  // WebSocket upgrade route, with Deno.upgradeWebSocket) goes around `checked`.
  const checked = withHostCheck(app);
  const open = new Map<Served, Promise<void>>();
  const shutdowns = new Map<Served, () => Promise<void>>();
  let refusing = 0;

  const failed = (error: unknown): Response => {
    router.logger.error(`http transport: ${error instanceof Error ? error.stack : error}`);
    return new Response("internal error\n", { status: 500 });
  };

  // Connections are stamped with the count of sweeps, not the time (a clock read per
  // request is not free): one is closed between its timeout and one sweep more.
  const sweepEvery = Math.min(1000, Math.max(50, Math.min(headerTimeout, idleTimeout) / 4));
  let sweeps = 0;

  const serve = (conn: Deno.Conn, handle: Handle, timeout: number) => {
    const served: Served = {
      active: 0,
      idleSince: sweeps,
      served: false,
      stop: new AbortController(),
      headerTimeout: timeout,
    };
    const done = () => {
      if (--served.active === 0) served.idleSince = sweeps;
    };
    // The app calls `done` once per request, when it made the response (so no promise per
    // request here); it answers its own failures, so `handle` does not throw.
    const env = new ConnectionEnv(conn, url, done);
    const server = serveOn(
      conn,
      served.stop.signal,
      (request) => {
        served.active++;
        served.served = true;
        return handle(request, env);
      },
      failed,
      () => {},
    );
    const finished = server.finished.catch(() => {}).then(() => {
      open.delete(served);
      shutdowns.delete(served);
    });
    open.set(served, finished);
    shutdowns.set(served, () => server.shutdown());
    return finished;
  };

  // Connections over the limit are told so in HTTP (503, in the request's protocol).
  const refuse: Handle = (request, env) => {
    env.answered?.();
    return errorResponse(
      request,
      503,
      errorShape(
        "Overloaded",
        `server has too many connections (limit ${maxConnections}); retry later`,
      ),
      { connection: "close", "retry-after": "1" },
    );
  };

  const loop = acceptLoop(listener, (conn) => {
    try {
      if (!listen.tls) (conn as Deno.TcpConn).setNoDelay(true);
    } catch {
      // not every connection supports it
    }
    // Refused connections are open too, but do not count toward the limit.
    if (open.size - refusing < maxConnections) {
      serve(conn, checked, headerTimeout);
      return;
    }
    if (refusing >= MAX_REFUSING) {
      try {
        conn.close();
      } catch {
        // closed already
      }
      return;
    }
    refusing++;
    serve(conn, refuse, REFUSE_WAIT_MS).then(() => refusing--);
  }, (message) => router.logger.warn(`http: ${message}`));

  // One sweep a second (or more often, for short timeouts) closes connections that sent no
  // complete request in time: new ones after the header timeout, kept-alive ones after the
  // idle timeout.
  const sweeper = setInterval(() => {
    sweeps++;
    for (const served of open.keys()) {
      if (served.active !== 0 || served.stop.signal.aborted) continue;
      const limit = served.served ? idleTimeout : served.headerTimeout;
      // Stamped at sweep n: idle for at least (sweeps - n - 1) intervals.
      if ((sweeps - served.idleSince - 1) * sweepEvery >= limit) served.stop.abort();
    }
  }, sweepEvery);
  Deno.unrefTimer(sweeper);

  const { promise: finished, resolve: finish } = Promise.withResolvers<void>();
  let stopping: Promise<void> | undefined;
  const shutdown = async () => {
    await loop.close();
    clearInterval(sweeper);
    app.close?.();
    // Every connection finishes the requests it has, then closes.
    await Promise.all([...shutdowns.values()].map((stop) => stop().catch(() => {})));
    await Promise.all([...open.values()]);
    finish();
  };
  return {
    hostname: addr.hostname,
    port: addr.port,
    url,
    shutdown: () => stopping ??= shutdown(),
    finished,
    connections: () => open.size,
  };
}

/** The fallback: `Deno.serve`, with none of the connection limits. */
function serveWithDenoServe(
  app: HttpApp,
  listen: HttpAddress,
  ws?: WebSocketUpgrades,
): Promise<HttpListener> {
  const handle = withHostCheck(app);
  return new Promise((resolve, reject) => {
    try {
      let url = "";
      const server = Deno.serve(
        {
          hostname: listen.hostname ?? "127.0.0.1",
          port: listen.port ?? 8080,
          ...(listen.reusePort ? { reusePort: true } : {}),
          ...(listen.tls ? { cert: listen.tls.cert, key: listen.tls.key } : {}),
          onListen: () => {},
        },
        (request, info) => {
          const env = { remoteAddr: info.remoteAddr as Deno.NetAddr, listener: url };
          if (ws && isWebSocketUpgrade(request)) return ws.upgrade(request, env);
          return handle(request, env);
        },
      );
      const addr = server.addr as Deno.NetAddr;
      const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
      url = `${listen.tls ? "https" : "http"}://${host}:${addr.port}`;
      resolve({
        hostname: addr.hostname,
        port: addr.port,
        url,
        shutdown: async () => {
          await ws?.shutdown();
          app.close?.();
          await server.shutdown();
        },
        finished: server.finished,
        connections: () => 0,
        ...(ws
          ? { peers: () => ws.server.peers.list(), peer: (id: string) => ws.server.peers.peer(id) }
          : {}),
      });
    } catch (error) {
      reject(error);
    }
  });
}
