/**
 * `serve --workers N`: N isolates of one process, each a whole server (router, components,
 * listeners) bound to the same ports with `SO_REUSEPORT`, so the kernel spreads connections
 * among them. This main isolate serves nothing itself: it starts the workers, writes the
 * access-log lines they send (whole, one writer), answers `/metrics` (every worker's figures
 * added up, and some per worker) and `/healthz` (healthy when every worker is), restarts a
 * worker that dies or stops answering, and drains them all on SIGINT/SIGTERM.
 *
 * @module
 */

import { ListenError } from "./address.ts";
import { parseHostPort, UsageError } from "./args.ts";
import type { FromWorker, PeerCall, ToWorker, WorkerPorts } from "./serve_worker_protocol.ts";
import type { Outcome } from "../core/context.ts";
import type { ForwardedCall } from "./serve_once.ts";
import { errorShape } from "../core/errors.ts";
import { stopSignal } from "../adapters/deno/stop_signal.ts";
import { reusePortRefusal } from "../adapters/deno/reuse_port.ts";
import { libraryModule } from "../host/load/library.ts";
import type { DeployedWorkers } from "../deploy/process.ts";
import { EXIT_CONFIG } from "../deploy/restart.ts";
import { processProbe, serveMetrics, stdoutWriter } from "../adapters/deno/observe_io.ts";
import { Metrics } from "../observe/metrics.ts";
import { CONTENT_TYPE } from "../observe/exposition.ts";
import { familyTotal, labelTotals, mergeExpositions } from "../observe/merge_exposition.ts";

/** What `serve` parsed that its workers need (src/cli/serve.ts's `ServePlan` is one). */
export interface WorkersPlan {
  /** The flags as given: each worker isolate parses them again. */
  args: string[];
  /** How many worker isolates. */
  workers: number;
  /** The flags `serve` read; the main isolate serves `--metrics-listen` itself. */
  values: { readonly "metrics-listen"?: string };
}

/** A worker that has not answered a ping for this long is replaced. */
const HANG_MS = 15_000;
const PING_MS = 1_000;
/** A worker that has not answered a ping for this long makes `/healthz` unhealthy. */
const UNHEALTHY_MS = 3 * PING_MS;
/** How long a scrape waits for a worker's figures. */
const COLLECT_MS = 5_000;
/** Restart delays double from the first up to the last while a worker keeps dying. */
const RESTART_FIRST_MS = 200;
const RESTART_MAX_MS = 5_000;
/** A worker running this long has recovered: its next death restarts it at once again. */
const STABLE_MS = 30_000;

/** What each worker imports first, so that the components it loads get Switchboard too. */
function library(): { library?: string } {
  const module = libraryModule();
  return module ? { library: module } : {};
}

/** Runs `plan` in `plan.workers` worker isolates until SIGINT/SIGTERM. */
export async function serveWorkers(plan: WorkersPlan): Promise<number> {
  const stdout = stdoutWriter((lines) =>
    console.error(`access log: ${lines} line(s) dropped while stdout was not being read`)
  );
  const pool = new WorkerPool(
    plan.workers,
    (index, ports, announce) => ({
      t: "start",
      args: plan.args,
      index,
      ports,
      announce,
      ...library(),
    }),
    (bytes) => stdout.sink(bytes),
  );
  const lines = await pool.start();
  const metricsAddress = plan.values["metrics-listen"] === undefined
    ? undefined
    : parseHostPort("metrics-listen", plan.values["metrics-listen"]);
  const metricsListener = await orStop(
    pool,
    () =>
      metricsAddress
        ? serveMetrics(metricsAddress, () => pool.metricsResponse(stdout.droppedLines))
        : undefined,
  );
  pool.droppedLines = () => stdout.droppedLines;
  // The first worker's startup lines, "serving …" last as without workers (tests and
  // scripts wait for it), once every worker listens.
  const serving = lines.filter((line) => line.startsWith("serving "));
  for (const line of lines.filter((line) => !line.startsWith("serving "))) console.log(line);
  if (metricsListener) console.log(`metrics at ${metricsListener.url}/metrics`);
  console.log(`${plan.workers} workers share these ports (SO_REUSEPORT)`);
  for (const line of serving) console.log(line);

  await stopSignal();
  await pool.stop();
  await metricsListener?.shutdown();
  await stdout.flush(2000);
  return 0;
}

