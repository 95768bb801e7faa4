/**
 * Params by name as params by position, in the order the IDL declares them: how a typed
 * proxy calls servers that know only positions (XML-RPC servers, plain msgpack-rpc peers
 * such as Neovim). An absent optional param in the middle becomes null (`<nil/>`, nil);
 * trailing absent ones are left out.
 *
 * @module
 */

import type { Fields, Type } from "./types.ts";

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
