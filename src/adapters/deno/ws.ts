/**
 * WebSocket upgrades on a Deno HTTP listener: a `GET` (at any path) carrying
 * `Upgrade: websocket` becomes a JSON-RPC peer connection served by `src/server/ws.ts`,
 * once that has admitted it (origin, connection limit, credentials).
 *
 * @module
 */

import type { Router } from "../../core/router/router.ts";
import type { HttpAppOptions } from "../../server/http.ts";
import { type WebSocketOptions, WebSocketServer } from "../../server/ws.ts";
import { CorsPolicy } from "../../server/cors.ts";

/** Whether a request asks to become a WebSocket. */
export function isWebSocketUpgrade(request: Request): boolean {
  return request.method === "GET" &&
    request.headers.get("upgrade")?.toLowerCase() === "websocket";
}

/** What the WebSocket side takes from a listener's options. */
export type WebSocketUpgradeOptions = Pick<HttpAppOptions, "authenticate" | "expose" | "cors"> & {
  websocket?: WebSocketOptions | boolean;
};

/** The WebSocket side of one HTTP listener. */
export class WebSocketUpgrades {
  readonly server: WebSocketServer;

  constructor(router: Router, options: WebSocketUpgradeOptions) {
    this.server = new WebSocketServer(
      router,
      typeof options.websocket === "object" ? options.websocket : {},
      {
        authenticate: options.authenticate,
        expose: options.expose,
        cors: options.cors ? new CorsPolicy(options.cors) : undefined,
      },
    );
  }

  /** Answers an upgrade request: the 101 that opens the socket, or the refusal. */
  async upgrade(
    request: Request,
    env: { remoteAddr?: Deno.NetAddr; listener?: string },
  ): Promise<Response> {
    const addr = env.remoteAddr;
    const remote = addr ? `${addr.hostname}:${addr.port}` : "unknown";
    const admitted = await this.server.admit(request, remote, env.listener);
    if (admitted instanceof Response) return admitted;
    let upgraded;
    try {
      upgraded = Deno.upgradeWebSocket(request);
    } catch (error) {
      return new Response(`bad WebSocket upgrade: ${(error as Error).message}\n`, {
        status: 400,
      });
    }
    this.server.accept(upgraded.socket, admitted);
    return upgraded.response;
  }

  /** Closes every WebSocket connection, letting running calls finish first. */
  shutdown(): Promise<void> {
    return this.server.shutdown();
  }
}