/**
 * How a deployed process with `"workers": N` runs (see `runDeployedProcess`): N isolates,
 * each the whole process on the same ports; this isolate answers the supervisor's pings,
 * hands its news of the other processes to every worker, and says "ready" once all are.
 */
export function deployedWorkers(args: string[]): DeployedWorkers {
  return {
    refusal: reusePortRefusal,
    async run({ plan, name, secret, count, parentGone, relay }) {
      const stdout = stdoutWriter((lines) =>
        console.error(`access log: ${lines} line(s) dropped while stdout was not being read`)
      );
      const pool = new WorkerPool(
        count,
        (index, _ports, announce) => ({
          t: "deploy",
          args,
          plan,
          name,
          secret,
          index,
          announce,
          ...library(),
        }),
        (bytes) => stdout.sink(bytes),
      );
      let lines: string[];
      try {
        lines = await pool.start();
      } catch (error) {
        await stdout.flush(2000);
        if (!(error instanceof Error && /^Addr(InUse|NotAvailable)$/.test(error.name))) throw error;
        // A restart cannot free an address another program holds: say so once and stop.
        console.error(
          `${name}: cannot listen: ${error.message}; another program holds the address`,
        );
        return EXIT_CONFIG;
      }
      relay((message) => pool.broadcast({ t: "liveness", message }));
      pool.droppedLines = () => stdout.droppedLines;
      const address = plan.processes.find((p) => p.name === name)?.metrics;
      const metricsListener = await orStop(
        pool,
        () =>
          address
            ? serveMetrics(address, () => pool.metricsResponse(stdout.droppedLines))
            : undefined,
      );
      if (metricsListener) console.log(`${name}: metrics at ${metricsListener.url}/metrics`);
      // Listen for the stop signal before saying "ready": the supervisor may stop us at once.
      const stopped = stopSignal();
      console.log(`${name}: ${count} workers share these ports (SO_REUSEPORT)`);
      for (const line of lines) console.log(line);
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
      await pool.stop();
      await metricsListener?.shutdown();
      await stdout.flush(2000);
      return 0;
    },
  };
}

/** Runs `open`; if it throws, the workers are stopped before the error goes on. */
async function orStop<T>(pool: WorkerPool, open: () => T): Promise<T> {
  try {
    return open();
  } catch (error) {
    await pool.stop();
    throw error;
  }
}

/** A call of the first worker back to a peer, while the workers are asked for it. */
interface PendingPeerCall {
  /** The first worker, and its id of the call (0: a notification). */
  owner: Worker;
  id: number;
  peer: string;
  call: PeerCall;
  /** Workers still to ask, in order. */
  tries: Slot[];
  /** The worker asked now. */
  at?: Worker;
  /** The forwarded call that brought the peer, while it runs: its origin and id there. */
  via?: { origin: Worker; id: number };
}

interface Slot {
  index: number;
  worker?: Worker;
  ready: boolean;
  lastPong: number;
  startedAt: number;
  restarts: number;
  /** Consecutive quick deaths, for the restart delay. */
  failures: number;
  collects: Map<number, (text: string) => void>;
  stopped?: () => void;
}

/** The message that starts worker `index` (on `ports`, when the first worker chose them). */
type StartMessage = (index: number, ports: WorkerPorts | undefined, announce: boolean) => ToWorker;

/** The worker isolates of one server. */
class WorkerPool {
  readonly #start: StartMessage;
  readonly #log: (bytes: Uint8Array) => void;
  readonly #slots: Slot[];
  #ports: WorkerPorts = {};
  #stopping = false;
  #watchdog?: ReturnType<typeof setInterval>;
  #nextCollect = 1;
  /** `once` calls the first worker is serving for the others. */
  readonly #forwards = new Map<number, { origin: Worker; id: number; method: string }>();
  #nextForward = 1;
  /** Calls of the first worker back to peers, by this isolate's id, with where they are tried. */
  readonly #peerCalls = new Map<number, PendingPeerCall>();
  droppedLines: () => number = () => 0;

