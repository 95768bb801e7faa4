/**
 * `switchboard serve`: load components (or the demo) and listen.
 *
 * @module
 */

import { useNativeMsgpack } from "../adapters/deno/msgpack_native.ts";
import { parseCommand, parseHostPort, UsageError } from "./args.ts";
import { listenOn } from "./address.ts";
import { Server } from "../adapters/deno/server.ts";
import { demoComponents } from "../demo/mod.ts";
import {
  COMPONENT_OPTIONS_HELP,
  ComponentArgsError,
  parseComponentArgs,
} from "./component_args.ts";
import { loadComponents, type PlacedComponents } from "../host/placement.ts";
import { stopSignal } from "../adapters/deno/stop_signal.ts";
import type { Implementation } from "../core/implement.ts";
import { runDeployedProcess } from "../deploy/process.ts";
import { observability, OBSERVE_OPTIONS, OBSERVE_OPTIONS_HELP } from "./observe_flags.ts";
import { CORS_OPTIONS, CORS_OPTIONS_HELP, corsFromFlags } from "./cors_flags.ts";
import { instrument } from "../observe/instrument.ts";
import type { TcpListener } from "../adapters/deno/tcp_listener.ts";
import type { HttpListener } from "../adapters/deno/http.ts";
import type { TcpOptions } from "../server/tcp.ts";
import type { AmqpListener } from "../server/amqp.ts";
import { reusePortRefusal } from "../adapters/deno/reuse_port.ts";
import type { SharedObserve } from "./observe_flags.ts";
import { deployedWorkers, serveWorkers } from "./serve_workers.ts";
import { type OnceIo, placeOnce } from "./serve_once.ts";
import type { Call, Outcome, PeerLike } from "../core/context.ts";

export const SERVE_HELP = `Usage: switchboard serve [options]

Serves components over JSON-RPC and XML-RPC (HTTP) and msgpack-rpc (TCP). With no
--component, serves the built-in demo (Calculator, Echo).

Options:
${COMPONENT_OPTIONS_HELP}
  --http HOST:PORT    HTTP listener (default 127.0.0.1:8080; "off" to disable)
  --tcp HOST:PORT     msgpack-rpc TCP listener (default 127.0.0.1:8081; "off" to disable)
  --workers N|auto    serve with N isolates of one process (auto: one per core; default 1),
                      every one binding the same ports (SO_REUSEPORT, Linux); component
                      state is per worker
  --websocket         also serve JSON-RPC over WebSocket on the HTTP listener (ws://,
                      wss://); such a listener has no --max-connections, --header-timeout
                      or --idle-timeout for its HTTP connections (see docs/websocket.md)
  --events            also serve publish–subscribe over server-sent events at
                      GET /events?topic=… on the HTTP listener (see docs/http.md)
  --tls-cert FILE     serve HTTPS (and msgpack-rpc over TLS) with this PEM certificate chain
  --tls-key FILE      ... and this PEM private key (both or neither)
  --max-body BYTES    largest accepted request body (default 1048576; more: 413)
  --max-calls N       calls in flight at once, every listener together (default 10000);
                      more are refused Overloaded (-32004), over HTTP with 503
  --max-connections N open connections per listener (default 10000); more get 503 (HTTP)
                      or Overloaded (TCP) and are closed
  --max-batch N       calls in one JSON-RPC batch or XML-RPC system.multicall (default 1000)
  --max-response BYTES
                      the answer to one batch or multicall (default 8388608); a request
                      whose answer would be larger is refused (-32600)
  --header-timeout MS time a new HTTP connection has to send its request headers
                      (default 10000); then it is closed
  --idle-timeout MS   time a kept-alive HTTP connection may idle (default 30000)
  --body-timeout MS   time a request body may take to arrive (default 30000); then 408
${CORS_OPTIONS_HELP}
  --amqp URL          also consume calls from RabbitMQ (amqp://user:pass@host/vhost), one of
                      any number of competing workers; repeatable
  --prefetch N        AMQP calls this worker holds at once, per queue (default 32)
${OBSERVE_OPTIONS_HELP}
  --debug             send internal error details to callers
  --deployed NAME     run process NAME of a deployment (started by "switchboard deploy")
  -h, --help          this help
`;

