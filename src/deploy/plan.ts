/**
 * The planner: turns a checked deployment file into a {@linkcode Plan} — absolute
 * component URLs, the listeners of every process, and the routing table (interface →
 * where it is reachable). Interfaces are learnt by loading the component modules, so the
 * file never repeats what the code already says.
 *
 * @module
 */

import type { InterfaceDef } from "../core/idl/interface.ts";
import type { Implementation } from "../core/implement.ts";
import { componentUrl } from "../host/load/loader.ts";
import { loadPlaced, type Placement } from "./load.ts";
import type { BalanceStrategy } from "../client/balance/pick.ts";
import {
  checkDeployment,
  type Deployment,
  DeploymentError,
  jsonPath,
  type ListenerEntry,
  type LivenessPolicy,
  livenessPolicy,
  parseAddress,
  type Problem,
  type ProcessEntry,
  replicaCount,
  replicaName,
  type RestartPolicy,
  restartPolicy,
} from "./schema.ts";

/** One listener of a planned process. */
export interface ListenSpec {
  /** Wire protocol family. */
  protocol: "http" | "tcp" | "amqp";
  /** Bind address (http, tcp). */
  hostname?: string;
  /** Bind port (http, tcp). */
  port?: number;
  /** Broker URL (amqp). */
  url?: string;
  /** Queue name prefix (amqp). */
  prefix?: string;
  /** HTTPS / TLS: absolute paths of the PEM certificate chain and key (http, tcp). */
  tls?: { cert: string; key: string };
}

/** Where an interface can be reached. */
export interface Route {
  /** The process serving it. */
  process: string;
  /** `http`, `tcp` or `amqp`. */
  protocol: "http" | "tcp" | "amqp";
  /** What a client connects to: `tcp://host:port`, `http://host:port`, or the broker URL. */
  url: string;
  /** Extra connect options (e.g. the AMQP `prefix`). */
  options?: Record<string, unknown>;
}

/** Interface name → where it is served (preferred first). */
export type RoutingTable = Record<string, Route[]>;

/** One process of a plan. */
export interface ProcessPlan {
  /** Its name (log prefix, caller id): the file's name, or `NAME#k` for replica k. */
  name: string;
  /** For a replica: the process of the file it copies, and which copy it is (from 1). */
  replicaOf?: { process: string; index: number; count: number };
  /** Absolute component module URLs. */
  components: string[];
  /** Where the components run. */
  placement: "inline" | "worker";
  /** Worker permissions (placement `worker`). */
  permissions?: ProcessEntry["permissions"];
  /** Internal listeners (secret required). */
  listen: ListenSpec[];
  /** Public front listeners. */
  front: ListenSpec[];
  /** Interfaces its components implement. */
  interfaces: string[];
  /** Where it serves its own metrics, if anywhere. */
  metrics?: { hostname: string; port: number };
  /** Isolates serving it on the same ports (`auto`: one per core; absent: 1). */
  workers?: number | "auto";
  /** Of those, the ones whose public methods appear on fronts. */
  public: string[];
}

/** Everything the supervisor and the children need to run a deployment. */
export interface Plan {
  /** Deployment name. */
  name: string;
  /** The processes, in file order. */
  processes: ProcessPlan[];
  /** The routing table. */
  routes: RoutingTable;
  /** Interface → how its calls are spread over the processes serving it (absent: default). */
  balance?: Record<string, BalanceStrategy>;
  /** Public interface → its process and the module defining it (fronts load it). */
  publicInterfaces: Record<string, { process: string; module: string }>;
  /** Restart policy. */
  restart: RestartPolicy;
  /** How frozen processes are found and handled. */
  liveness: LivenessPolicy;
  /** Where the supervisor serves its status. */
  status?: { hostname: string; port: number };
}

/** Loads a component module's implementations (swappable in tests). */
export type ComponentLoader = (url: URL, placement: Placement) => Promise<Implementation[]>;

/** Reads and parses a deployment file; a syntax error is a problem at `$`. */
export async function readDeployment(path: string): Promise<{ value: unknown; base: URL }> {
  const base = componentUrl(path);
  let text: string;
  try {
    text = await Deno.readTextFile(base);
  } catch (error) {
    throw new DeploymentError([{
      path: "$",
      message: `cannot read ${path}: ${error instanceof Error ? error.message : error}`,
    }], path);
  }
  try {
    return { value: JSON.parse(text), base };
  } catch (error) {
    throw new DeploymentError([{
      path: "$",
      message: `not JSON: ${error instanceof Error ? error.message : error}`,
    }], path);
  }
}

/** A file named in the deployment file, as an absolute path. */
function filePath(path: string, base: URL): string {
  return decodeURIComponent(new URL(path, base).pathname);
}

function listenSpec(entry: ListenerEntry, base: URL): ListenSpec {
  if (entry.amqp !== undefined) return { protocol: "amqp", url: entry.amqp, prefix: entry.prefix };
  const protocol = entry.http !== undefined ? "http" : "tcp";
  const tls = entry.tls
    ? { tls: { cert: filePath(entry.tls.cert, base), key: filePath(entry.tls.key, base) } }
    : {};
  return { protocol, ...parseAddress(entry[protocol]!), ...tls };
}

