/**
 * The module a worker isolate of `serve --workers N` runs: the whole server (router,
 * components, listeners bound with `SO_REUSEPORT`), its log lines and `/metrics`/`/healthz`
 * handed to the main isolate (serve_workers.ts). `deno compile` embeds it (scripts/compile.ts).
 *
 * @module
 */

import { dynamicImport } from "../host/load/dynamic_import.ts";
import { useNativeMsgpack } from "../adapters/deno/msgpack_native.ts";
import { connectedPeer, parseServe, type Serving, startServing } from "./serve.ts";
import { observability, type SharedObserve } from "./observe_flags.ts";
import { readyLine, startProcess } from "../deploy/process.ts";
import { LivenessGate } from "../deploy/liveness_gate.ts";
import type { FromWorker, PeerCall, ToWorker } from "./serve_worker_protocol.ts";
import { FORWARDED_PROTOCOL, type ForwardedCall, type OnceIo, placeOnce } from "./serve_once.ts";
import type { Outcome, PeerLike } from "../core/context.ts";
import { errorShape, RpcError } from "../core/errors.ts";
import { Peer, type PeerLink } from "../core/client/peer.ts";
import type { TopicDelivery } from "../server/tcp.ts";

/** How long a `/metrics` or `/healthz` waits for the main isolate. */
const ASK_TIMEOUT_MS = 10_000;

const scope = self as unknown as {
  postMessage(message: FromWorker): void;
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
  close(): void;
};
const post = (message: FromWorker) => scope.postMessage(message);

/** This worker's share of the server's log, metrics and health. */
const shared: SharedObserve = {
  // The batch is a view of a buffer reused once this returns: post a copy of it alone.
  sink: (bytes) => post({ t: "log", bytes: bytes.slice() }),
  metrics: () => ask("metrics"),
  health: () => ask("health"),
};

let starting: Promise<Serving | undefined> | undefined;
/** This worker's delivery to its own subscribers, once its TCP listener is up. */
let deliverHere: TopicDelivery | undefined;
const asks = new Map<number, (response: Response) => void>();
let nextAsk = 1;

/** `once` calls handed to the first worker, by id, with their calling peer. */
const forwards = new Map<number, { resolve: (outcome: Outcome) => void; peer?: PeerLike }>();
let nextForward = 1;

function forward(call: ForwardedCall, peer?: PeerLike): Promise<Outcome> {
  const id = nextForward++;
  return new Promise((resolve) => {
    forwards.set(id, { resolve, peer });
    post({ t: "call", id, call });
  });
}

/** (First worker) calls back the peers of forwarded calls, in the workers that hold them. */
const peerCalls = new Map<number, (outcome: Outcome) => void>();
let nextPeerCall = 1;

/**
 * The peer of forwarded call `forwardId` from worker `from`, as the `once` implementation
 * here sees it: its calls go through the main isolate to that worker (while the call runs,
 * over the connection it came on; later, wherever a connection of that peer id is), so that
 * a handle kept after the call ended still reaches the peer.
 */
function forwardedPeer(forwardId: number, from: number, id: string): Peer {
  const link = peerLink(forwardId, from, id);
  return new Peer(id, () => link);
}

/**
 * Calls to peer `id` through the main isolate: to worker `from` first (over forwarded call
 * `forwardId`'s connection while it runs there; 0: none), then to whichever holds the id.
 */
function peerLink(forwardId: number, from: number, id: string): PeerLink {
  const send = (callId: number, call: PeerCall) =>
    post({ t: "peer-call", id: callId, worker: from, forward: forwardId, peer: id, call });
  return {
    call: (method, params) =>
      new Promise<Outcome>((resolve) => {
        const callId = nextPeerCall++;
        peerCalls.set(callId, resolve);
        send(callId, { method, params });
      }),
    notify: (method, params) => send(0, { method, params, notify: true }),
  };
}

/** Calls a peer of this worker back for the first worker; answers its outcome, or absent. */
async function callPeer(message: Extract<ToWorker, { t: "peer-call" }>): Promise<void> {
  const running = message.forward === undefined ? undefined : forwards.get(message.forward);
  const peer = running?.peer ?? (await starting)?.peer(message.peer);
  if (!peer) return post({ t: "peer-absent", id: message.id });
  const { method, params, notify } = message.call;
  let outcome: Outcome;
  try {
    if (notify) {
      await peer.notify(method, params);
      outcome = { ok: true, value: null };
    } else {
      outcome = { ok: true, value: await peer.call(method, params) };
    }
  } catch (error) {
    outcome = {
      ok: false,
      error: error instanceof RpcError
        ? error.toShape()
        : errorShape("InternalError", error instanceof Error ? error.message : String(error)),
    };
  }
  post({ t: "peer-answer", id: message.id, outcome });
}

/** How worker `index` places the implementations marked `once` (the first serves them). */
function onceIo(index: number): OnceIo {
  return { owner: index === 0, forward, elsewhere: (id) => peerLink(0, index, id) };
}