/** What `serve`'s flags asked for, checked. */
export interface ServePlan {
  /** The flags as given (a worker isolate parses them again). */
  args: string[];
  /** Worker isolates asked for (`--workers`). */
  workers: number;
  /** The deployment process to run (`--deployed`), if any. */
  deployed?: string;
  values: ServeValues;
  specs: ReturnType<typeof parseComponentArgs>["specs"];
  http?: { hostname: string; port: number };
  tcp?: { hostname: string; port: number };
}

type ServeValues = ReturnType<typeof parseServeFlags>["values"];

function parseServeFlags(rest: string[]) {
  return parseCommand("serve", rest, {
    http: { type: "string", default: "127.0.0.1:8080" },
    tcp: { type: "string", default: "127.0.0.1:8081" },
    workers: { type: "string", default: "1" },
    "max-body": { type: "string" },
    "max-calls": { type: "string" },
    "max-connections": { type: "string" },
    "max-batch": { type: "string" },
    "max-response": { type: "string" },
    "header-timeout": { type: "string" },
    "idle-timeout": { type: "string" },
    "body-timeout": { type: "string" },
    "tls-cert": { type: "string" },
    "tls-key": { type: "string" },
    amqp: { type: "string", multiple: true },
    prefetch: { type: "string" },
    debug: { type: "boolean", default: false },
    websocket: { type: "boolean", default: false },
    events: { type: "boolean", default: false },
    help: { type: "boolean", short: "h" },
    deployed: { type: "string" },
    ...OBSERVE_OPTIONS,
    ...CORS_OPTIONS,
  });
}

/** Parses and checks `serve`'s flags; undefined for `--help`. */
export function parseServe(args: string[]): ServePlan | undefined {
  let componentArgs;
  try {
    componentArgs = parseComponentArgs(args);
  } catch (error) {
    if (error instanceof ComponentArgsError) {
      throw new UsageError(`switchboard serve: ${error.message} (see --help)`);
    }
    throw error;
  }
  const { values, positionals } = parseServeFlags(componentArgs.rest);
  if (values.help) return undefined;
  const workers = parseWorkers(values.workers!);
  if (values.deployed !== undefined) {
    return { args, workers, deployed: values.deployed, values, specs: componentArgs.specs };
  }
  if (positionals.length) {
    throw new UsageError(`switchboard serve: unexpected argument ${positionals[0]} (see --help)`);
  }
  // Checked here too, so that a bad flag fails before any worker starts.
  positive(values, "max-body", "bytes");
  positive(values, "max-calls", "calls");
  positive(values, "max-connections", "connections");
  positive(values, "max-batch", "members");
  for (const flag of ["header-timeout", "idle-timeout", "body-timeout"] as const) {
    positive(values, flag, "milliseconds");
  }
  corsFromFlags(values);
  const prefetch = values.prefetch === undefined ? undefined : Number(values.prefetch);
  if (prefetch !== undefined && !(Number.isInteger(prefetch) && prefetch > 0)) {
    throw new UsageError(`--prefetch: expected a positive number of calls`);
  }
  const http = parseHostPort("http", values.http!);
  const tcp = parseHostPort("tcp", values.tcp!);
  if (!http && !tcp && !values.amqp?.length) {
    throw new UsageError("switchboard serve: every listener is off; nothing to serve");
  }
  return { args, workers, values, specs: componentArgs.specs, http, tcp };
}

/** `--workers N|auto`: a positive count, `auto` being the machine's cores. */
function parseWorkers(text: string): number {
  if (text === "auto") return Math.max(1, navigator.hardwareConcurrency || 1);
  const n = Number(text);
  if (!(Number.isInteger(n) && n > 0)) {
    throw new UsageError(`--workers: expected a positive number of workers or "auto"`);
  }
  return n;
}

