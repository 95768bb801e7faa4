/**
 * `switchboard deploy FILE | --check FILE | --status FILE|URL`.
 *
 * @module
 */

import { parseCommand, UsageError } from "./args.ts";
import { randomToken } from "../core/random_token.ts";
import { isLogLevel } from "../observe/access_log.ts";
import { PROCESS_ENV, READY_MARKER } from "../deploy/env.ts";
import { handoffLine } from "../deploy/handoff.ts";
import type { Plan } from "../deploy/plan.ts";
import { Supervisor } from "../deploy/supervisor.ts";
import type { ChildSpec } from "../deploy/child.ts";
import { type DeploymentStatus, formatStatus, serveStatus } from "../deploy/status.ts";

export const DEPLOY_HELP = `Usage: switchboard deploy FILE
       switchboard deploy --check FILE
       switchboard deploy --status FILE|URL
       switchboard deploy --restart NAME FILE|URL

Starts every process of the deployment FILE (JSON; schema: src/deploy/deployment.schema.json)
as this same program in serve mode, prefixes their output with their names, restarts
crashed ones with backoff, and stops them all (letting calls finish) on SIGINT/SIGTERM.
Processes that stop answering its pings (frozen) are reported unresponsive, calls to them fail
at once, and they are restarted if they stay so (the file's "liveness" tunes it).
A process with "replicas": N runs as NAME#1 … NAME#N, each on its ports plus k-1; calls are
balanced over them. A rolling restart (SIGHUP, or --restart) drains each replica (callers
send it no new calls, its calls in flight finish), restarts it, and waits until it is ready
before the next one goes.
Processes prove a fresh random secret to each other (handed to each on its stdin, never in
its environment or arguments); only front listeners and /healthz are open. Processes exit
when this supervisor dies, however it dies. Every listen address is checked before anything
starts. GET /status needs the run's token, kept in a file only this user can read.

Options:
  --check             report every problem of FILE with its JSON path; start nothing
  --status            show the processes of a running deployment (its "status" address,
                      read from FILE, or the URL of that address)
  --json              with --status: print the raw JSON
  --restart NAME      rolling restart of process NAME of a running deployment (every replica
                      of it, one at a time, or one replica: NAME#k), through its status
                      address (SIGHUP to deploy restarts every process this way)
  --drain-timeout MS  how long processes may finish in-flight calls on stop (default 10000)
  --log-format F      every process's access log: "json" (default) or "text"
  --log-level L       debug|info|warn|error|off (default info: every call)
  --log-params        also log params and results (secret-looking fields redacted)
  --trace             spans per call in every process, one trace across processes
                      (exported over OTLP when run with OTEL_DENO=true; on by default then)
  -h, --help          this help

Observability: the processes inherit this program's environment (OTEL_DENO,
OTEL_EXPORTER_OTLP_ENDPOINT, …); each is named by OTEL_SERVICE_NAME=<process> unless that is
set. A process with "metrics": "HOST:PORT" in FILE serves its own Prometheus metrics there;
the status address serves the supervisor's view (state, restarts) at GET /metrics, behind
the same token as /status.
`;

/** The command that re-runs this program: the compiled binary itself, or deno + main module. */
export function selfCommand(): { command: string; args: string[] } {
  const standalone = (Deno.build as { standalone?: boolean }).standalone === true;
  return standalone
    ? { command: Deno.execPath(), args: [] }
    : { command: Deno.execPath(), args: ["run", "-A", Deno.mainModule] };
}

/**
 * The child processes of a plan (`self`: the program to re-run, by default this one);
 * `serveArgs` go to every child's `serve` (the observability flags).
 */