/**
 * Checks that a listener's TLS files can be read (a problem otherwise) and returns the
 * PEM of its CA, which the processes dialling it trust.
 */
async function tlsFiles(
  entry: ListenerEntry,
  base: URL,
  path: string,
  problems: Problem[],
): Promise<string | undefined> {
  if (!entry.tls) return undefined;
  let ca: string | undefined;
  for (const key of ["cert", "key", "ca"] as const) {
    const file = entry.tls[key];
    if (file === undefined) continue;
    try {
      const text = await Deno.readTextFile(filePath(file, base));
      if (key === "ca") ca = text;
    } catch (error) {
      problems.push({
        path: jsonPath(jsonPath(path, "tls"), key),
        message: `cannot read ${filePath(file, base)}: ${
          error instanceof Error ? error.message : error
        }`,
      });
    }
  }
  return ca;
}

function dialHost(hostname: string): string {
  if (hostname === "0.0.0.0") return "127.0.0.1";
  if (hostname === "::" || hostname === "[::]") return "[::1]";
  return hostname.includes(":") ? `[${hostname}]` : hostname;
}

function route(process: string, entry: ListenerEntry, base: URL, ca?: string): Route {
  const spec = listenSpec(entry, base);
  if (spec.protocol === "amqp") {
    return {
      process,
      protocol: "amqp",
      url: spec.url!,
      ...(spec.prefix ? { options: { prefix: spec.prefix } } : {}),
    };
  }
  const { hostname, port } = entry.advertise ? parseAddress(entry.advertise) : spec;
  const scheme = spec.tls ? (spec.protocol === "http" ? "https" : "tls") : spec.protocol;
  return {
    process,
    protocol: spec.protocol,
    url: `${scheme}://${dialHost(hostname!)}:${port}`,
    ...(ca ? { options: { caCerts: [ca] } } : {}),
  };
}

/** `entry` as replica `k` (from 0) binds it: each http/tcp port (and advertised one) plus k. */
function shifted(entry: ListenerEntry, k: number): ListenerEntry {
  if (k === 0 || entry.amqp !== undefined) return entry;
  const shift = (address: string) => {
    const { hostname, port } = parseAddress(address);
    return `${hostname.includes(":") ? `[${hostname}]` : hostname}:${port + k}`;
  };
  return {
    ...entry,
    ...(entry.http !== undefined ? { http: shift(entry.http) } : {}),
    ...(entry.tcp !== undefined ? { tcp: shift(entry.tcp) } : {}),
    ...(entry.advertise !== undefined ? { advertise: shift(entry.advertise) } : {}),
  };
}

/** Route preference: TCP (persistent, bidirectional), then HTTP, then AMQP. */
const PREFERENCE = { tcp: 0, http: 1, amqp: 2 } as const;

/**
 * Plans a deployment: checks the file, loads every component to learn its interfaces,
 * and builds the routing table. Throws a {@linkcode DeploymentError} listing every
 * problem (with JSON paths) when the file cannot be deployed.
 */