/** Runs `serve` until SIGINT/SIGTERM. */
export async function serveCommand(args: string[]): Promise<number> {
  const plan = parseServe(args);
  if (!plan) {
    console.log(SERVE_HELP);
    return 0;
  }
  // A server decodes faster with msgpackr's native add-on, where it may load it.
  await useNativeMsgpack();
  if (plan.deployed !== undefined) {
    // The deployment file says where its metrics go; the other flags came from deploy.
    return await runDeployedProcess(
      plan.deployed,
      (address) => observability({ ...plan.values, metrics: false, "metrics-listen": address }),
      deployedWorkers(args),
    );
  }
  if (plan.workers > 1) {
    const refusal = reusePortRefusal();
    if (refusal === undefined) return await serveWorkers(plan);
    console.error(`--workers ${plan.workers}: ${refusal}; serving with one worker`);
  }
  const serving = await startServing(plan);
  await stopSignal();
  await serving.close();
  return 0;
}

/** How a worker isolate's serving differs from a process's own (see serve_workers.ts). */
export interface ServeIo {
  /** Bind with `SO_REUSEPORT`, sharing the ports with the other workers. */
  reusePort?: boolean;
  /** Ports to bind instead of the flags' (the ones the first worker bound). */
  ports?: { http?: number; tcp?: number };
  /** Where the startup lines go (default stdout). */
  say?: (line: string) => void;
  /** Access log, `/metrics` and `/healthz` shared with the other workers. */
  shared?: SharedObserve;
  /** Joins the server's publish–subscribe (TCP and WebSocket peers) to the other workers'. */
  topicRelay?: TcpOptions["topicRelay"];
  /**
   * Implementations marked `once`: served here when `owner`, else by stand-ins that hand
   * their calls to `forward` (see serve_once.ts).
   */
  once?: OnceIo;
}

/** A server started by {@linkcode startServing}. */
export interface Serving {
  /** The bound HTTP port, if any. */
  httpPort?: number;
  /** The bound TCP port, if any. */
  tcpPort?: number;
  /** Dispatches a call to this server's router (a `once` call from another worker). */
  dispatch(call: Call): Promise<Outcome>;
  /** A peer connected here (over TCP, having said its id), or undefined. */
  peer(id: string): PeerLike | undefined;
  /** This isolate's metrics as Prometheus text (empty without metrics). */
  metricsText(): Promise<string>;
  /** Drains every listener, then stops components and flushes the log. */
  close(): Promise<void>;
}

