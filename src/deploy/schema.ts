/**
 * The deployment file: its types, its published JSON Schema (`deployment.schema.json`),
 * and {@linkcode checkDeployment}, which reports every mistake with its JSON path
 * (`$.processes.cart.listen[0].tcp: …`). Structure is checked by ajv against the
 * published schema; what a schema cannot say (one protocol per listener, no two
 * listeners on one port, …) is checked here.
 *
 * @module
 */

import { Ajv2020, type ErrorObject } from "ajv/dist/2020.js";
import schema from "./deployment.schema.json" with { type: "json" };
import { DEFAULT_RESTART, type RestartPolicy } from "./restart.ts";
import { DEFAULT_LIVENESS, type LivenessPolicy } from "./liveness.ts";

export { DEFAULT_LIVENESS, DEFAULT_RESTART, type LivenessPolicy, type RestartPolicy };

/** The JSON Schema of deployment files (draft 2020-12). */
export const deploymentSchema: Record<string, unknown> = schema;

/** One listener as written in the file: exactly one of `http`, `tcp`, `amqp`. */
export interface ListenerEntry {
  /** `host:port` of a JSON-RPC / XML-RPC HTTP listener. */
  http?: string;
  /** `host:port` of a msgpack-rpc TCP listener. */
  tcp?: string;
  /** Broker URL of an AMQP listener. */
  amqp?: string;
  /** AMQP queue and exchange name prefix (default `switchboard`). */
  prefix?: string;
  /** The address other processes dial, when it differs from the bound one. */
  advertise?: string;
  /** HTTPS / TLS: PEM files (paths relative to the deployment file). */
  tls?: { cert: string; key: string; ca?: string };
}

/** Deno permission values of a worker: all, none, or a list. */
export type PermissionValue = boolean | string[];

/** One process as written in the file. */
export interface ProcessEntry {
  /** Component module URLs or paths, relative to the deployment file. */
  components?: string[];
  /** Where the components run inside the process. */
  placement?: "inline" | "worker";
  /** Permissions of the worker (placement `worker` only). */
  permissions?: Partial<
    Record<"read" | "write" | "net" | "env" | "run" | "ffi" | "sys", PermissionValue>
  >;
  /** Internal listeners (secret required). */
  listen?: ListenerEntry[];
  /** Public front listeners (no secret, public methods only). */
  front?: ListenerEntry[];
  /** Interfaces of this process whose public methods appear on fronts. */
  public?: string[];
  /** `host:port` where the process serves its own Prometheus metrics (`GET /metrics`). */
  metrics?: string;
  /** Isolates serving the process on the same ports (`auto`: one per core; default 1). */
  workers?: number | "auto";
  /** How many copies of the process run (default 1); replica k adds k-1 to each port. */
  replicas?: number;
  /**
   * How callers (the fronts, every process's `ctx.client`) spread the calls of this
   * process's interfaces over the processes serving them (default `"least-in-flight"`).
   */
  balance?: BalanceSetting;
}

/** A balancing strategy as written: by name, or sticky by the value of a param. */
export type BalanceSetting = "least-in-flight" | "round-robin" | { sticky: string };

const STRATEGIES = ["least-in-flight", "round-robin"];

/** What is wrong with a `"balance"` value, or undefined when it is one. */
function balanceProblem(value: unknown): string | undefined {
  if (typeof value === "string" && STRATEGIES.includes(value)) return undefined;
  if (
    isObject(value) && Object.keys(value).length === 1 &&
    typeof (value as { sticky?: unknown }).sticky === "string" &&
    (value as { sticky: string }).sticky !== ""
  ) return undefined;
  const onlySticky = isObject(value) && Object.keys(value).join() === "sticky";
  if (value === "sticky" || onlySticky) {
    return 'sticky balancing needs the param whose value keeps a caller on one replica: {"sticky": "PARAM"}, e.g. {"sticky": "user"}';
  }
  return `expected "least-in-flight", "round-robin" or {"sticky": "PARAM"}, got ${
    JSON.stringify(value)
  }`;
}