export function childSpecs(
  plan: Plan,
  secret: string,
  self: { command: string; args: string[] } = selfCommand(),
  serveArgs: string[] = [],
): ChildSpec[] {
  // The secret goes down a pipe: environment and argv are readable in /proc by others.
  const stdin = handoffLine({ plan, secret });
  const named = Deno.env.get("OTEL_SERVICE_NAME") !== undefined;
  return plan.processes.map((p) => ({
    name: p.name,
    command: self.command,
    args: [...self.args, "serve", "--deployed", p.name, ...serveArgs],
    // Spans and metrics exported by each process say which process made them.
    env: { [PROCESS_ENV]: p.name, ...(named ? {} : { OTEL_SERVICE_NAME: p.name }) },
    stdin,
  }));
}

/** The observability flags of `deploy`, as each child's `serve` takes them. */
function observeArgs(values: {
  "log-format"?: string;
  "log-level"?: string;
  "log-params"?: boolean;
  trace?: boolean;
}): string[] {
  // Checked here, once: a child refusing its flags would only crash-loop.
  const format = values["log-format"], level = values["log-level"];
  if (format !== undefined && format !== "json" && format !== "text") {
    throw new UsageError(`--log-format: expected json or text, got ${JSON.stringify(format)}`);
  }
  if (level !== undefined && level !== "off" && !isLogLevel(level)) {
    throw new UsageError(`--log-level: expected debug, info, warn, error or off, got ${level}`);
  }
  const args: string[] = [];
  if (values["log-format"] !== undefined) args.push("--log-format", values["log-format"]);
  if (values["log-level"] !== undefined) args.push("--log-level", values["log-level"]);
  if (values["log-params"]) args.push("--log-params");
  if (values.trace) args.push("--trace");
  return args;
}

/**
 * The planner and the validator, loaded only by the deploy command: the validator
 * compiles the JSON Schema, which every other command (and every child) can skip.
 */
async function deployModules() {
  const [plan, schema] = await Promise.all([
    import("../deploy/plan.ts"),
    import("../deploy/schema.ts"),
  ]);
  return { ...plan, ...schema };
}

/** Plans FILE; a DeploymentError lists every problem. */
async function loadPlan(file: string): Promise<Plan> {
  const { planDeployment, readDeployment } = await deployModules();
  const { value, base } = await readDeployment(file);
  return await planDeployment(value, base, { source: file });
}

/** The DeploymentError's message, or undefined when the error is another one. */
async function problemsOf(error: unknown): Promise<string | undefined> {
  const { DeploymentError } = await deployModules();
  return error instanceof DeploymentError ? error.message : undefined;
}

/** Names every listen address already in use; true when all are free. */
async function addressesFree(file: string, plan: Plan): Promise<boolean> {
  const { probeAddresses } = await import("../deploy/probe.ts");
  const taken = probeAddresses(plan);
  if (!taken.length) return true;
  console.error(
    `${file}: ${taken.length} address(es) unavailable:\n${taken.map((t) => `  ${t}`).join("\n")}`,
  );
  return false;
}

async function check(file: string): Promise<number> {
  try {
    const plan = await loadPlan(file);
    if (!await addressesFree(file, plan)) return 1;
    console.log(`${file}: ok: ${plan.processes.length} process(es)`);
    for (const p of plan.processes) {
      const parts = [
        p.interfaces.length ? `serves ${p.interfaces.join(", ")}` : "",
        p.listen.length ? `listens ${p.listen.map(describeListener).join(", ")}` : "",
        p.front.length ? `front ${p.front.map(describeListener).join(", ")}` : "",
        p.public.length ? `public ${p.public.join(", ")}` : "",
      ].filter(Boolean);
      console.log(`  ${p.name}: ${parts.join("; ")}`);
    }
    return 0;
  } catch (error) {
    const problems = await problemsOf(error);
    if (problems === undefined) throw error;
    console.error(problems);
    return 1;
  }
}

function describeListener(l: Plan["processes"][number]["listen"][number]): string {
  if (l.protocol === "amqp") return `amqp ${l.url}`;
  const scheme = l.tls ? (l.protocol === "http" ? "https" : "tls") : l.protocol;
  return `${scheme}://${l.hostname}:${l.port}`;
}

