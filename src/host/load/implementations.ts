/**
 * Finding the implementations a component module exports, and what identifies one.
 *
 * @module
 */

import { type Implementation, isImplementation } from "../../core/implement.ts";
import { ComponentError } from "./specifier.ts";

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

/**
 * The implementations of a module, refusing a module with none and one that implements
 * the same interface (in the same permission domain) twice.
 */
export function usableImplementations(
  url: string,
  module: Record<string, unknown>,
): Implementation[] {
  const impls = implementationsOf(module);
  if (impls.length === 0) {
    const names = Object.keys(module);
    throw new ComponentError(
      `component ${url} exports no implementation (${
        names.length ? `found only ${names.join(", ")}` : "it exports nothing"
      }); export implement(...) as the default or a named export`,
    );
  }
  const seen = new Set<string>();
  for (const impl of impls) {
    const key = implementationKey(impl);
    if (seen.has(key)) {
      throw new ComponentError(
        `component ${url} implements ${describeKey(impl)} twice; export one implementation ` +
          `per interface (or give them different domains)`,
      );
    }
    seen.add(key);
  }
  return impls;
}

/** Identifies what an implementation serves: interface name and permission domain. */
export function implementationKey(impl: Implementation): string {
  return `${impl.interface.name}\u0000${impl.options.domain ?? ""}`;
}

/** `interface Search` or `interface Search (domain admin)`. */
export function describeKey(impl: Implementation): string {
  const domain = impl.options.domain;
  return `interface ${impl.interface.name}${domain ? ` (domain ${domain})` : ""}`;
}

/** The line reported per loaded implementation: `loaded Search (3 methods) from URL`. */
export function loadedLine(impl: Implementation, url: string, note = ""): string {
  const count = Object.keys(impl.interface.methods).length;
  return `loaded ${impl.interface.name} (${count} method${count === 1 ? "" : "s"}) from ${url}${
    note ? ` ${note}` : ""
  }`;
}
