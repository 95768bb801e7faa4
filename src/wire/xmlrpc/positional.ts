/**
 * XML-RPC params are positional. Both Switchboard ends agree on that, so third-party
 * servers (Python's `SimpleXMLRPCServer`) and clients work unchanged:
 *
 * - The client sends a typed proxy's named params by position, in the order the IDL
 *   declares them; an absent optional param in the middle goes as `<nil/>`, trailing
 *   absent ones are left out. Each param is written by its declared type.
 * - The server takes positional params as they come (one struct is one struct, never
 *   params by name) and reads `<nil/>` at an optional (not nullable) position as absent.
 *
 * @module
 */

import type { Fields, Type } from "../../core/idl/types.ts";

/** Whether `params` is an object naming only declared params (so it can go by position). */
export function namesOnlyDeclared(params: unknown, declared: Fields): boolean {
  if (!isNamed(params)) return false;
  for (const key in params) {
    if (!Object.hasOwn(declared, key) && params[key] !== undefined) return false;
  }
  return true;
}

/** Params by name: a plain object (not an array, date or bytes). */
export function isNamed(params: unknown): params is Record<string, unknown> {
  return typeof params === "object" && params !== null && !Array.isArray(params) &&
    !(params instanceof Date) && !(params instanceof Uint8Array);
}

/**
 * Named (or positional) params as the positional list to send, each with its declared type
 * and the path error messages name it by (`params.x`).
 */
export function toPositional(
  params: unknown,
  declared: Fields,
): { values: unknown[]; types: (Type | undefined)[]; paths: string[] } {
  const names = Object.keys(declared);
  if (Array.isArray(params)) {
    return {
      values: params,
      types: params.map((_, i) => declared[names[i]]),
      paths: params.map((_, i) => `params[${i}]`),
    };
  }
  if (!isNamed(params)) {
    return { values: params === undefined ? [] : [params], types: [], paths: ["params[0]"] };
  }
  const named = params as Record<string, unknown>;
  let count = 0;
  names.forEach((name, i) => {
    if (Object.hasOwn(named, name) && named[name] !== undefined) count = i + 1;
  });
  const values = names.slice(0, count).map((name) =>
    Object.hasOwn(named, name) && named[name] !== undefined ? named[name] : null
  );
  const used = names.slice(0, count);
  return {
    values,
    types: used.map((name) => declared[name]),
    paths: used.map((name) => `params.${name}`),
  };
}

/** Server side: `<nil/>` at an optional (not nullable) position is an absent param. */
export function fromPositional(params: unknown[], declared: Fields): unknown[] {
  const types = Object.values(declared);
  let out: unknown[] | undefined;
  for (let i = 0; i < params.length && i < types.length; i++) {
    const type = types[i];
    if (params[i] === null && type.kind === "optional") {
      const inner = type.inner;
      if (inner.kind !== "nullable" && inner.kind !== "any") {
        (out ??= params.slice())[i] = undefined;
      }
    }
  }
  return out ?? params;
}

/**
 * Server side: the params a call's positional list stands for. One struct is params by name
 * only when a Switchboard client says so (`namedParams`, read only for a lone struct: over
 * HTTP it is a header lookup); else the list goes by position, read by the declaration when
 * there is one. A multicall's entries are read the same way.
 */
export function callParams(
  list: unknown[],
  declared: Fields | undefined,
  options: { readonly namedParams?: boolean },
): unknown {
  if (list.length === 1 && isNamed(list[0]) && options.namedParams) return list[0];
  return declared ? fromPositional(list, declared) : list;
}
