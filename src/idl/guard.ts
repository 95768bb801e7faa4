/**
 * Guards: the fast path of validation. A guard compiled from a type answers one question
 * with no allocation at all: "would the full check return this very value, unchanged?"
 * Well-typed calls (nearly all of them) then skip the full check, which builds a path
 * string for every field and element it visits (`params.order.items[49].sku`) in case it
 * has to report a problem. When a guard says no, the full check runs and reports (or
 * normalises) exactly as before, so behaviour does not change.
 *
 * Guards are conservative: for any value they are unsure of (tagged dates and bytes,
 * `any` containers, big integers, kinds they do not know) they say no.
 *
 * @module
 */

import type {
  ArrayType,
  Fields,
  LiteralType,
  MapType,
  NullableType,
  OptionalType,
  StructType,
  Type,
} from "./types.ts";
import type { Check, ParamsCheck } from "./validate.ts";

/** True only when the full check would return the value itself. */
export type Guard = (value: unknown) => boolean;

const NEVER: Guard = () => false;
const cache = new WeakMap<Type, Guard>();

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    !(value instanceof Date) && !(value instanceof Uint8Array);
}

/** Compiles (once) the guard of a type. */
export function compileGuard(type: Type): Guard {
  let guard = cache.get(type);
  if (!guard) {
    guard = build(type);
    cache.set(type, guard);
  }
  return guard;
}

function build(type: Type): Guard {
  switch (type.kind) {
    case "int":
    case "int64":
      return (v) => typeof v === "number" && Number.isSafeInteger(v);
    case "float":
      return (v) => typeof v === "number" && Number.isFinite(v);
    case "string":
      return (v) => typeof v === "string";
    case "bool":
      return (v) => typeof v === "boolean";
    case "bytes":
      return (v) => v instanceof Uint8Array;
    case "datetime":
      return (v) => v instanceof Date && !Number.isNaN(v.getTime());
    case "any":
      // Containers may hold tagged values the full check revives; primitives never do.
      return (v) => v === null || (v !== undefined && typeof v !== "object");
    case "literal": {
      const values = (type as LiteralType).values;
      return (v) => values.includes(v as never);
    }
    case "optional": {
      const inner = compileGuard((type as OptionalType).inner);
      return (v) => v === undefined || inner(v);
    }
    case "nullable": {
      const inner = compileGuard((type as NullableType).inner);
      return (v) => v === null || inner(v);
    }
    case "array": {
      const items = compileGuard((type as ArrayType).items);
      return (v) => {
        if (!Array.isArray(v)) return false;
        for (let i = 0; i < v.length; i++) if (!items(v[i])) return false;
        return true;
      };
    }
    case "map": {
      const values = compileGuard((type as MapType).values);
      return (v) => {
        if (!isPlainObject(v)) return false;
        for (const key in v) if (!values(v[key])) return false;
        return true;
      };
    }
    case "struct": {
      const fields = fieldsGuard((type as StructType).fields);
      return (v) => isPlainObject(v) && fields(v);
    }
    default:
      return NEVER;
  }
}

/** Every declared field passes its guard and no undeclared field is set. */
function fieldsGuard(fields: Fields): (value: Record<string, unknown>) => boolean {
  const names = Object.keys(fields);
  const guards = names.map((name) => compileGuard(fields[name]));
  const known = new Set(names);
  return (value) => {
    for (let i = 0; i < names.length; i++) if (!guards[i](value[names[i]])) return false;
    for (const key in value) if (!known.has(key) && value[key] !== undefined) return false;
    return true;
  };
}

/** A check that returns well-typed values at once and runs `check` only for the rest. */
export function guarded(type: Type, check: Check): Check {
  const guard = compileGuard(type);
  if (guard === NEVER) return check;
  return (value, path) => guard(value) ? value : check(value, path);
}

/**
 * A params check with a fast path for params that are already well typed, by name (an
 * object) or by position (an array, matched to the declared order as the full check
 * does); absent and suspicious params take the full check.
 */
export function guardedParams(fields: Fields, check: ParamsCheck): ParamsCheck {
  const names = Object.keys(fields);
  const guard = fieldsGuard(fields);
  return (params, path) => {
    if (Array.isArray(params)) {
      if (params.length > names.length) return check(params, path);
      const named: Record<string, unknown> = {};
      for (let i = 0; i < params.length; i++) named[names[i]] = params[i];
      return guard(named) ? named : check(params, path);
    }
    return isPlainObject(params) && guard(params) ? params : check(params, path);
  };
}