export async function planDeployment(
  value: unknown,
  base: URL,
  options: { load?: ComponentLoader; source?: string } = {},
): Promise<Plan> {
  const source = options.source ?? base.href;
  const problems: Problem[] = checkDeployment(value);
  if (problems.length) throw new DeploymentError(problems, source);
  const deployment = value as Deployment;
  const load = options.load ?? loadPlaced;
  const entries = Object.entries(deployment.processes);

  const processes: ProcessPlan[] = [];
  const owner = new Map<string, { process: string; path: string; module: string }>();
  const definitions = new Map<string, InterfaceDef>();
  for (const [name, entry] of entries) {
    const at = jsonPath("$.processes", name);
    const components: string[] = [];
    const interfaces: string[] = [];
    let loadFailed = false;
    for (const [i, spec] of (entry.components ?? []).entries()) {
      const path = jsonPath(jsonPath(at, "components"), i);
      let url: URL;
      try {
        url = componentUrl(spec, base);
      } catch {
        problems.push({ path, message: `not a URL or path: ${JSON.stringify(spec)}` });
        loadFailed = true;
        continue;
      }
      components.push(url.href);
      let impls: Implementation[];
      try {
        impls = await load(url, {
          placement: entry.placement ?? "inline",
          permissions: entry.permissions,
        });
      } catch (error) {
        problems.push({ path, message: error instanceof Error ? error.message : String(error) });
        loadFailed = true;
        continue;
      }
      for (const impl of impls) {
        if (impl.options.domain !== undefined) continue; // a domain variant of an interface
        const iface = impl.interface.name;
        const first = owner.get(iface);
        if (first?.process === name) {
          problems.push({
            path,
            message: `implements ${iface}, already implemented by ${first.path}`,
          });
          continue;
        }
        // Served by several processes too: callers balance over them all, like replicas.
        if (!first) owner.set(iface, { process: name, path, module: url.href });
        definitions.set(iface, impl.interface);
        interfaces.push(iface);
      }
    }
    const isPublic: string[] = [];
    for (const [i, iface] of (entry.public ?? []).entries()) {
      const path = jsonPath(jsonPath(at, "public"), i);
      if (!interfaces.includes(iface)) {
        // A component that failed to load was reported already; do not pile on.
        if (!loadFailed) {
          problems.push({
            path,
            message: `process ${name} serves no interface ${iface} (it serves ${
              interfaces.join(", ") || "none"
            })`,
          });
        }
        continue;
      }
      const methods = Object.values(definitions.get(iface)!.methods);
      if (!methods.some((m) => m.public)) {
        problems.push({
          path,
          message:
            `${iface} has no method marked public: true, so a front would expose nothing of it`,
        });
        continue;
      }
      isPublic.push(iface);
    }
    const count = replicaCount(entry);
    for (let k = 0; k < count; k++) {
      const metrics = entry.metrics ? parseAddress(entry.metrics) : undefined;
      processes.push({
        name: replicaName(name, k + 1, count),
        ...(count > 1 ? { replicaOf: { process: name, index: k + 1, count } } : {}),
        components,
        placement: entry.placement ?? "inline",
        ...(entry.permissions ? { permissions: entry.permissions } : {}),
        listen: (entry.listen ?? []).map((l) => listenSpec(shifted(l, k), base)),
        front: (entry.front ?? []).map((l) => listenSpec(shifted(l, k), base)),
        ...(metrics ? { metrics: { ...metrics, port: metrics.port + k } } : {}),
        ...(entry.workers !== undefined ? { workers: entry.workers } : {}),
        interfaces,
        public: isPublic,
      });
    }
  }

  // Every interface must be reachable from the other processes.
  const routes: RoutingTable = {};
  const balance: Record<string, BalanceStrategy> = {};
  const balancedBy = new Map<string, string>();
  for (const [name, entry] of entries) {
    const count = replicaCount(entry);
    const proc = processes.find((p) => p.name === replicaName(name, 1, count))!;
    const at = jsonPath("$.processes", name);
    const cas: (string | undefined)[] = [];
    for (const [i, l] of (entry.listen ?? []).entries()) {
      cas.push(await tlsFiles(l, base, jsonPath(jsonPath(at, "listen"), i), problems));
    }
    for (const [i, l] of (entry.front ?? []).entries()) {
      await tlsFiles(l, base, jsonPath(jsonPath(at, "front"), i), problems);
    }
    // Every replica's routes, each replica's in preference order.
    const dialable: Route[] = [];
    for (let k = 0; k < count; k++) {
      const own = (entry.listen ?? []).map((l, i) =>
        route(replicaName(name, k + 1, count), shifted(l, k), base, cas[i])
      );
      own.sort((a, b) => PREFERENCE[a.protocol] - PREFERENCE[b.protocol]);
      dialable.push(...own);
    }
    if (proc.interfaces.length && !dialable.length && (entries.length > 1 || count > 1)) {
      problems.push({
        path: jsonPath(jsonPath("$.processes", name), "listen"),
        message: `process ${name} serves ${
          proc.interfaces.join(", ")
        } but has no listener, so other processes cannot reach it; add e.g. {"tcp": "127.0.0.1:PORT"}`,
      });
    }
    for (const iface of proc.interfaces) routes[iface] = [...routes[iface] ?? [], ...dialable];
    if (entry.balance !== undefined) {
      for (const iface of proc.interfaces) {
        const first = balancedBy.get(iface);
        if (first && JSON.stringify(balance[iface]) !== JSON.stringify(entry.balance)) {
          problems.push({
            path: jsonPath(at, "balance"),
            message: `${iface} is also served by process ${first}, whose "balance" is ${
              JSON.stringify(balance[iface])
            }: one interface is balanced one way; give both the same`,
          });
          continue;
        }
        balance[iface] = entry.balance;
        balancedBy.set(iface, name);
      }
    }
  }
  const publicInterfaces: Plan["publicInterfaces"] = {};
  for (const proc of processes) {
    for (const iface of proc.public) {
      publicInterfaces[iface] ??= { process: proc.name, module: owner.get(iface)!.module };
    }
  }
  const fronts = processes.filter((p) => p.front.length);
  if (fronts.length && Object.keys(publicInterfaces).length === 0 && !problems.length) {
    problems.push({
      path: jsonPath(jsonPath("$.processes", fronts[0].name), "front"),
      message:
        'the front would expose nothing: list interfaces under "public" in the processes that serve them',
    });
  }
  if (problems.length) throw new DeploymentError(problems, source);
  return {
    name: deployment.name ?? base.pathname.split("/").pop()!.replace(/\.json$/, ""),
    processes,
    routes,
    ...(Object.keys(balance).length ? { balance } : {}),
    publicInterfaces,
    restart: restartPolicy(deployment),
    liveness: livenessPolicy(deployment),
    ...(deployment.status ? { status: parseAddress(deployment.status) } : {}),
  };
}
