/**
 * The supervisor's status endpoint: `GET /status` answers the deployment's processes
 * (state, pid, restarts, uptime, and since when an `unresponsive` one is silent), routing table and each process's metrics address as
 * JSON, and `GET /metrics` the same as Prometheus metrics, to a caller presenting the
 * run's status token (`Authorization: Bearer <token>`, see `status_token.ts`; Prometheus
 * reads it with `authorization: { credentials_file: … }`); `GET /healthz` answers anyone
 * (up or not, nothing more). It serves no RPC and knows no deployment secret; the token
 * travels in clear, so bind it to a local address.
 *
 * @module
 */

import type { Plan } from "./plan.ts";
import type { Supervisor } from "./supervisor.ts";
import type { ChildStatus } from "./child.ts";
import { supervisorMetrics } from "./supervisor_metrics.ts";
import { CONTENT_TYPE } from "../observe/exposition.ts";

/** What `GET /status` answers. */
export interface DeploymentStatus {
  /** The deployment's name. */
  name: string;
  /** Pid of the supervisor. */
  pid: number;
  /** Every process. */
  processes: ChildStatus[];
  /** Interface → where it is served. */
  routes: Plan["routes"];
  /** Process → the address of its own metrics listener (`GET /metrics`), where it has one. */
  metrics: Record<string, string>;
}

/** A running status endpoint. */
export interface StatusListener {
  /** `http://host:port`. */
  readonly url: string;
  /** Stops it. */
  shutdown(): Promise<void>;
}

/** Serves the status of a supervised deployment on `address`. */
export function serveStatus(
  plan: Plan,
  supervisor: Supervisor,
  address: { hostname: string; port: number },
  options: {
    token: string;
    /** `POST /restart?process=NAME`: a rolling restart; answers the processes restarted. */
    restart?: (name: string) => Promise<string[]>;
  },
): StatusListener {
  const expected = `Bearer ${options.token}`;
  const metrics = Object.fromEntries(
    plan.processes.flatMap((p) =>
      p.metrics ? [[p.name, `${hostPort(p.metrics.hostname)}:${p.metrics.port}`]] : []
    ),
  );
  const server = Deno.serve({ ...address, onListen: () => {} }, async (request) => {
    const url = new URL(request.url);
    const path = url.pathname;
    if (path === "/restart" && request.method === "POST" && options.restart) {
      if (!sameText(request.headers.get("authorization") ?? "", expected)) {
        return new Response(`${path} needs the token its supervisor wrote\n`, {
          status: 401,
          headers: { "www-authenticate": "Bearer" },
        });
      }
      const name = url.searchParams.get("process") ?? "";
      try {
        return Response.json({ restarted: await options.restart(name) });
      } catch (error) {
        return Response.json(
          { error: error instanceof Error ? error.message : String(error) },
          { status: 409 },
        );
      }
    }
    if (request.method !== "GET") return new Response("use GET\n", { status: 405 });
    if (path === "/status" || path === "/metrics") {
      // The same token for both: states, pids and addresses are not everyone's to read.
      if (!sameText(request.headers.get("authorization") ?? "", expected)) {
        return new Response(
          `${path} needs the token its supervisor wrote (switchboard deploy --status reads it)\n`,
          { status: 401, headers: { "www-authenticate": "Bearer" } },
        );
      }
      if (path === "/metrics") {
        return new Response(supervisorMetrics(plan.name, supervisor.status(), metrics), {
          headers: { "content-type": CONTENT_TYPE },
        });
      }
      const body: DeploymentStatus = {
        name: plan.name,
        pid: Deno.pid,
        processes: supervisor.status(),
        routes: redactedRoutes(plan.routes),
        metrics,
      };
      return Response.json(body);
    }
    if (path === "/healthz") {
      const ok = supervisor.status().every((p) => p.state === "running");
      return Response.json({ ok }, { status: ok ? 200 : 503 });
    }
    return new Response("not found: GET /status, /metrics or /healthz\n", { status: 404 });
  });
  const addr = server.addr as Deno.NetAddr;
  return {
    url: `http://${hostPort(addr.hostname)}:${addr.port}`,
    shutdown: () => server.shutdown(),
  };
}

/** A host as it goes before `:port` (IPv6 in brackets). */
function hostPort(hostname: string): string {
  return hostname.includes(":") ? `[${hostname}]` : hostname;
}

/** Compares without an early exit (the time taken says nothing of the token). */
function sameText(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < b.length; i++) diff |= (a.charCodeAt(i) | 0) ^ b.charCodeAt(i);
  return diff === 0;
}

/** The routes with any password in a URL (AMQP brokers) hidden. */
function redactedRoutes(routes: Plan["routes"]): Plan["routes"] {
  return Object.fromEntries(
    Object.entries(routes).map(([iface, targets]) => [
      iface,
      targets.map((t) => {
        const url = new URL(t.url);
        if (!url.password) return t;
        url.password = "***";
        return { ...t, url: url.href };
      }),
    ]),
  );
}

/** A readable table of a deployment's status. */
export function formatStatus(status: DeploymentStatus): string {
  const rows = [["PROCESS", "STATE", "PID", "RESTARTS", "UPTIME", "LAST EXIT"]];
  for (const p of status.processes) {
    rows.push([
      p.name,
      p.unresponsiveSince
        ? `${p.state} for ${formatDuration(Date.now() - Date.parse(p.unresponsiveSince))}`
        : p.state,
      p.pid === undefined ? "-" : String(p.pid),
      String(p.restarts),
      p.uptime ? formatDuration(p.uptime) : "-",
      p.lastExit ? (p.lastExit.signal ?? `code ${p.lastExit.code}`) : "-",
    ]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const table = rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd());
  const routes = Object.entries(status.routes).map(([iface, targets]) =>
    `  ${iface} -> ${targets.map((t) => `${t.url} (${t.process})`).join(", ") || "(not reachable)"}`
  );
  const metrics = Object.entries(status.metrics ?? {}).map(([process, address]) =>
    `  ${process}: http://${address}/metrics`
  );
  return [
    `deployment ${status.name} (supervisor pid ${status.pid})`,
    ...table,
    "routes:",
    ...routes,
    ...(metrics.length ? ["metrics:", ...metrics] : []),
  ]
    .join("\n");
}

function formatDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60}s`;
  return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
}
