/**
 * Before anything starts: is every address the deployment will listen on free? A child
 * that finds its port taken can only fail, and restarting it cannot help; so the deploy
 * command binds each address once, releases it, and names the ones in use.
 *
 * @module
 */

import type { Plan } from "./plan.ts";

/** One address the deployment listens on, with where the file says so. */
interface Address {
  path: string;
  hostname: string;
  port: number;
}

function addresses(plan: Plan): Address[] {
  const found: Address[] = [];
  for (const p of plan.processes) {
    // A replica's addresses are its file entry's, shifted: name the entry and the replica.
    const at = `$.processes.${p.replicaOf?.process ?? p.name}`;
    const replica = p.replicaOf ? ` (replica ${p.replicaOf.index})` : "";
    for (const kind of ["listen", "front"] as const) {
      p[kind].forEach((spec, i) => {
        if (spec.protocol === "amqp" || spec.port === undefined || spec.port === 0) return;
        found.push({
          path: `${at}.${kind}[${i}]${replica}`,
          hostname: spec.hostname ?? "127.0.0.1",
          port: spec.port,
        });
      });
    }
    if (p.metrics) found.push({ path: `${at}.metrics${replica}`, ...p.metrics });
  }
  if (plan.status && plan.status.port !== 0) found.push({ path: "$.status", ...plan.status });
  return found;
}

/** One line per address that cannot be bound now (empty: all free). */
export function probeAddresses(plan: Plan): string[] {
  const problems: string[] = [];
  for (const { path, hostname, port } of addresses(plan)) {
    try {
      Deno.listen({ hostname, port }).close();
    } catch (error) {
      const why = error instanceof Deno.errors.AddrInUse
        ? "is in use by another program"
        : `cannot be bound: ${error instanceof Error ? error.message : error}`;
      problems.push(`${path}: ${hostname}:${port} ${why}`);
    }
  }
  return problems;
}
