/**
 * What an isolated component may access: its grants, as a Web Worker's Deno permissions
 * and as the `deno run` flags of a component process. Everything not granted is denied.
 *
 * @module
 */

/** One permission: denied (`false`), granted (`true`), or granted for these targets. */
export type Grant = boolean | string[];

/** The Deno permissions of a worker component; everything not granted is denied. */
export interface WorkerPermissions {
  /** Network access, e.g. `["db.internal:5432"]`. */
  net?: Grant;
  /** File reads, e.g. `["/srv/data"]`. */
  read?: Grant;
  /** File writes. */
  write?: Grant;
  /** Environment variables, e.g. `["DATABASE_URL"]`. */
  env?: Grant;
  /** System information. */
  sys?: Grant;
  /** Running subprocesses. */
  run?: Grant;
  /** Foreign functions. */
  ffi?: Grant;
}

/** The grants as a Web Worker's `deno.permissions` (nothing else, no imports). */
export function denoPermissions(permissions: WorkerPermissions = {}): Record<string, unknown> {
  const grant = (g: Grant | undefined) => g ?? false;
  return {
    net: grant(permissions.net),
    read: grant(permissions.read),
    write: grant(permissions.write),
    env: grant(permissions.env),
    sys: grant(permissions.sys),
    run: grant(permissions.run),
    ffi: grant(permissions.ffi),
    import: false,
  };
}

/** The grants as `deno run` flags (`--allow-net=db:5432`, …); nothing else is allowed. */
export function permissionFlags(permissions: WorkerPermissions = {}): string[] {
  const flags: string[] = [];
  for (const name of ["net", "read", "write", "env", "sys", "run", "ffi"] as const) {
    const grant = permissions[name];
    if (grant === true) flags.push(`--allow-${name}`);
    else if (Array.isArray(grant) && grant.length) flags.push(`--allow-${name}=${grant.join(",")}`);
  }
  return flags;
}
