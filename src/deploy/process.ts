/**
 * One process of a deployment, as `switchboard serve --deployed NAME` runs it: load its
 * components, route `ctx.client` through a {@linkcode MultiClient}, guard every internal
 * listener with the deployment's secret (challenge–response, on TCP and HTTP alike),
 * serve the public front when it has one, answer its supervisor's pings, fail calls to
 * processes the supervisor reports unresponsive at once (see `liveness_gate.ts`), and
 * drain in-flight calls on SIGTERM/SIGINT.
 *
 * @module
 */

import { AuthGate } from "../auth/gate.ts";
import { httpAuthenticator } from "../auth/http.ts";
import { sharedSecretBackend, sharedSecretCredentials } from "../auth/shared_secret.ts";
import { MultiClient } from "../client/multi.ts";
import type { Client } from "../core/client/client.ts";
import "../adapters/deno/all_transports.ts";
import { loadComponents } from "../host/placement.ts";
import { stopSignal } from "../adapters/deno/stop_signal.ts";
import type { InterfaceDef } from "../core/idl/interface.ts";
import type { Implementation } from "../core/implement.ts";
import { Server } from "../adapters/deno/server.ts";
import { READY_MARKER } from "./env.ts";
import { receiveHandoff } from "./handoff.ts";
import { EXIT_CONFIG } from "./restart.ts";
import { frontImplementations } from "./front.ts";
import { ackLine, parseMessage, pongLine, type SupervisorMessage } from "./liveness.ts";
import { LivenessGate } from "./liveness_gate.ts";
import { loadPlaced } from "./load.ts";
import type { ListenSpec, Plan, ProcessPlan } from "./plan.ts";
import { type ConnectionSource, instrument, type Instruments } from "../observe/instrument.ts";
import type { TcpListener } from "../adapters/deno/tcp_listener.ts";

/** What a deployed process observes (the `serve` flags its supervisor passed on). */
export interface ProcessObservability {
  /** Metrics, access log and tracing to install on its routers. */
  readonly instruments: Instruments;
  /** Resolves once tracing can export (Switchboard's own exporter loads lazily). */
  ready?(): Promise<void>;
  /** Starts the metrics listener, if any, and the host's gauges; returns its URL. */
  start(
    sources: () => ConnectionSource[],
    workers: () => { url: string; restarts: number }[],
  ): { url: string } | undefined;
  /** Flushes the log, stops the metrics listener. */
  close(): Promise<void>;
}

/** Makes the observability of a process, given where it serves metrics (`host:port`). */
export type ObservabilityFactory = (metricsAddress?: string) => ProcessObservability;

/** A running deployed process. */
export interface DeployedProcess {
  /** The process's own server (its components, internal listeners). */
  readonly server: Server;
  /** The front's server, when the process hosts a front. */
  readonly front?: Server;
  /** The client its handlers and its front use (routed by the plan, gated by liveness). */
  readonly client: Client;
  /** Where it listens, as URLs (internal first, then front). */
  readonly urls: { listen: string[]; front: string[] };
  /** Stops the front, then the process, letting in-flight calls finish. */
  close(): Promise<void>;
}

async function listen(
  server: Server,
  spec: ListenSpec,
  guard: { gate?: AuthGate },
  tcp: TcpListener[],
  reusePort = false,
): Promise<string> {
  const tls = spec.tls
    ? { cert: await Deno.readTextFile(spec.tls.cert), key: await Deno.readTextFile(spec.tls.key) }
    : undefined;
  const address = {
    hostname: spec.hostname,
    port: spec.port,
    ...(tls ? { tls } : {}),
    ...(reusePort ? { reusePort } : {}),
  };
  switch (spec.protocol) {
    case "http": {
      const authenticate = guard.gate ? httpAuthenticator({ gate: guard.gate }) : undefined;
      return (await server.listenHttp(address, authenticate ? { authenticate } : {})).url;
    }
    case "tcp": {
      const listener = await server.listenTcp(address, guard.gate ? { auth: guard.gate } : {});
      tcp.push(listener);
      return listener.url;
    }
    case "amqp":
      // The broker authenticates AMQP callers (credentials in the URL), not the secret.
      return (await server.listenAmqp(spec.url!, spec.prefix ? { prefix: spec.prefix } : {})).url;
  }
}