/** Loads the components and opens the listeners of `plan`. */
export async function startServing(plan: ServePlan, io: ServeIo = {}): Promise<Serving> {
  const { values } = plan;
  const say = io.say ?? ((line: string) => console.log(line));
  const maxBody = positive(values, "max-body", "bytes");
  const maxCalls = positive(values, "max-calls", "calls");
  const maxConnections = positive(values, "max-connections", "connections");
  const maxBatch = positive(values, "max-batch", "members");
  const maxResponseBytes = positive(values, "max-response", "bytes");
  const headerTimeout = positive(values, "header-timeout", "milliseconds");
  const idleTimeout = positive(values, "idle-timeout", "milliseconds");
  const bodyTimeout = positive(values, "body-timeout", "milliseconds");
  const cors = corsFromFlags(values);
  const reusePort = io.reusePort;
  const http = plan.http && { ...plan.http, port: io.ports?.http ?? plan.http.port };
  const tcp = plan.tcp && { ...plan.tcp, port: io.ports?.tcp ?? plan.tcp.port };
  const prefetch = values.prefetch === undefined ? undefined : Number(values.prefetch);

  const tls = await readTls(values["tls-cert"], values["tls-key"]);
  const observe = observability(values, io.shared);
  await observe.ready();
  const server = new Server({
    debug: values.debug,
    logger: observe.instruments.log,
    maxInFlight: maxCalls,
    // On the server, not its TCP listener: WebSocket peers publish and subscribe too.
    ...(io.topicRelay ? { topicRelay: io.topicRelay } : {}),
  });
  instrument(server.router, observe.instruments);
  let impls: Implementation[] = demoComponents;
  let placed: PlacedComponents | undefined;
  if (plan.specs.length) {
    placed = await loadComponents(plan.specs, {
      client: () => server.router.client,
      debug: values.debug,
    });
    for (const line of placed.report) say(line);
    impls = placed.implementations;
  }
  const once = io.once;
  server.register(...(once ? placeOnce(impls, once) : impls));
  const tcpListeners: TcpListener[] = [], amqpListeners: AmqpListener[] = [];
  let httpListener: HttpListener | undefined;
  let httpPort: number | undefined, tcpPort: number | undefined;
  try {
    if (http) {
      const listener = await listenOn(
        "http",
        http,
        () =>
          server.listenHttp({ ...http, tls, reusePort }, {
            maxBodyBytes: maxBody,
            maxBatch,
            maxResponseBytes,
            maxConnections,
            headerTimeout,
            idleTimeout,
            bodyTimeout,
            cors,
            websocket: values.websocket,
            events: values.events,
            explorer: observe.explorer,
            get: observe.routes,
          }),
      );
      httpListener = listener;
      httpPort = listener.port;
      say(
        `listening on ${listener.url} (JSON-RPC and XML-RPC: POST /, /rpc, /RPC2${
          values.websocket ? `; JSON-RPC over WebSocket: ${listener.url.replace("http", "ws")}` : ""
        }${values.events ? "; events: GET /events?topic=…" : ""})`,
      );
    }
    if (tcp) {
      const listener = await listenOn(
        "tcp",
        tcp,
        () => server.listenTcp({ ...tcp, tls, reusePort }, { maxConnections }),
      );
      tcpListeners.push(listener);
      tcpPort = listener.port;
      say(`listening on ${listener.url} (msgpack-rpc)`);
    }
  } catch (error) {
    // Close what did open (the other listener, worker components) before reporting.
    await server.close();
    await placed?.close();
    await observe.close();
    throw error;
  }
  for (const url of values.amqp ?? []) {
    const listener = await server.listenAmqp(url, { prefetch });
    amqpListeners.push(listener);
    say(`consuming ${listener.queues.join(", ")} from ${listener.url}`);
  }
  const metricsListener = observe.start(
    () => [
      ...(httpListener ? [{ transport: "http", count: () => httpListener!.connections() }] : []),
      ...tcpListeners.map((l) => ({ transport: "tcp", count: () => l.connections() })),
      ...amqpListeners.map((l) => ({ transport: "amqp", count: () => l.connected ? 1 : 0 })),
    ],
    () =>
      placed?.components.flatMap((c) =>
        c.worker ? [{ url: c.url, restarts: c.worker.restarts }] : []
      ) ?? [],
  );
  if (metricsListener) say(`metrics at ${metricsListener.url}/metrics`);
  say(`serving ${impls.map((i) => i.interface.name).join(", ")}`);
  return {
    httpPort,
    tcpPort,
    dispatch: (call) => server.router.dispatch(call),
    peer: (id) => connectedPeer(server, id),
    metricsText: () => observe.instruments.metrics?.text() ?? Promise.resolve(""),
    async close() {
      await server.close();
      await placed?.close();
      await observe.close();
    },
  };
}

/** Peer `id` of `server`'s TCP listeners, when it is connected now. */
export function connectedPeer(server: Server, id: string): PeerLike | undefined {
  return server.peers().some((p) => p.id === id) ? server.peer(id) : undefined;
}

/** The certificate and key of `--tls-cert`/`--tls-key` (both or neither), read as PEM. */
async function readTls(
  certFile: string | undefined,
  keyFile: string | undefined,
): Promise<{ cert: string; key: string } | undefined> {
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined || keyFile === undefined) {
    throw new UsageError("switchboard serve: --tls-cert and --tls-key go together");
  }
  const read = async (flag: string, file: string) => {
    try {
      return await Deno.readTextFile(file);
    } catch (error) {
      throw new UsageError(
        `switchboard serve: ${flag} ${file}: ${error instanceof Error ? error.message : error}`,
      );
    }
  };
  return { cert: await read("--tls-cert", certFile), key: await read("--tls-key", keyFile) };
}

/** A flag's value as a positive integer, or undefined when absent. */
function positive(
  values: Record<string, unknown>,
  flag: string,
  unit: string,
): number | undefined {
  const raw = values[flag];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!(Number.isInteger(n) && n > 0)) {
    throw new UsageError(`--${flag}: expected a positive number of ${unit}`);
  }
  return n;
}
