/**
 * Loading component modules by URL or path: import the module and collect the
 * implementations it exports (default and named).
 *
 * @module
 */

import { type Implementation, isImplementation } from "../router/implement.ts";

/** A component module could not be used; the message names the URL. */
export class ComponentError extends Error {
  override name = "ComponentError";
}

/** Turns a CLI argument (URL or path) into a module URL. */
export function componentUrl(spec: string, base: string | URL = `file://${Deno.cwd()}/`): URL {
  if (/^[a-z][a-z0-9+.-]*:/i.test(spec) && !/^[a-z]:[\\/]/i.test(spec)) return new URL(spec);
  return new URL(spec, base);
}

/** The implementations a module exports (default first, then named, without repeats). */
export function implementationsOf(module: Record<string, unknown>): Implementation[] {
  const found: Implementation[] = [];
  const add = (value: unknown) => {
    if (isImplementation(value) && !found.includes(value)) found.push(value);
    if (Array.isArray(value)) value.forEach(add);
  };
  add(module.default);
  for (const [name, value] of Object.entries(module)) if (name !== "default") add(value);
  return found;
}

/** Imports a component module natively and returns its implementations. */
export async function loadComponent(url: URL): Promise<Implementation[]> {
  let module: Record<string, unknown>;
  try {
    module = await import(url.href);
  } catch (error) {
    throw new ComponentError(
      `cannot load component ${url.href}: ${error instanceof Error ? error.message : error}`,
    );
  }
  const impls = implementationsOf(module);
  if (impls.length === 0) {
    throw new ComponentError(
      `component ${url.href} exports no implementation (export implement(...) as default or named)`,
    );
  }
  return impls;
}
