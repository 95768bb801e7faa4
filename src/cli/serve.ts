/**
 * `switchboard serve`: load components (or the demo) and listen.
 *
 * @module
 */

import { useNativeMsgpack } from "../adapters/deno/msgpack_native.ts";
import { parseCommand, parseHostPort, UsageError } from "./args.ts";
import { listenOn } from "./address.ts";
import { Server } from "../server/server.ts";
import { demoComponents } from "../demo/mod.ts";
import { COMPONENT_OPTIONS_HELP, ComponentArgsError, parseComponentArgs } from "../host/args.ts";
import { loadComponents, type PlacedComponents } from "../host/placement.ts";
import { stopSignal } from "../adapters/deno/stop_signal.ts";
import type { Implementation } from "../core/implement.ts";
import { runDeployedProcess } from "../deploy/process.ts";
import { observability, OBSERVE_OPTIONS, OBSERVE_OPTIONS_HELP } from "./observe_flags.ts";
import { CORS_OPTIONS, CORS_OPTIONS_HELP, corsFromFlags } from "./cors_flags.ts";
import { instrument } from "../observe/instrument.ts";
import type { TcpListener } from "../server/tcp.ts";
import type { AmqpListener } from "../server/amqp.ts";

export const SERVE_HELP = `Usage: switchboard serve [options]

Serves components over JSON-RPC and XML-RPC (HTTP) and msgpack-rpc (TCP). With no
--component, serves the built-in demo (Calculator, Echo).

Options:
${COMPONENT_OPTIONS_HELP}
  --http HOST:PORT    HTTP listener (default 127.0.0.1:8080; "off" to disable)
  --tcp HOST:PORT     msgpack-rpc TCP listener (default 127.0.0.1:8081; "off" to disable)
  --websocket         also serve JSON-RPC over WebSocket on the HTTP listener (ws://,
                      wss://); such a listener has no --max-connections, --header-timeout
                      or --idle-timeout for its HTTP connections (see docs/websocket.md)
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

/** Runs `serve` until SIGINT/SIGTERM. */
export async function serveCommand(args: string[]): Promise<number> {
  let componentArgs;
  try {
    componentArgs = parseComponentArgs(args);
  } catch (error) {
    if (error instanceof ComponentArgsError) {
      throw new UsageError(`switchboard serve: ${error.message} (see --help)`);
    }
    throw error;
  }
  const { values, positionals } = parseCommand("serve", componentArgs.rest, {
    http: { type: "string", default: "127.0.0.1:8080" },
    tcp: { type: "string", default: "127.0.0.1:8081" },
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
    help: { type: "boolean", short: "h" },
    deployed: { type: "string" },
    ...OBSERVE_OPTIONS,
    ...CORS_OPTIONS,
  });
  if (values.help) {
    console.log(SERVE_HELP);
    return 0;
  }
  // A server decodes faster with msgpackr's native add-on, where it may load it.
  await useNativeMsgpack();
  if (values.deployed !== undefined) {
    // The deployment file says where its metrics go; the other flags came from deploy.
    return await runDeployedProcess(
      values.deployed,
      (address) => observability({ ...values, metrics: false, "metrics-listen": address }),
    );
  }
  if (positionals.length) {
    throw new UsageError(`switchboard serve: unexpected argument ${positionals[0]} (see --help)`);
  }
  const maxBody = positive(values, "max-body", "bytes");
  const maxCalls = positive(values, "max-calls", "calls");
  const maxConnections = positive(values, "max-connections", "connections");
  const maxBatch = positive(values, "max-batch", "members");
  const maxResponseBytes = positive(values, "max-response", "bytes");
  const headerTimeout = positive(values, "header-timeout", "milliseconds");
  const idleTimeout = positive(values, "idle-timeout", "milliseconds");
  const bodyTimeout = positive(values, "body-timeout", "milliseconds");
  const cors = corsFromFlags(values);
  const http = parseHostPort("http", values.http!);
  const tcp = parseHostPort("tcp", values.tcp!);
  const prefetch = values.prefetch === undefined ? undefined : Number(values.prefetch);
  if (prefetch !== undefined && !(Number.isInteger(prefetch) && prefetch > 0)) {
    throw new UsageError(`--prefetch: expected a positive number of calls`);
  }

  const tls = await readTls(values["tls-cert"], values["tls-key"]);
  const observe = observability(values);
  const server = new Server({
    debug: values.debug,
    logger: observe.instruments.log,
    maxInFlight: maxCalls,
  });
  instrument(server.router, observe.instruments);
  let impls: Implementation[] = demoComponents;
  let placed: PlacedComponents | undefined;
  if (componentArgs.specs.length) {
    placed = await loadComponents(componentArgs.specs, {
      client: () => server.router.client,
      debug: values.debug,
    });
    for (const line of placed.report) console.log(line);
    impls = placed.implementations;
  }
  server.register(...impls);
  if (!http && !tcp && !values.amqp?.length) {
    throw new UsageError("switchboard serve: every listener is off; nothing to serve");
  }
  const tcpListeners: TcpListener[] = [], amqpListeners: AmqpListener[] = [];
  try {
    if (http) {
      const listener = await listenOn(
        "http",
        http,
        () =>
          server.listenHttp({ ...http, tls }, {
            maxBodyBytes: maxBody,
            maxBatch,
            maxResponseBytes,
            maxConnections,
            headerTimeout,
            idleTimeout,
            bodyTimeout,
            cors,
            websocket: values.websocket,
            explorer: observe.explorer,
            get: observe.routes,
          }),
      );
      console.log(
        `listening on ${listener.url} (JSON-RPC and XML-RPC: POST /, /rpc, /RPC2${
          values.websocket ? `; JSON-RPC over WebSocket: ${listener.url.replace("http", "ws")}` : ""
        })`,
      );
    }
    if (tcp) {
      const listener = await listenOn(
        "tcp",
        tcp,
        () => server.listenTcp({ ...tcp, tls }, { maxConnections }),
      );
      tcpListeners.push(listener);
      console.log(`listening on ${listener.url} (msgpack-rpc)`);
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
    console.log(`consuming ${listener.queues.join(", ")} from ${listener.url}`);
  }
  const metricsListener = observe.start(
    () => [
      ...tcpListeners.map((l) => ({ transport: "tcp", count: () => l.connections() })),
      ...amqpListeners.map((l) => ({ transport: "amqp", count: () => l.connected ? 1 : 0 })),
    ],
    () =>
      placed?.components.flatMap((c) =>
        c.worker ? [{ url: c.url, restarts: c.worker.restarts }] : []
      ) ?? [],
  );
  if (metricsListener) console.log(`metrics at ${metricsListener.url}/metrics`);
  console.log(`serving ${impls.map((i) => i.interface.name).join(", ")}`);

  await stopSignal();
  await server.close();
  await placed?.close();
  await observe.close();
  return 0;
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
