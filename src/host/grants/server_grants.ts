/**
 * Which of a worker's grants the server process itself lacks. Deno refuses to give a
 * worker a permission its parent does not hold ("Can't escalate parent thread
 * permissions"); the operator needs the flag to add to the server's own command.
 *
 * @module
 */

import type { Grant, WorkerPermissions } from "./permissions.ts";

type Kind = "net" | "read" | "write" | "env" | "sys" | "run" | "ffi";

function descriptor(kind: Kind, target?: string): Deno.PermissionDescriptor {
  switch (kind) {
    case "net":
      return { name: "net", host: target };
    case "read":
    case "write":
    case "ffi":
      return { name: kind, path: target };
    case "env":
      return { name: "env", variable: target };
    case "run":
      return { name: "run", command: target };
    case "sys":
      return { name: "sys", kind: target as Deno.SysPermissionDescriptor["kind"] };
  }
}

/** The first grant the server lacks, as the flag that would give it (`--allow-write=/tmp`). */
export function missingServerGrant(permissions: WorkerPermissions = {}): string | undefined {
  for (const [kind, grant] of Object.entries(permissions) as [Kind, Grant | undefined][]) {
    if (!grant) continue;
    const targets = grant === true ? [undefined] : grant;
    for (const target of targets) {
      let state: Deno.PermissionState;
      try {
        state = Deno.permissions.querySync(descriptor(kind, target)).state;
      } catch {
        continue; // a target Deno cannot parse: the worker's own error says so
      }
      if (state !== "granted") return `--allow-${kind}${target === undefined ? "" : `=${target}`}`;
    }
  }
  return undefined;
}