/** The status URL of FILE (its "status" address) or URL, and the run's token there. */
async function statusAccess(
  target: string,
  command: string,
): Promise<{ url: string; token: string } | undefined> {
  let url = target;
  if (!/^https?:\/\//.test(target)) {
    const { parseAddress, readDeployment } = await deployModules();
    const { value } = await readDeployment(target);
    const address = (value as { status?: unknown })?.status;
    if (typeof address !== "string") {
      throw new UsageError(
        `switchboard deploy ${command}: ${target} has no "status" address; give the status URL`,
      );
    }
    const { hostname, port } = parseAddress(address);
    url = `http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`;
  }
  const { readStatusToken, statusTokenPath } = await import("../deploy/status_token.ts");
  const at = new URL(url);
  const address = { hostname: at.hostname.replace(/^\[|\]$/g, ""), port: Number(at.port) };
  const token = await readStatusToken(address);
  if (!token) {
    console.error(
      `no status token at ${await statusTokenPath(address)}: the supervisor of the ` +
        `deployment at ${url} writes it there; run this as the same user on the same machine`,
    );
    return undefined;
  }
  return { url, token };
}

async function status(target: string, json: boolean): Promise<number> {
  const access = await statusAccess(target, "--status");
  if (!access) return 1;
  const { url, token } = access;
  let response: Response;
  try {
    response = await fetch(new URL("/status", url), {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(5000),
    });
  } catch (error) {
    console.error(
      `no deployment answers at ${url}: ${error instanceof Error ? error.message : error}`,
    );
    return 1;
  }
  if (!response.ok) {
    console.error(`${url}/status answered HTTP ${response.status}: ${await response.text()}`);
    return 1;
  }
  const body = await response.json() as DeploymentStatus;
  console.log(json ? JSON.stringify(body, null, 2) : formatStatus(body));
  return 0;
}

async function restart(name: string, target: string): Promise<number> {
  const access = await statusAccess(target, "--restart");
  if (!access) return 1;
  let response: Response;
  try {
    // No timeout: a rolling restart takes as long as its replicas take to drain and start.
    response = await fetch(
      new URL(`/restart?process=${encodeURIComponent(name)}`, access.url),
      { method: "POST", headers: { authorization: `Bearer ${access.token}` } },
    );
  } catch (error) {
    console.error(
      `no deployment answers at ${access.url}: ${error instanceof Error ? error.message : error}`,
    );
    return 1;
  }
  const body = await response.json().catch(() => ({})) as { restarted?: string[]; error?: string };
  if (!response.ok) {
    console.error(`restart ${name}: ${body.error ?? `HTTP ${response.status}`}`);
    return 1;
  }
  console.log(`restarted ${body.restarted?.join(", ")}`);
  return 0;
}

/** The children a restart of `name` means: every replica of the process, or the one named. */
function restartTargets(plan: Plan, name: string): string[] {
  const names = plan.processes
    .filter((p) => p.name === name || p.replicaOf?.process === name)
    .map((p) => p.name);
  if (!names.length) {
    throw new Error(
      `no process ${JSON.stringify(name)} (processes: ${
        plan.processes.map((p) => p.name).join(", ")
      })`,
    );
  }
  return names;
}