  constructor(workers: number, start: StartMessage, log: (bytes: Uint8Array) => void) {
    this.#start = start;
    this.#log = log;
    this.#slots = Array.from({ length: workers }, (_, index) => ({
      index,
      ready: false,
      lastPong: 0,
      startedAt: 0,
      restarts: 0,
      failures: 0,
      collects: new Map(),
    }));
  }

  /**
   * Starts the first worker (which binds the ports, port 0 included), then the others on
   * the ports it bound; resolves with the first one's startup lines. If any fails to
   * start, every one is stopped and the error thrown: never some of them serving.
   */
  async start(): Promise<string[]> {
    const lines: string[] = [];
    try {
      this.#ports = await this.#spawn(this.#slots[0], lines);
      await Promise.all(this.#slots.slice(1).map((slot) => this.#spawn(slot)));
    } catch (error) {
      this.#stopping = true;
      for (const slot of this.#slots) slot.worker?.terminate();
      throw error;
    }
    this.#watchdog = setInterval(() => this.#checkPulse(), PING_MS);
    return lines;
  }

  /** Starts `slot`'s worker; resolves with its bound ports once it listens. */
  #spawn(slot: Slot, lines?: string[]): Promise<WorkerPorts> {
    const worker = new Worker(new URL("./serve_worker_entry.ts", import.meta.url), {
      type: "module",
      name: `switchboard serve worker ${slot.index}`,
    });
    slot.worker = worker;
    slot.ready = false;
    slot.startedAt = Date.now();
    slot.lastPong = Date.now();
    return new Promise((resolve, reject) => {
      let started = false;
      worker.onmessage = ({ data }: MessageEvent<FromWorker>) => {
        if (slot.worker !== worker) return;
        switch (data.t) {
          case "ready":
            started = true;
            slot.ready = true;
            slot.lastPong = Date.now();
            return resolve(data.ports);
          case "failed": {
            if (started) return;
            started = true;
            worker.terminate();
            const error = data.name === "UsageError"
              ? new UsageError(data.message)
              : data.name === "ListenError"
              ? new ListenError(data.message)
              : Object.assign(new Error(data.message), { name: data.name });
            if (lines) return reject(error);
            // A restart that cannot start: try again later (the port may be free again).
            return this.#died(slot, worker, `it could not start: ${data.message}`);
          }
          case "log":
            return this.#log(data.bytes);
          case "say":
            lines?.push(data.line);
            return;
          case "pong":
            slot.lastPong = Date.now();
            return;
          case "collected": {
            const done = slot.collects.get(data.id);
            slot.collects.delete(data.id);
            return done?.(data.text);
          }
          case "ask":
            return void this.#answer(worker, data.id, data.what);
          case "call":
            return this.#forward(worker, data.id, data.call);
          case "outcome": {
            const pending = this.#forwards.get(data.id);
            this.#forwards.delete(data.id);
            if (pending && this.#current(pending.origin)) {
              this.#post(pending.origin, { t: "answer", id: pending.id, outcome: data.outcome });
            }
            return;
          }
          case "peer-call":
            return this.#peerCall(worker, data);
          case "peer-answer": {
            const pending = this.#peerCalls.get(data.id);
            this.#peerCalls.delete(data.id);
            if (pending) this.#answerPeerCall(pending, data.outcome);
            return;
          }
          case "peer-absent":
            return this.#tryPeerCall(data.id);
          case "publish":
            // Every other worker's subscribers get it; the publisher's own have had it.
            for (const other of this.#slots) {
              if (other !== slot && other.ready && other.worker) {
                this.#post(other.worker, { t: "deliver", call: data.call });
              }
            }
            return;
          case "stopped":
            return slot.stopped?.();
        }
      };
      worker.onerror = (event) => {
        // The worker is gone (an uncaught error ends it); the process must not go with it.
        event.preventDefault();
        if (slot.worker !== worker) return;
        if (!started) {
          started = true;
          if (lines) {
            worker.terminate();
            return reject(new Error(`worker ${slot.index} failed to start: ${event.message}`));
          }
        }
        this.#died(slot, worker, event.message);
      };
      this.#post(
        worker,
        this.#start(
          slot.index,
          slot.index === 0 && lines ? undefined : this.#ports,
          lines !== undefined,
        ),
      );
    });
  }

  #post(worker: Worker, message: ToWorker): void {
    worker.postMessage(message);
  }

  #current(worker: Worker): boolean {
    return this.#slots.some((slot) => slot.worker === worker);
  }

  /** A `once` call from `origin`: to the first worker, or failed at once while it is down. */
  #forward(origin: Worker, id: number, call: ForwardedCall): void {
    const owner = this.#slots[0];
    if (!owner.ready || !owner.worker) {
      const error = errorShape(
        "Unavailable",
        `${call.method}: the worker serving it is restarting`,
      );
      return this.#post(origin, { t: "answer", id, outcome: { ok: false, error } });
    }
    const forwardId = this.#nextForward++;
    this.#forwards.set(forwardId, { origin, id, method: call.method });
    const from = this.#slots.find((slot) => slot.worker === origin)?.index ?? -1;
    this.#post(owner.worker, { t: "forward", id: forwardId, from, call });
  }

  /**
   * The first worker calls back a peer of a call it served for another worker: through
   * that call's connection while it runs, else through whichever worker now holds a
   * connection of that peer id, the one the call came from first.
   */
  #peerCall(owner: Worker, call: Extract<FromWorker, { t: "peer-call" }>): void {
    const running = this.#forwards.get(call.forward);
    const first = this.#slots[call.worker];
    const tries = [first, ...this.#slots.filter((slot) => slot !== first)]
      .filter((slot): slot is Slot => slot !== undefined);
    const id = this.#nextForward++;
    this.#peerCalls.set(id, {
      owner,
      id: call.id,
      peer: call.peer,
      call: call.call,
      tries,
      // The running call's own connection is the origin's, under its id there.
      ...(running && this.#current(running.origin) ? { via: running } : {}),
    });
    this.#tryPeerCall(id);
  }

  /** Asks the next worker that may hold the peer of call `id`; fails it when none is left. */
  #tryPeerCall(id: number): void {
    const pending = this.#peerCalls.get(id);
    if (!pending) return;
    for (;;) {
      const slot = pending.tries.shift();
      if (!slot) {
        this.#peerCalls.delete(id);
        const error = errorShape(
          "Unavailable",
          `peer ${pending.peer} is not connected to any worker of this server`,
        );
        return this.#answerPeerCall(pending, { ok: false, error });
      }
      if (!slot.ready || !slot.worker) continue;
      pending.at = slot.worker;
      const via = pending.via?.origin === slot.worker ? pending.via.id : undefined;
      return this.#post(slot.worker, {
        t: "peer-call",
        id,
        peer: pending.peer,
        call: pending.call,
        ...(via !== undefined ? { forward: via } : {}),
      });
    }
  }

  #answerPeerCall(pending: PendingPeerCall, outcome: Outcome): void {
    if (pending.id === 0 || !this.#current(pending.owner)) return; // a notification
    this.#post(pending.owner, { t: "peer-answer", id: pending.id, outcome });
  }

  /** The first worker is gone: the calls it was serving for the others fail. */
  #failForwards(): void {
    for (const { origin, id, method } of this.#forwards.values()) {
      if (!this.#current(origin)) continue;
      const error = errorShape("Unavailable", `${method}: the worker serving it stopped`);
      this.#post(origin, { t: "answer", id, outcome: { ok: false, error } });
    }
    this.#forwards.clear();
  }

  /** `worker` is gone: the peer calls it was asked fail (its peers' connections went with it). */
  #failPeerCalls(worker: Worker): void {
    for (const [key, pending] of this.#peerCalls) {
      if (pending.at !== worker && pending.owner !== worker) continue;
      this.#peerCalls.delete(key);
      const error = errorShape("Unavailable", "the worker of this peer stopped");
      this.#answerPeerCall(pending, { ok: false, error });
    }
  }

  /** `slot`'s worker is gone or stuck: end it, tell, and start another. */
  #died(slot: Slot, worker: Worker, reason: string): void {
    if (slot.worker !== worker) return;
    worker.terminate();
    slot.worker = undefined;
    slot.ready = false;
    for (const done of slot.collects.values()) done("");
    slot.collects.clear();
    if (slot.index === 0) this.#failForwards();
    this.#failPeerCalls(worker);
    if (this.#stopping) return slot.stopped?.();
    slot.restarts++;
    slot.failures = Date.now() - slot.startedAt > STABLE_MS ? 0 : slot.failures + 1;
    const delay = slot.failures === 0
      ? 0
      : Math.min(RESTART_MAX_MS, RESTART_FIRST_MS * 2 ** (slot.failures - 1));
    console.error(
      `switchboard serve: worker ${slot.index} died (${reason}); restarting it` +
        (delay ? ` in ${delay} ms` : ""),
    );
    setTimeout(() => {
      if (this.#stopping || slot.worker) return;
      this.#spawn(slot).then(
        () => console.error(`switchboard serve: worker ${slot.index} restarted`),
        () => {},
      );
    }, delay);
  }

  #checkPulse(): void {
    const now = Date.now();
    for (const slot of this.#slots) {
      const worker = slot.worker;
      if (!worker || !slot.ready) continue;
      if (now - slot.lastPong > HANG_MS) {
        this.#died(slot, worker, `it did not answer for ${HANG_MS / 1000} s`);
        continue;
      }
      this.#post(worker, { t: "ping" });
    }
  }

  async #answer(worker: Worker, id: number, what: "metrics" | "health"): Promise<void> {
    const response = what === "metrics"
      ? await this.metricsResponse(this.droppedLines())
      : this.healthResponse();
    if (!this.#slots.some((slot) => slot.worker === worker)) return;
    this.#post(worker, {
      t: "reply",
      id,
      status: response.status,
      type: response.headers.get("content-type") ?? "text/plain",
      body: await response.text(),
    });
  }

  /** Healthy (200) when every worker listens and answers its pings. */
  healthResponse(): Response {
    const now = Date.now();
    const workers = this.#slots.map((slot) => ({
      worker: slot.index,
      ok: slot.ready && now - slot.lastPong <= UNHEALTHY_MS,
      restarts: slot.restarts,
    }));
    const ok = workers.every((w) => w.ok);
    return Response.json({ ok, workers }, { status: ok ? 200 : 503 });
  }

  /** One worker's metrics text ("" when it is down or does not answer in time). */
  #collect(slot: Slot): Promise<string> {
    const worker = slot.worker;
    if (!worker || !slot.ready) return Promise.resolve("");
    const id = this.#nextCollect++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        slot.collects.delete(id);
        resolve("");
      }, COLLECT_MS);
      slot.collects.set(id, (text) => {
        clearTimeout(timer);
        resolve(text);
      });
      this.#post(worker, { t: "collect", id });
    });
  }

  /**
   * Every worker's figures added up, the process's own once, and per worker: whether it is
   * up, its restarts, the calls it answered and the connections it holds.
   */
  async metricsResponse(droppedLines: number): Promise<Response> {
    const texts = await Promise.all(this.#slots.map((slot) => this.#collect(slot)));
    const own = new Metrics({ process: processProbe() });
    const perWorker = (value: (slot: Slot, i: number) => number) =>
      this.#slots.map((slot, i) => ({ labels: { worker: String(i) }, value: value(slot, i) }));
    own.gauge(
      "switchboard_serve_worker_up",
      "Whether the worker isolate is serving (serve --workers)",
      () => perWorker((slot) => slot.ready ? 1 : 0),
    );
    own.gauge(
      "switchboard_serve_worker_restarts_total",
      "Restarts of the worker isolate after it died or stopped answering",
      () => perWorker((slot) => slot.restarts),
      "counter",
    );
    own.gauge(
      "switchboard_serve_worker_calls_total",
      "Calls the worker isolate answered since it last started",
      () => perWorker((_, i) => familyTotal(texts[i], "switchboard_calls_total")),
      "counter",
    );
    own.gauge(
      "switchboard_serve_worker_connections",
      "Connections open on the worker isolate now, per transport (the kernel's spread)",
      () =>
        this.#slots.flatMap((_, i) =>
          [...labelTotals(texts[i], "switchboard_open_connections", "transport")].map((
            [transport, value],
          ) => ({ labels: { worker: String(i), transport }, value }))
        ),
    );
    own.gauge(
      "switchboard_log_dropped_lines_total",
      "Access log lines dropped because stdout was not being read",
      () => [{ labels: {}, value: droppedLines }],
      "counter",
    );
    const ownText = await own.text();
    const text = mergeExpositions(
      [ownText, ...texts],
      // The process's figures are the main isolate's; a worker's would count it again.
      (family, index) =>
        index > 0 &&
        (family.startsWith("process_") || family === "switchboard_log_dropped_lines_total"),
    );
    return new Response(text, { headers: { "content-type": CONTENT_TYPE } });
  }

  /** Sends `message` to every worker that is serving. */
  broadcast(message: ToWorker): void {
    for (const slot of this.#slots) {
      if (slot.ready && slot.worker) this.#post(slot.worker, message);
    }
  }

  /** Drains every worker (each finishes its in-flight calls), then ends them. */
  async stop(): Promise<void> {
    this.#stopping = true;
    clearInterval(this.#watchdog);
    await Promise.all(this.#slots.map((slot) => {
      const worker = slot.worker;
      if (!worker) return;
      return new Promise<void>((resolve) => {
        slot.stopped = resolve;
        this.#post(worker, { t: "stop" });
      }).then(() => {
        worker.terminate();
        slot.worker = undefined;
      });
    }));
  }
}
