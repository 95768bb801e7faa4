/**
 * The MultiClient: one client for a whole deployment. A call to `Interface.method` goes
 * straight to the local router when this process serves the interface (no
 * serialisation), and otherwise to the process the routing table names, over a
 * connection made on first use and kept for the next calls.
 *
 * @module
 */

import type { Identity, Outcome } from "../core/context.ts";
import { type ErrorShape, RpcError, rpcError } from "../core/errors.ts";
import type { Router } from "../core/router/router.ts";
import { Client, type ClientOptions } from "../core/client/client.ts";
import { connect, type ConnectOptions } from "./connect.ts";
import { LocalTransport } from "../core/client/local.ts";
import type { OutgoingCall, Transport } from "../core/client/transport.ts";
import { BalancedTransport, type BalanceOptions } from "./balance/balancer.ts";
import type { BalanceStrategy } from "./balance/pick.ts";

/** One place an interface is reachable. */
export interface RouteTarget {
  /** What to connect to (`tcp://host:port`, `http://host:port`, …). */
  url: string;
  /** The serving process, for error messages. */
  process?: string;
  /** Protocol family (informative; the URL's scheme decides). */
  protocol?: string;
  /** Connect options of this route (e.g. an AMQP `prefix`), over the client's own. */
  options?: Record<string, unknown>;
}

/**
 * Interface name → where it is reachable, preferred first. Targets of one `process` are
 * alternatives (its listeners); targets of several processes are replicas, and calls are
 * balanced over them.
 */
export type RouteMap = Readonly<Record<string, readonly RouteTarget[]>>;

/** Options of a {@linkcode MultiClient}. */
export interface MultiClientOptions extends ClientOptions {
  /** Interfaces registered on this router are called in-process. */
  local?: Router;
  /** The identity in-process calls carry (remote calls prove theirs with `connect.auth`). */
  caller?: Identity;
  /** The routing table. */
  routes?: RouteMap;
  /** Options of every remote connection (e.g. `auth` credentials). */
  connect?: ConnectOptions;
  /** How calls are spread over the replicas of an interface (see `BalancedTransport`). */
  balance?: BalanceOptions;
  /** Interface → its own strategy, over `balance.balance` (a deployment's `"balance"`). */
  strategies?: Readonly<Record<string, BalanceStrategy>>;
  /**
   * Wraps each remote connection as it is made (a deployed process fails calls to processes
   * its supervisor reports down); `available` false keeps a replica out of the balancing.
   */
  wrap?: (transport: Transport, route: RouteTarget) => Transport & { available?: () => boolean };
}

type Target =
  | { local: true }
  | { local: false; route: RouteTarget; replicas?: BalancedTransport }
  | { ok: false; error: ErrorShape };

/** Routes each call to the local router or to a remote transport. */
class RoutingTransport implements Transport {
  readonly #local?: LocalTransport;
  readonly #router?: Router;
  readonly #routes: RouteMap;
  readonly #connect: ConnectOptions;
  readonly #remotes = new Map<string, Transport>();
  /** Interface → the balancer over its replicas (interfaces served by several processes). */
  readonly #balancers = new Map<string, BalancedTransport>();
  readonly #balance: BalanceOptions;
  readonly #strategies: Readonly<Record<string, BalanceStrategy>>;
  readonly #wrap: NonNullable<MultiClientOptions["wrap"]>;
  #closed = false;

  constructor(options: MultiClientOptions) {
    this.#router = options.local;
    if (options.local) this.#local = new LocalTransport(options.local, options.caller);
    this.#routes = options.routes ?? {};
    this.#connect = options.connect ?? {};
    this.#balance = options.balance ?? {};
    this.#strategies = options.strategies ?? {};
    this.#wrap = options.wrap ?? ((transport) => transport);
  }

  /** A connection to `route` (not yet dialled), wrapped; throws TypeError for unknown schemes. */
  #dial(route: RouteTarget) {
    // Timeouts are the Client's job (it races them); the inner client adds none.
    const inner = connect(route.url, { ...this.#connect, ...route.options, timeout: 0 }).transport;
    return this.#wrap(inner, route);
  }

  #isLocal(iface: string): boolean {
    return this.#router?.interfaces().some((i) => i.name === iface) ?? false;
  }

