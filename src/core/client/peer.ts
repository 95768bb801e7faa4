/**
 * A connected peer as a client: the server calls what a peer registered through the same
 * `Client` API (`call`, `notify`, typed `proxy`), addressed by the peer's identity. The
 * handle stays valid across reconnects: each call goes over the peer's current connection.
 *
 * @module
 */

import type { Outcome, PeerLike, TraceCarrier } from "../context.ts";
import { rpcError } from "../errors.ts";
import { Client } from "./client.ts";
import { unsent } from "./unsent.ts";
import type { OutgoingCall, Transport } from "./transport.ts";
import type { Fields } from "../idl/types.ts";

/** The connection a peer is reached over right now (a TCP session). */
export interface PeerLink {
  /** Calls a method on the peer. */
  call(
    method: string,
    params: unknown,
    options: { deadline?: number; signal?: AbortSignal; trace?: TraceCarrier; declared?: Fields },
  ): Promise<Outcome>;
  /** Sends a notification to the peer. */
  notify(method: string, params: unknown): void;
}

/** Calls a peer over whatever link `resolve` returns at call time. */
class PeerTransport implements Transport {
  readonly #id: string;
  readonly #resolve: () => PeerLink | undefined;

  constructor(id: string, resolve: () => PeerLink | undefined) {
    this.#id = id;
    this.#resolve = resolve;
  }

  #link(): PeerLink {
    const link = this.#resolve();
    // Marked unsent: nothing left, so a caller may try the peer elsewhere (another worker).
    if (!link) throw unsent(rpcError("Unavailable", `peer ${this.#id} is not connected`));
    return link;
  }

  /** Calls travel as msgpack-rpc over the peer's connection. */
  rpcSystem(): string {
    return "msgpack-rpc";
  }

  call(request: OutgoingCall): Promise<Outcome> {
    try {
      return this.#link().call(request.method, request.params, request);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  notify(request: OutgoingCall): Promise<void> {
    try {
      this.#link().notify(request.method, request.params);
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * A peer that can be called back: a {@linkcode Client} with the peer's identity. Calls to a
 * peer that is not connected fail at once with `Unavailable`.
 *
 * @example Call a method a connected client registered
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect, defineInterface, implement, method, t } from "@switchboard/rpc";
 * import { Server } from "@switchboard/rpc/server";
 *
 * const Greeter = defineInterface("Greeter", {
 *   greet: method({ params: { name: t.string }, result: t.string }),
 * });
 * const server = new Server();
 * const tcp = await server.listenTcp({ port: 0 });
 * const client = connect(tcp.url, { id: "alice" });
 * client.register(implement(Greeter, { greet: ({ name }) => `hi ${name}, from alice` }));
 * await client.call("system.listMethods"); // connected (and introduced) by now
 * const alice = tcp.peer("alice");
 * assert.equal(await alice.proxy(Greeter).greet({ name: "server" }), "hi server, from alice");
 * await client.close();
 * await server.close();
 * ```
 */
export class Peer extends Client implements PeerLike {
  /** The peer's identity (client-chosen, or the authenticated caller's id). */
  readonly id: string;

  /** `resolve` returns the peer's current link, or undefined while it is disconnected. */
  constructor(id: string, resolve: () => PeerLink | undefined, options: { timeout?: number } = {}) {
    super(new PeerTransport(id, resolve), options);
    this.id = id;
  }
}