/**
 * Starts the named process of a plan: loads, registers, listens; `observe` instruments
 * its routers (the front's metrics are labelled `scope="front"`); `liveness` holds what the
 * supervisor says of the other processes' liveness; `reusePort` shares the listeners' ports
 * with the process's other worker isolates (`"workers"`), and `place` says how this isolate
 * registers the components' implementations (those marked `once` in one of them only).
 */
export async function startProcess(
  plan: Plan,
  name: string,
  secret: string,
  observe?: ProcessObservability,
  liveness: LivenessGate = new LivenessGate(),
  reusePort = false,
  place: (impls: Implementation[]) => Implementation[] = (impls) => impls,
): Promise<DeployedProcess> {
  const me: ProcessPlan | undefined = plan.processes.find((p) => p.name === name);
  if (!me) throw new Error(`the plan has no process ${JSON.stringify(name)}`);
  await observe?.ready?.();
  const server = new Server(observe?.instruments.log ? { logger: observe.instruments.log } : {});
  if (observe) instrument(server.router, observe.instruments);
  const routing = new MultiClient({
    local: server.router,
    caller: { id: name, roles: [] },
    routes: plan.routes,
    ...(plan.balance ? { strategies: plan.balance } : {}),
    connect: { auth: sharedSecretCredentials(secret, name) },
    wrap: (transport, route) => liveness.wrap(transport, route),
  });
  const client: Client = routing;
  server.router.client = client;
  const placed = await loadComponents(
    me.components.map((url) => ({ url, isolate: me.placement, permissions: me.permissions })),
    { client: () => client },
  );
  const loaded = placed.implementations;
  for (const line of placed.report) console.log(line);
  server.register(...place(loaded));

  let front: Server | undefined;
  const urls = { listen: [] as string[], front: [] as string[] };
  const tcp: TcpListener[] = [];
  try {
    // No lockout after failed logins: nobody guesses a fresh 256-bit secret, and a
    // lockout per address would let any local program shut the processes out of each other.
    const gate = new AuthGate([sharedSecretBackend(secret)], { maxFailures: Infinity });
    for (const spec of me.listen) {
      urls.listen.push(await listen(server, spec, { gate }, tcp, reusePort));
    }
    if (me.front.length) {
      front = new Server(observe?.instruments.log ? { logger: observe.instruments.log } : {});
      if (observe) instrument(front.router, observe.instruments, "front");
      front.register(...frontImplementations(await publicInterfaces(plan, loaded), client));
      for (const spec of me.front) urls.front.push(await listen(front, spec, {}, tcp, reusePort));
    }
    const metrics = observe?.start(
      () => tcp.map((l) => ({ transport: "tcp", count: () => l.connections() })),
      () =>
        placed.components.flatMap((c) =>
          c.worker ? [{ url: c.url, restarts: c.worker.restarts }] : []
        ),
    );
    if (metrics) console.log(`${name}: metrics at ${metrics.url}/metrics`);
  } catch (error) {
    await front?.close();
    await server.close();
    await client.close();
    await placed.close();
    throw error;
  }
  return {
    server,
    front,
    client,
    urls,
    async close() {
      await front?.close();
      await server.close();
      await client.close();
      await placed.close();
    },
  };
}

/**
 * The definitions of the deployment's public interfaces. Those served elsewhere are
 * learnt by loading their module as its own process does (in a worker with that
 * process's permissions, when it is placed in one); the front never runs their handlers.
 */
async function publicInterfaces(plan: Plan, local: Implementation[]): Promise<InterfaceDef[]> {
  const found: InterfaceDef[] = [];
  const loaded = new Map<string, Implementation[]>();
  for (const [iface, { process, module }] of Object.entries(plan.publicInterfaces)) {
    let def = local.find((i) => i.interface.name === iface)?.interface;
    if (!def) {
      const owner = plan.processes.find((p) => p.name === process);
      if (!loaded.has(module)) {
        loaded.set(
          module,
          await loadPlaced(new URL(module), {
            placement: owner?.placement ?? "inline",
            permissions: owner?.permissions,
          }),
        );
      }
      def = loaded.get(module)!.find((i) => i.interface.name === iface)?.interface;
    }
    if (!def) throw new Error(`front: ${module} no longer exports ${iface}`);
    found.push(def);
  }
  return found;
}

