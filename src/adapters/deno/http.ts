/**
 * Deno's HTTP server (`Deno.serve`) as a Switchboard HTTP listener: the runtime-free app of
 * `src/server/http.ts` served on a socket, HTTPS when given a certificate.
 *
 * @module
 */

import type { Router } from "../../core/router/router.ts";
import { createHttpApp, type HttpOptions } from "../../server/http.ts";

/**
 * What the app learns about a request besides the request: the client's address (read
 * only when asked: Deno builds a new object for it on every read) and which listener took
 * it (sessions are bound to their listener).
 */
class RequestEnv {
  readonly #info: Deno.ServeHandlerInfo;
  readonly listener: string;
  constructor(info: Deno.ServeHandlerInfo, listener: string) {
    this.#info = info;
    this.listener = listener;
  }
  get remoteAddr(): Deno.NetAddr {
    return this.#info.remoteAddr as Deno.NetAddr;
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
}

/** Where an HTTP listener binds, and its certificate and key (PEM) for HTTPS. */
export interface HttpAddress {
  /** Interface address (default `127.0.0.1`). */
  hostname?: string;
  /** Port (0 picks a free one). */
  port?: number;
  /** Serve HTTPS with this certificate chain and private key (PEM text). */
  tls?: { cert: string; key: string };
}

/** Serves a router over HTTP (HTTPS with `listen.tls`) with `Deno.serve`. */
export function serveHttp(
  router: Router,
  listen: HttpAddress,
  options: HttpOptions = {},
): Promise<HttpListener> {
  const app = createHttpApp(router, options);
  return new Promise((resolve, reject) => {
    try {
      let url = "";
      const server = Deno.serve(
        {
          hostname: listen.hostname ?? "127.0.0.1",
          port: listen.port ?? 8080,
          ...(listen.tls ? { cert: listen.tls.cert, key: listen.tls.key } : {}),
          onListen: () => {},
        },
        (request, info) => app.fetch(request, new RequestEnv(info, url)),
      );
      const addr = server.addr as Deno.NetAddr;
      const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
      url = `${listen.tls ? "https" : "http"}://${host}:${addr.port}`;
      resolve({
        hostname: addr.hostname,
        port: addr.port,
        url,
        shutdown: () => server.shutdown(),
        finished: server.finished,
      });
    } catch (error) {
      reject(error);
    }
  });
}
