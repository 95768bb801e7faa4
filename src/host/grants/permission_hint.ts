/**
 * What to say when a worker component is denied access. The operator needs to know which
 * grant is missing and where it goes (after the component's `--component`, or in the
 * process's `permissions` of a deployment file); a remote caller needs to know only that
 * access was denied. Deno's own message ("run again with the --allow-read flag") points at
 * the server's flags, which is wrong twice: the server usually has the access already, and
 * a worker's grants are set per component.
 *
 * @module
 */

/** Whether `error` is Deno refusing an access (a missing permission). */
export function isPermissionError(error: unknown): error is Error {
  return error instanceof Deno.errors.NotCapable ||
    error instanceof Deno.errors.PermissionDenied;
}

/** The access Deno refused, parsed from its message (`Requires read access to "/x"`). */
export interface Denial {
  /** `read`, `net`, `write`, `env`, `sys`, `run`, `ffi`. */
  kind: string;
  /** The path, host or variable, when Deno named one. */
  target?: string;
  /** Deno's message without its advice to restart the server. */
  detail: string;
}

/** Parses Deno's permission message; undefined when it is not one. */
export function parseDenial(message: string): Denial | undefined {
  const match = /Requires ([a-z]+) access(?: to "([^"]*)")?/.exec(message);
  if (!match) return undefined;
  return {
    kind: match[1],
    target: match[2],
    detail: message.replace(/, run again with.*$/s, "").replace(/^.*?(Requires )/s, "$1"),
  };
}

/** The flag that grants a denial, e.g. `--allow-read=/srv/data`. */
export function grantFlag(denial: Denial): string {
  return `--allow-${denial.kind}${denial.target ? `=${denial.target}` : ""}`;
}

/**
 * The operator's message: what was denied to the component at `url` and how to grant it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { operatorHint } from "./permission_hint.ts";
 *
 * assert.equal(
 *   operatorHint('Requires read access to "/srv/x.json", run again with the --allow-read flag', "file:///c.ts"),
 *   'file:///c.ts was denied: Requires read access to "/srv/x.json"; to grant it, add ' +
 *     '--allow-read=/srv/x.json after --component file:///c.ts (or "permissions": ' +
 *     '{"read": ["/srv/x.json"]} in its process of a deployment file)',
 * );
 * ```
 */
export function operatorHint(message: string, url: string): string {
  const denial = parseDenial(message);
  if (!denial) return `${url} was denied: ${message}`;
  return `${url} was denied: ${denial.detail}${grantAdvice(denial, url)}`;
}

/** `; to grant it, add --allow-…=… after --component URL (…)`. */
export function grantAdvice(denial: Denial, url: string): string {
  const value = denial.target ? `[${JSON.stringify(denial.target)}]` : "true";
  return `; to grant it, add ${
    grantFlag(denial)
  } after --component ${url} (or "permissions": {"${denial.kind}": ${value}} in its process of a deployment file)`;
}

/** What a remote caller is told: that access was denied, nothing about what or where. */
export const CALLER_DENIAL =
  "the component was denied an access it needs; the server log says which";