/** The line that tells the supervisor the process serves (and what, and where). */
export function readyLine(name: string, running: DeployedProcess): string {
  const served = running.server.router.interfaces().map((i) => i.name)
    .filter((n) => n !== "system" && n !== "rpc");
  return `${READY_MARKER} ${name}: ${
    served.length ? `serving ${served.join(", ")}` : "front only"
  }${running.urls.listen.length ? `; listening on ${running.urls.listen.join(", ")}` : ""}${
    running.urls.front.length ? `; front on ${running.urls.front.join(", ")}` : ""
  }`;
}

/** How a process with `"workers": N` (N > 1) runs: in N isolates (src/cli/serve_workers.ts). */
export interface DeployedWorkers {
  /** Why isolates cannot share ports here, or undefined when they can. */
  refusal(): string | undefined;
  /**
   * Serves the process in `count` isolates until SIGTERM/SIGINT or `parentGone`; `relay`
   * is handed what the supervisor says of the other processes. Returns the exit code.
   */
  run(options: {
    plan: Plan;
    name: string;
    secret: string;
    count: number;
    parentGone: Promise<void>;
    relay: (forward: (message: SupervisorMessage) => void) => void;
  }): Promise<number>;
}

/**
 * Runs the named process with the plan and secret its supervisor wrote on stdin, until
 * SIGTERM/SIGINT or until the supervisor is gone (end of stdin); returns the exit code.
 */
export async function runDeployedProcess(
  name: string,
  observability?: ObservabilityFactory,
  workers?: DeployedWorkers,
): Promise<number> {
  if (Deno.stdin.isTerminal()) {
    throw new Error(
      "serve --deployed is started by switchboard deploy, which writes the plan and secret on its stdin",
    );
  }
  const liveness = new LivenessGate();
  let forward: ((message: SupervisorMessage) => void) | undefined;
  const { handoff, parentGone } = await receiveHandoff(Deno.stdin.readable, (line) => {
    const message = parseMessage(line);
    if (!message) return;
    if (!("ping" in message)) {
      forward?.(message);
      liveness.apply(message);
    }
    // Answered once applied: the supervisor waits for it before it stops a drained replica.
    const answer = "ping" in message
      ? pongLine(message.ping)
      : "drain" in message
      ? ackLine(message.ack)
      : undefined;
    if (answer === undefined) return;
    try {
      console.log(answer);
    } catch {
      // stdout went with the supervisor: its pipe's end says so too
    }
  });
  let running: DeployedProcess;
  const me = handoff.plan.processes.find((p) => p.name === name);
  const count = me?.workers === "auto"
    ? Math.max(1, navigator.hardwareConcurrency || 1)
    : me?.workers ?? 1;
  if (count > 1 && workers) {
    const refusal = workers.refusal();
    if (refusal === undefined) {
      return await workers.run({
        plan: handoff.plan,
        name,
        secret: handoff.secret,
        count,
        parentGone,
        relay: (to) => forward = to,
      });
    }
    console.error(`${name}: "workers": ${count}: ${refusal}; serving with one worker`);
  }
  const metrics = me?.metrics;
  const observe = observability?.(
    metrics &&
      `${
        metrics.hostname.includes(":") ? `[${metrics.hostname}]` : metrics.hostname
      }:${metrics.port}`,
  );
  try {
    running = await startProcess(handoff.plan, name, handoff.secret, observe, liveness);
  } catch (error) {
    await observe?.close();
    if (
      !(error instanceof Deno.errors.AddrInUse || error instanceof Deno.errors.AddrNotAvailable)
    ) {
      throw error;
    }
    // A restart cannot free an address another program holds: say so once and stop.
    console.error(`${name}: cannot listen: ${error.message}; another program holds the address`);
    return EXIT_CONFIG;
  }
  // Listen for the stop signal before saying "ready": the supervisor may stop us at once.
  const stopped = stopSignal();
  console.log(readyLine(name, running));
  await Promise.race([
    stopped,
    parentGone.then(() => {
      try {
        console.log("the supervisor is gone (its pipe closed): finishing in-flight calls");
      } catch {
        // stdout went with the supervisor: drain all the same
      }
    }),
  ]);
  await running.close();
  await observe?.close();
  return 0;
}
