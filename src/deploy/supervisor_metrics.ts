/**
 * The supervisor's view of a deployment as Prometheus metrics, served at the status
 * address's `GET /metrics` (behind the same bearer token as `/status`): per process, its
 * state, restarts and uptime, and where it serves its own metrics.
 *
 * @module
 */

import { type Family, writeExposition } from "../observe/exposition.ts";
import type { ChildState, ChildStatus } from "./child.ts";

const STATES: readonly ChildState[] = [
  "starting",
  "running",
  "unresponsive",
  "backoff",
  "stopping",
  "stopped",
  "failed",
];

/**
 * The exposition of `processes` (the supervisor's status) for deployment `name`;
 * `metrics` maps a process to the address of its own metrics listener.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { supervisorMetrics } from "./supervisor_metrics.ts";
 *
 * const text = supervisorMetrics("shop", [
 *   { name: "catalog", state: "running", pid: 42, restarts: 2, uptime: 1500 },
 * ], {});
 * assert.match(text, /^switchboard_deploy_process_restarts_total\{process="catalog",deployment="shop"\} 2$/m);
 * assert.match(text, /^switchboard_deploy_process_up\{process="catalog",deployment="shop"\} 1$/m);
 * ```
 */
export function supervisorMetrics(
  name: string,
  processes: readonly ChildStatus[],
  metrics: Readonly<Record<string, string>>,
): string {
  const each = (value: (p: ChildStatus) => number) =>
    processes.map((p) => ({ labels: { process: p.name }, value: value(p) }));
  const families: Family[] = [
    {
      name: "switchboard_deploy_process_up",
      help: "Whether the process is running (1) or not (0)",
      type: "gauge",
      samples: each((p) => p.state === "running" ? 1 : 0),
    },
    {
      name: "switchboard_deploy_process_state",
      help: "The process's state: 1 for the state it is in, 0 for the others",
      type: "gauge",
      samples: processes.flatMap((p) =>
        STATES.map((state) => ({
          labels: { process: p.name, state },
          value: p.state === state ? 1 : 0,
        }))
      ),
    },
    {
      name: "switchboard_deploy_process_restarts_total",
      help: "Times the supervisor restarted the process",
      type: "counter",
      samples: each((p) => p.restarts),
    },
    {
      name: "switchboard_deploy_process_uptime_seconds",
      help: "Seconds since the process's current run started (0 when not running)",
      type: "gauge",
      samples: each((p) => p.uptime / 1000),
    },
    {
      name: "switchboard_deploy_process_metrics_info",
      help: "Where a process serves its own metrics (GET /metrics at address)",
      type: "gauge",
      samples: processes.filter((p) => metrics[p.name]).map((p) => ({
        labels: { process: p.name, address: metrics[p.name] },
        value: 1,
      })),
    },
  ];
  return writeExposition(families, { deployment: name });
}