async function run(file: string, drainTimeout: number, serveArgs: string[]): Promise<number> {
  let plan: Plan;
  try {
    plan = await loadPlan(file);
  } catch (error) {
    const problems = await problemsOf(error);
    if (problems === undefined) throw error;
    console.error(`${problems}\nnothing was started`);
    return 1;
  }
  if (!await addressesFree(file, plan)) {
    console.error("nothing was started");
    return 1;
  }
  const supervisor = new Supervisor(childSpecs(plan, randomToken(), undefined, serveArgs), {
    restart: plan.restart,
    liveness: plan.liveness,
    drainTimeout,
    isReady: (line) => line.startsWith(READY_MARKER),
  });
  let signals = 0;
  const onSignal = (signal: Deno.Signal) => {
    if (++signals === 1) {
      console.error(`deploy ${plan.name}: ${signal}: stopping (again to kill at once)`);
      void supervisor.stop(signal);
      return;
    }
    for (const p of supervisor.status()) {
      if (p.pid === undefined) continue;
      try {
        supervisor.kill(p.name, "SIGKILL");
      } catch {
        // exited meanwhile
      }
    }
  };
  const onInt = () => onSignal("SIGINT");
  const onTerm = () => onSignal("SIGTERM");
  const rolling = async (names: string[]): Promise<string[]> => {
    await supervisor.restart(names);
    return names;
  };
  // SIGHUP: restart every process, one at a time (replicas drained first).
  const onHup = () => {
    console.error(`deploy ${plan.name}: SIGHUP: restarting every process, one at a time`);
    rolling(plan.processes.map((p) => p.name)).then(
      () => console.error(`deploy ${plan.name}: rolling restart done`),
      (error) => console.error(`deploy ${plan.name}: rolling restart stopped: ${error.message}`),
    );
  };
  Deno.addSignalListener("SIGINT", onInt);
  Deno.addSignalListener("SIGTERM", onTerm);
  Deno.addSignalListener("SIGHUP", onHup);
  const { writeStatusToken } = await import("../deploy/status_token.ts");
  const statusToken = plan.status ? await writeStatusToken(plan.status) : undefined;
  const statusListener = plan.status && statusToken
    ? serveStatus(plan, supervisor, plan.status, {
      token: statusToken.token,
      restart: (name) => rolling(restartTargets(plan, name)),
    })
    : undefined;
  console.error(
    `deploy ${plan.name}: starting ${plan.processes.map((p) => p.name).join(", ")}${
      statusListener
        ? `; status at ${statusListener.url}/status and /metrics (token in ${statusToken!.path})`
        : ""
    }`,
  );
  supervisor.start();
  supervisor.ready().then(
    () => console.error(`deploy ${plan.name}: every process is ready`),
    () => {},
  );
  const outcome = await supervisor.finished;
  Deno.removeSignalListener("SIGINT", onInt);
  Deno.removeSignalListener("SIGTERM", onTerm);
  Deno.removeSignalListener("SIGHUP", onHup);
  await statusListener?.shutdown();
  await statusToken?.remove();
  if (!outcome.ok) {
    console.error(`deploy ${plan.name}: FAILED: ${outcome.reason}`);
    return 1;
  }
  console.error(`deploy ${plan.name}: stopped`);
  return 0;
}

/** Runs `deploy`. */
export async function deployCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand("deploy", args, {
    check: { type: "boolean", default: false },
    status: { type: "boolean", default: false },
    json: { type: "boolean", default: false },
    restart: { type: "string" },
    "drain-timeout": { type: "string" },
    "log-format": { type: "string" },
    "log-level": { type: "string" },
    "log-params": { type: "boolean" },
    trace: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    console.log(DEPLOY_HELP);
    return 0;
  }
  if (positionals.length !== 1) {
    throw new UsageError("switchboard deploy: expected one deployment FILE (see --help)");
  }
  if ([values.check, values.status, values.restart !== undefined].filter(Boolean).length > 1) {
    throw new UsageError("switchboard deploy: --check, --status and --restart do not go together");
  }
  const drain = values["drain-timeout"] === undefined ? 10_000 : Number(values["drain-timeout"]);
  if (!(drain >= 0)) throw new UsageError("--drain-timeout: expected milliseconds");
  const [file] = positionals;
  if (values.check) return await check(file);
  if (values.status) return await status(file, values.json);
  if (values.restart !== undefined) return await restart(values.restart, file);
  return await run(file, drain, observeArgs(values));
}