/** A deployment file as written. */
export interface Deployment {
  /** Editors' schema pointer (ignored). */
  $schema?: string;
  /** Name for logs and status. */
  name?: string;
  /** Processes by name. */
  processes: Record<string, ProcessEntry>;
  /** `host:port` of the supervisor's status endpoint. */
  status?: string;
  /** Restart policy overrides. */
  restart?: Partial<RestartPolicy>;
  /** Liveness policy overrides (how frozen processes are found and handled). */
  liveness?: Partial<LivenessPolicy>;
}

/** One mistake in a deployment file. */
export interface Problem {
  /** JSON path of the offending value, e.g. `$.processes.cart.listen[0]`. */
  path: string;
  /** What is wrong, for a person. */
  message: string;
}

/** Thrown when a deployment file cannot be used; lists every problem. */
export class DeploymentError extends Error {
  override name = "DeploymentError";
  /** Every problem found. */
  readonly problems: readonly Problem[];

  /** `source` names the file in the message. */
  constructor(problems: readonly Problem[], source = "deployment") {
    super(
      `${source}: ${problems.length} problem${problems.length === 1 ? "" : "s"}\n` +
        problems.map((p) => `  ${p.path}: ${p.message}`).join("\n"),
    );
    this.problems = problems;
  }
}

/** Appends a property or index to a JSON path. */
export function jsonPath(base: string, key: string | number): string {
  if (typeof key === "number") return `${base}[${key}]`;
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key)
    ? `${base}.${key}`
    : `${base}[${JSON.stringify(key)}]`;
}

function pointerToPath(pointer: string): string {
  let path = "$";
  if (!pointer) return path;
  for (const raw of pointer.slice(1).split("/")) {
    const key = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    path = jsonPath(path, /^(0|[1-9][0-9]*)$/.test(key) ? Number(key) : key);
  }
  return path;
}

// allErrors: report every problem at once; verbose: errors carry their schema (for the
// expected property names); strict off: ajv's strict mode refuses legal union types.
const ajv = new Ajv2020({ allErrors: true, strict: false, verbose: true });
const validateStructure = ajv.compile(schema);

/** Turns one ajv error into a problem a person can act on. */
function fromAjv(error: ErrorObject): Problem {
  const path = pointerToPath(error.instancePath);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case "required":
      return {
        path: jsonPath(path, String(params.missingProperty)),
        message: "is required",
      };
    case "additionalProperties": {
      const allowed = Object.keys(
        (error.parentSchema as { properties?: object } | undefined)?.properties ?? {},
      );
      return {
        path: jsonPath(path, String(params.additionalProperty)),
        message: `unknown property${
          allowed.length ? ` (expected one of ${allowed.join(", ")})` : ""
        }`,
      };
    }
    case "propertyNames":
      return {
        path: jsonPath(path, String(params.propertyName)),
        message: "process names are 1-40 characters of a-z, 0-9, - and _, starting with a letter",
      };
    case "pattern": {
      const description = (error.parentSchema as { description?: string })?.description ?? "";
      return {
        path,
        message: description.startsWith("host:port")
          ? `expected host:port, e.g. 127.0.0.1:8080, got ${JSON.stringify(error.data)}`
          : params.pattern === "^amqps?://"
          ? `expected an amqp:// or amqps:// URL, got ${JSON.stringify(error.data)}`
          : `${JSON.stringify(error.data)} is not an interface name`,
      };
    }
    case "enum":
      return {
        path,
        message: `expected one of ${
          (params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")
        }`,
      };
    case "type":
      return { path, message: `expected ${String(params.type).replace(",", " or ")}` };
    case "minProperties":
      return { path, message: `must not be empty` };
    case "minItems":
      return { path, message: `needs at least ${params.limit} item(s)` };
    case "uniqueItems":
      return { path, message: `lists the same value twice (items ${params.j} and ${params.i})` };
    default:
      return { path, message: error.message ?? error.keyword };
  }
}

/** Parses `host:port` (brackets allowed around IPv6). */
export function parseAddress(text: string): { hostname: string; port: number } {
  const colon = text.lastIndexOf(":");
  const host = text.slice(0, colon).replace(/^\[(.*)\]$/, "$1");
  return { hostname: host, port: Number(text.slice(colon + 1)) };
}

const PROTOCOLS = ["http", "tcp", "amqp"] as const;