  /** The transport a method goes to, or an outcome explaining why there is none. */
  target(method: string): Target {
    const dot = method.lastIndexOf(".");
    const iface = dot > 0 ? method.slice(0, dot) : method;
    if (this.#local && (this.#isLocal(iface) || dot < 0)) return { local: true };
    const routes = this.#routes[iface] ?? [];
    if (routes.length === 0) {
      return {
        ok: false,
        error: rpcError(
          "MethodNotFound",
          `Method not found: ${method} (no process of this deployment serves ${iface}; known: ${
            Object.keys(this.#routes).join(", ") || "none"
          })`,
        ).toShape(),
      };
    }
    const replicas = this.#balancers.get(iface);
    if (replicas) return { local: false, route: routes[0], replicas };
    const processes = new Map<string, RouteTarget[]>();
    for (const r of routes) {
      const key = r.process ?? r.url;
      processes.set(key, [...processes.get(key) ?? [], r]);
    }
    if (processes.size > 1 && !this.#closed) {
      const balanced = this.#replicas(iface, [...processes.values()]);
      if (balanced) return { local: false, route: routes[0], replicas: balanced };
    }
    // The first route this build can dial (a client may lack, say, the AMQP transport).
    const route = routes.find((r) => this.#remote(r) !== undefined) ?? routes[0];
    return { local: false, route };
  }

  /**
   * A balancer over the processes serving `iface` (each reached by its first route this
   * build can dial), with connections of its own; undefined when fewer than two can be.
   */
  #replicas(iface: string, processes: RouteTarget[][]): BalancedTransport | undefined {
    const replicas = [];
    for (const alternatives of processes) {
      for (const route of alternatives) {
        try {
          const transport = this.#dial(route);
          const name = route.process ? `${route.process} at ${route.url}` : route.url;
          replicas.push({ name, transport, available: transport.available });
          break;
        } catch (error) {
          if (!(error instanceof TypeError)) throw error;
        }
      }
    }
    if (replicas.length < 2) {
      for (const r of replicas) r.transport.close().catch(() => {});
      return undefined;
    }
    const strategy = Object.hasOwn(this.#strategies, iface) ? this.#strategies[iface] : undefined;
    const balanced = new BalancedTransport(
      replicas,
      strategy ? { ...this.#balance, balance: strategy } : this.#balance,
    );
    this.#balancers.set(iface, balanced);
    return balanced;
  }

  /**
   * The connection to a route, made (not yet dialled: transports connect on first call)
   * when first asked for; undefined when no transport of this build speaks its scheme.
   */
  #remote(route: RouteTarget): Transport | undefined {
    let transport = this.#remotes.get(route.url);
    if (!transport && !this.#closed) {
      try {
        transport = this.#dial(route);
      } catch (error) {
        if (error instanceof TypeError) return undefined;
        throw error;
      }
      this.#remotes.set(route.url, transport);
    }
    return transport;
  }

  /** Forgets a failed connection so the next call dials again (e.g. after a restart). */
  #forget(route: RouteTarget, transport: Transport | undefined): void {
    if (!transport) return;
    if (this.#remotes.get(route.url) === transport) this.#remotes.delete(route.url);
    transport.close().catch(() => {});
  }

  async #viaRemote<T>(
    method: string,
    route: RouteTarget,
    send: (t: Transport) => Promise<T>,
  ): Promise<T> {
    let transport: Transport | undefined;
    try {
      if (this.#closed) throw new Error("the client is closed");
      transport = this.#remote(route);
      if (!transport) throw new Error(`this program has no client transport for ${route.url}`);
      return await send(transport);
    } catch (error) {
      if (error instanceof RpcError && error.name !== "Unavailable") throw error;
      this.#forget(route, transport);
      const reason = error instanceof Error ? error.message : String(error);
      throw rpcError(
        "Unavailable",
        `${method}: ${
          route.process ? `process ${route.process} at ` : ""
        }${route.url} is unavailable: ${reason}`,
      );
    }
  }

  /** Remote calls go as their route's transport sends them; local ones get no client span. */
  rpcSystem(method: string): string | undefined {
    const target = this.target(method);
    if ("ok" in target || target.local) return undefined;
    if (target.replicas) return target.replicas.rpcSystem(method);
    try {
      return this.#remote(target.route)?.rpcSystem?.(method);
    } catch {
      return undefined; // the call itself reports why the route cannot be dialled
    }
  }

  call(request: OutgoingCall): Promise<Outcome> {
    const target = this.target(request.method);
    if ("ok" in target) return Promise.resolve(target);
    if (target.local) return this.#local!.call(request);
    if (target.replicas) return target.replicas.call(request);
    return this.#viaRemote(request.method, target.route, (t) => t.call(request));
  }

  notify(request: OutgoingCall): Promise<void> {
    const target = this.target(request.method);
    if ("ok" in target) return Promise.reject(RpcError.fromShape(target.error));
    if (target.local) return this.#local!.notify(request);
    if (target.replicas) return target.replicas.notify(request);
    return this.#viaRemote(request.method, target.route, (t) => t.notify(request));
  }

  async close(): Promise<void> {
    this.#closed = true;
    const all = [...this.#remotes.values(), ...this.#balancers.values()];
    this.#remotes.clear();
    this.#balancers.clear();
    await Promise.all(all.map((t) => t.close().catch(() => {})));
  }
}

/**
 * A client that calls each interface wherever it lives: in-process when the local
 * router serves it, otherwise remotely by the routing table. Set it as `router.client`
 * and handlers' `ctx.client.proxy(Other)` reaches `Other` in any process.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defineInterface, implement, method, t } from "@switchboard/rpc";
 * import { MultiClient } from "@switchboard/rpc/deploy";
 * import { Router } from "@switchboard/rpc/server";
 *
 * const Echo = defineInterface("Echo", {
 *   echo: method({ params: { text: t.string }, result: t.string }),
 * });
 * const router = new Router();
 * router.register(implement(Echo, { echo: ({ text }) => text }));
 * const client = new MultiClient({ local: router, routes: {} });
 * assert.equal(await client.proxy(Echo).echo({ text: "hi" }), "hi");
 * await assert.rejects(client.call("Elsewhere.ping"), { name: "MethodNotFound" });
 * await client.close();
 * ```
 */
export class MultiClient extends Client {
  readonly #routing: RoutingTransport;

  /** Creates the client; remote connections are opened on first use. */
  constructor(options: MultiClientOptions = {}) {
    const routing = new RoutingTransport(options);
    super(routing, options);
    this.#routing = routing;
  }

  /**
   * Where a method's calls go: `"local"`, a route (the first, for replicated interfaces), or
   * undefined when nothing serves it.
   */
  routeOf(method: string): "local" | RouteTarget | undefined {
    const target = this.#routing.target(method);
    if ("ok" in target) return undefined;
    return target.local ? "local" : target.route;
  }
}
