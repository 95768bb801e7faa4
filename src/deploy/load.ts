/**
 * Loading a component to learn its interfaces, the way its process will run it.
 *
 * @module
 */

import { loadComponent } from "../host/load/loader.ts";
import { loadComponents } from "../host/placement.ts";
import type { WorkerPermissions } from "../host/grants/permissions.ts";
import type { Implementation } from "../core/implement.ts";

/** Where and how a component runs. */
export interface Placement {
  /** `inline` or `worker`. */
  placement: "inline" | "worker";
  /** Worker permissions. */
  permissions?: WorkerPermissions;
}

/**
 * Loads a component the way its process will: natively when inline; in a worker with the
 * process's permissions otherwise (so code meant for a sandbox never runs outside one),
 * stopped again once its interfaces are known.
 */
export async function loadPlaced(url: URL, placement: Placement): Promise<Implementation[]> {
  if (placement.placement === "inline") return (await loadComponent(url)).implementations;
  const placed = await loadComponents([{
    url: url.href,
    isolate: "worker",
    permissions: placement.permissions,
  }]);
  await placed.close();
  return placed.implementations;
}