function ask(what: "metrics" | "health"): Promise<Response> {
  const id = nextAsk++;
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      asks.delete(id);
      resolve(new Response("the main isolate did not answer\n", { status: 503 }));
    }, ASK_TIMEOUT_MS);
    asks.set(id, (response) => {
      clearTimeout(timer);
      resolve(response);
    });
    post({ t: "ask", id, what });
  });
}

/** What the supervisor said of the other processes (a deployed process's worker). */
const liveness = new LivenessGate();

async function startDeployed(
  message: Extract<ToWorker, { t: "deploy" }>,
): Promise<Serving | undefined> {
  try {
    if (message.library) await dynamicImport(message.library);
    await useNativeMsgpack();
    const plan = parseServe(message.args);
    if (!plan) throw new Error("no plan to serve");
    const metrics = message.plan.processes.find((p) => p.name === message.name)?.metrics;
    const observe = observability({
      ...plan.values,
      metrics: false,
      "metrics-listen": metrics && `${metrics.hostname}:${metrics.port}`,
    }, shared);
    const running = await startProcess(
      message.plan,
      message.name,
      message.secret,
      observe,
      liveness,
      true,
      (impls) => placeOnce(impls, onceIo(message.index)),
    );
    if (message.announce) post({ t: "say", line: readyLine(message.name, running) });
    post({ t: "ready", ports: {} });
    return {
      dispatch: (call) => running.server.router.dispatch(call),
      peer: (id) => connectedPeer(running.server, id),
      metricsText: () => observe.instruments.metrics?.text() ?? Promise.resolve(""),
      async close() {
        await running.close();
        await observe.close();
      },
    };
  } catch (error) {
    fail(error);
    return undefined;
  }
}

function fail(error: unknown): void {
  const { name, message: text } = error instanceof Error
    ? error
    : { name: "Error", message: String(error) };
  post({ t: "failed", name, message: text });
}

async function start(message: Extract<ToWorker, { t: "start" }>): Promise<Serving | undefined> {
  try {
    // Before any component loads: it provides Switchboard to them, as main.ts does here.
    if (message.library) await dynamicImport(message.library);
    await useNativeMsgpack();
    const plan = parseServe(message.args);
    if (!plan) throw new Error("no plan to serve");
    const serving = await startServing(plan, {
      reusePort: true,
      once: onceIo(message.index),
      ports: message.ports,
      say: message.announce ? (line) => post({ t: "say", line }) : () => {},
      shared,
      topicRelay: (deliver) => {
        deliverHere = deliver;
        return (topic, method, params, caller) => {
          try {
            post({ t: "publish", call: { topic, method, params, caller } });
          } catch (error) {
            // A value only this isolate can hold (none the wire decodes): tell, deliver here.
            console.error(
              `switchboard serve: a call published to ${topic} stays in this worker: ${
                error instanceof Error ? error.message : error
              }`,
            );
          }
        };
      },
    });
    post({ t: "ready", ports: { http: serving.httpPort, tcp: serving.tcpPort } });
    return serving;
  } catch (error) {
    fail(error);
    return undefined;
  }
}

scope.onmessage = async ({ data: message }) => {
  switch (message.t) {
    case "start":
      starting ??= start(message);
      return;
    case "deploy":
      starting ??= startDeployed(message);
      return;
    case "liveness":
      return liveness.apply(message.message);
    case "forward": {
      const serving = await starting;
      const { peer, ...call } = message.call;
      const outcome: Outcome = serving
        ? await serving.dispatch({
          ...call,
          protocol: FORWARDED_PROTOCOL,
          ...(peer !== undefined ? { peer: forwardedPeer(message.id, message.from, peer) } : {}),
        })
        : { ok: false, error: errorShape("Unavailable", "the serving worker did not start") };
      return post({ t: "outcome", id: message.id, outcome });
    }
    case "answer": {
      const pending = forwards.get(message.id);
      forwards.delete(message.id);
      return pending?.resolve(message.outcome);
    }
    case "peer-call":
      return callPeer(message);
    case "peer-answer": {
      const resolve = peerCalls.get(message.id);
      peerCalls.delete(message.id);
      return resolve?.(message.outcome);
    }
    case "ping":
      return post({ t: "pong" });
    case "deliver": {
      const { topic, method, params, caller } = message.call;
      return deliverHere?.(topic, method, params, caller);
    }
    case "collect": {
      const serving = await starting;
      return post({ t: "collected", id: message.id, text: (await serving?.metricsText()) ?? "" });
    }
    case "reply": {
      const resolve = asks.get(message.id);
      asks.delete(message.id);
      return resolve?.(
        new Response(message.body, {
          status: message.status,
          headers: { "content-type": message.type },
        }),
      );
    }
    case "stop": {
      const serving = await starting;
      await serving?.close();
      post({ t: "stopped" });
      return scope.close();
    }
  }
};