/** The replica count of a process as written, 1 when absent or malformed (the schema says so). */
export function replicaCount(entry: ProcessEntry): number {
  const n = entry.replicas;
  return Number.isInteger(n) && n! >= 1 && n! <= 64 ? n! : 1;
}

/** The name of replica `k` (from 1) of process `name` of `count`: `name#k`, or `name` alone. */
export function replicaName(name: string, k: number, count: number): string {
  return count > 1 ? `${name}#${k}` : name;
}

/**
 * Records the addresses `host:port` … `host:port+replicas-1` as bound by `path`; a problem
 * when one is taken or out of range. Each replica listens on its own port.
 */
function bind(
  bound: Map<string, string>,
  problems: Problem[],
  path: string,
  hostname: string,
  port: number,
  replicas: number,
  owner = path,
): void {
  const last = port + replicas - 1;
  if (!(port >= 1 && last <= 65535)) {
    problems.push({
      path,
      message: replicas > 1
        ? `ports ${port}-${last} (one per replica) are out of range (1-65535)`
        : `port ${port} is out of range (1-65535)`,
    });
    return;
  }
  for (let k = 0; k < replicas; k++) {
    const key = `${hostname}:${port + k}`;
    const first = bound.get(key);
    if (first) {
      problems.push({
        path,
        message: `${key} is already used by ${first}${replicas > 1 ? ` (replica ${k + 1})` : ""}`,
      });
      return;
    }
  }
  for (let k = 0; k < replicas; k++) {
    bound.set(`${hostname}:${port + k}`, replicas > 1 ? `${owner} (replica ${k + 1})` : owner);
  }
}

/** What the schema cannot say: one protocol per listener, ports, permissions, … */
function checkMeaning(deployment: Deployment, problems: Problem[]): void {
  const bound = new Map<string, string>();
  const amqp: { key: string; kind: "listen" | "front"; path: string }[] = [];
  // Runs on malformed files too (so one pass reports everything): skip what the schema
  // already reported as the wrong shape.
  const processes = isObject(deployment?.processes) ? deployment.processes : {};
  for (const [name, proc] of Object.entries(processes)) {
    if (!isObject(proc)) continue;
    const at = jsonPath("$.processes", name);
    const replicas = replicaCount(proc);
    if (proc.balance !== undefined) {
      const problem = balanceProblem(proc.balance);
      if (problem) problems.push({ path: jsonPath(at, "balance"), message: problem });
    }
    const components = Array.isArray(proc.components) ? proc.components : [];
    if (components.length === 0 && !proc.front) {
      problems.push({
        path: at,
        message: "has nothing to run: give it components, a front, or both",
      });
    }
    if (proc.permissions && proc.placement !== "worker") {
      problems.push({
        path: jsonPath(at, "permissions"),
        message: 'permissions apply only to placement "worker"',
      });
    }
    if (Array.isArray(proc.public) && proc.public.length && components.length === 0) {
      problems.push({
        path: jsonPath(at, "public"),
        message: "a process without components has no interfaces to make public",
      });
    }
    for (const kind of ["listen", "front"] as const) {
      const listeners = Array.isArray(proc[kind]) ? proc[kind] : [];
      listeners.forEach((listener, i) => {
        if (!isObject(listener)) return;
        const lat = jsonPath(jsonPath(at, kind), i);
        const protocols = PROTOCOLS.filter((p) => listener[p] !== undefined);
        if (protocols.length !== 1) {
          problems.push({
            path: lat,
            message: protocols.length === 0
              ? "names no protocol: give exactly one of http, tcp, amqp"
              : `names ${protocols.join(" and ")}: give exactly one of http, tcp, amqp`,
          });
          return;
        }
        const protocol = protocols[0];
        if (listener.prefix !== undefined && protocol !== "amqp") {
          problems.push({ path: jsonPath(lat, "prefix"), message: "applies only to amqp" });
        }
        if (listener.tls !== undefined && protocol === "amqp") {
          problems.push({
            path: jsonPath(lat, "tls"),
            message: "applies only to http and tcp (an amqps:// broker URL encrypts AMQP)",
          });
        }
        if (listener.advertise !== undefined && protocol === "amqp") {
          problems.push({
            path: jsonPath(lat, "advertise"),
            message: "applies only to http and tcp",
          });
        }
        if (protocol === "amqp") {
          if (typeof listener.amqp === "string") {
            amqp.push({
              key: `${listener.amqp} ${listener.prefix ?? "switchboard"}`,
              kind,
              path: lat,
            });
          }
          return;
        }
        const text = listener[protocol];
        if (!isAddress(text)) return; // reported by the schema
        let portsOk = true;
        for (const [key, value] of [[protocol, text], ["advertise", listener.advertise]] as const) {
          if (!isAddress(value)) continue;
          const { port } = parseAddress(value);
          const last = port + replicas - 1;
          if (!(port >= 1 && last <= 65535)) {
            portsOk = false;
            problems.push({
              path: jsonPath(lat, key),
              message: port === 0
                ? "port 0 is not allowed: the other processes must know the port in advance"
                : replicas > 1
                ? `ports ${port}-${last} (one per replica) are out of range (1-65535)`
                : `port ${port} is out of range (1-65535)`,
            });
          }
        }
        if (!portsOk) return;
        const { hostname, port } = parseAddress(text);
        bind(bound, problems, jsonPath(lat, protocol), hostname, port, replicas, lat);
      });
    }
  }
  // Metrics listeners: like the others, a port of their own, known in advance.
  for (const [name, proc] of Object.entries(processes)) {
    if (!isObject(proc) || !isAddress(proc.metrics)) continue;
    const path = jsonPath(jsonPath("$.processes", name), "metrics");
    const { hostname, port } = parseAddress(proc.metrics);
    bind(bound, problems, path, hostname, port, replicaCount(proc));
  }
  // A front consuming the same queues as a process would forward calls back to itself.
  for (const front of amqp.filter((a) => a.kind === "front")) {
    const internal = amqp.find((a) => a.kind === "listen" && a.key === front.key);
    if (internal) {
      problems.push({
        path: front.path,
        message:
          `shares broker and prefix with ${internal.path}, so it would consume (and forward back) the calls meant for that process; give it another "prefix"`,
      });
    }
  }
  if (isAddress(deployment?.status)) {
    const { hostname, port } = parseAddress(deployment.status);
    const first = bound.get(`${hostname}:${port}`);
    if (first) {
      problems.push({
        path: "$.status",
        message: `${hostname}:${port} is already used by ${first}`,
      });
    } else if (!(port >= 1 && port <= 65535)) {
      problems.push({ path: "$.status", message: `port ${port} is out of range (1-65535)` });
    }
  }
}

/**
 * Checks a parsed deployment file without loading any component: structure against the
 * published schema, then meaning. Returns every problem found (empty when valid).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkDeployment } from "./schema.ts";
 *
 * const problems = checkDeployment({ processes: { app: { listen: [{ htp: ":80" }] } } });
 * assert.deepEqual(problems.map((p) => p.path), [
 *   "$.processes.app.listen[0].htp",
 *   "$.processes.app",
 *   "$.processes.app.listen[0]",
 * ]);
 * ```
 */
export function checkDeployment(value: unknown): Problem[] {
  const problems = validateStructure(value) ? [] : (validateStructure.errors ?? [])
    // A bad process name is reported once, by its propertyNames error.
    .filter((e) => !(e.keyword === "pattern" && e.propertyName !== undefined))
    // A bad "balance" is reported once, in words, by checkMeaning.
    .filter((e) => !/^\/processes\/[^/]+\/balance(\/|$)/.test(e.instancePath))
    .map(fromAjv);
  if (isObject(value)) checkMeaning(value as Deployment, problems);
  return dedupe(problems);
}

function isObject<T>(value: T): value is T & object {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const ADDRESS = new RegExp(
  (schema.$defs.hostPort as { pattern: string }).pattern,
);

function isAddress(value: unknown): value is string {
  return typeof value === "string" && ADDRESS.test(value);
}

function dedupe(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.path}\n${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The restart policy of a deployment, defaults filled in. */
export function restartPolicy(deployment: Deployment): RestartPolicy {
  return { ...DEFAULT_RESTART, ...deployment.restart };
}

/** The liveness policy of a deployment, defaults filled in. */
export function livenessPolicy(deployment: Deployment): LivenessPolicy {
  return { ...DEFAULT_LIVENESS, ...deployment.liveness };
}
