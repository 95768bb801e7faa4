/**
 * Guards: the fast path of validation. A guard compiled from a type answers one question
 * with no allocation at all: "would the full check return this very value, unchanged?"
 * Well-typed calls (nearly all of them) then skip the full check, which builds a path
 * string for every field and element it visits (`params.order.items[49].sku`) in case it
 * has to report a problem. When a guard says no, the full check runs and reports (or
 * normalises) exactly as before, so behaviour does not change.
 *
 * Guards are conservative: for any value they are unsure of (tagged dates and bytes,
 * `any` containers, big integers, kinds the IDL does not know) they say no.
 *
 * @module
 */

import type { ArrayType, Fields, MapType, StructType, Type } from "./types.ts";
import type { Check, ParamsCheck } from "./validate.ts";
import { isVoidResult } from "./interface.ts";
import { unknownKind } from "./kinds.ts";

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
    guard = generate(type) ?? build(type, compileGuard);
    cache.set(type, guard);
  }
  return guard;
}

/**
 * Generates the guard as straight-line JavaScript (one function per struct, array and
 * map, field reads into locals, field names compared as constants), which V8 runs several
 * times faster than a tree of closures. Returns undefined where code generation is not
 * allowed (a content security policy), and the closures serve instead.
 */
function generate(type: Type): Guard | undefined {
  const code = codegen();
  const expression = code.test(type, "v");
  if (expression === "false") return NEVER;
  return code.finish(`return (v) => ${expression};`) as Guard | undefined;
}

/** Builds the named params from well-typed positional ones, or says undefined. */
type Positional = (params: unknown[]) => Record<string, unknown> | undefined;

/**
 * Generates the fast path of positional params: each position tested in place and the
 * named form built as one object literal (one allocation, one stable shape), instead of
 * filling an empty object key by key and then checking it for undeclared keys.
 */
function generatePositional(fields: Fields): Positional | undefined {
  const keys = Object.keys(fields);
  // An object literal would read `__proto__` as the prototype, not a field.
  if (keys.includes("__proto__")) return undefined;
  const code = codegen();
  let body = "";
  keys.forEach((key, i) => {
    body += `const p${i} = p[${i}]; if (!(${code.test(fields[key], `p${i}`)})) return undefined;\n`;
  });
  const named = keys.map((key, i) => `${JSON.stringify(key)}: p${i}`).join(", ");
  return code.finish(`return (p) => {\n${body}return { ${named} };\n};`) as
    | Positional
    | undefined;
}

/** The code generator shared by guards: test expressions, helper functions, constants. */
function codegen() {
  const functions: string[] = [];
  const names = new Map<Type, string>();
  const constants: unknown[] = [];
  let locals = 0;
  const plain = (v: string) =>
    `typeof ${v} === "object" && ${v} !== null && !Array.isArray(${v}) && ` +
    `!(${v} instanceof Date) && !(${v} instanceof Uint8Array)`;
  /** An expression true when the local variable `v` passes `t`. */
  const test = (t: Type, v: string): string => {
    // The full check answers nothing for a declared-void result, whatever the value.
    if (isVoidResult(t)) return "false";
    switch (t.kind) {
      case "int":
      case "int64":
        return `(typeof ${v} === "number" && Number.isSafeInteger(${v}))`;
      case "float":
        return `(typeof ${v} === "number" && Number.isFinite(${v}))`;
      case "string":
        return `typeof ${v} === "string"`;
      case "bool":
        return `typeof ${v} === "boolean"`;
      case "bytes":
        return `${v} instanceof Uint8Array`;
      case "datetime":
        return `(${v} instanceof Date && !Number.isNaN(${v}.getTime()))`;
      case "any":
        // A number that is not finite takes the full check, which refuses it.
        return `(${v} === null || (${v} !== undefined && typeof ${v} !== "object" && ` +
          `(typeof ${v} !== "number" || ${v} - ${v} === 0)))`;
      case "literal":
        constants.push(t.values);
        return `c[${constants.length - 1}].includes(${v})`;
      case "optional":
        return `(${v} === undefined || ${test(t.inner, v)})`;
      case "nullable":
        return `(${v} === null || ${test(t.inner, v)})`;
      case "array":
      case "map":
      case "struct":
        return `${fn(t)}(${v})`;
      // A stream's source is checked by the full validation (its items as they are read).
      case "stream":
        return "false";
      default:
        return unknownKind(t, "false");
    }
  };
  /** The name of the generated function testing a container type. */
  const fn = (t: ArrayType | MapType | StructType): string => {
    let name = names.get(t);
    if (name) return name;
    name = `g${names.size}`;
    names.set(t, name);
    functions.push(`function ${name}(v) {\n${container(t, `x${locals++}`)}return true;\n}`);
    return name;
  };
  /** The body of a container's function: false for the first value that fails. */
  const container = (t: ArrayType | MapType | StructType, x: string): string => {
    switch (t.kind) {
      case "array":
        return `if (!Array.isArray(v)) return false;\n` +
          `for (let i = 0; i < v.length; i++) { const ${x} = v[i]; ` +
          `if (!(${test(t.items, x)})) return false; }\n`;
      case "map":
        return `if (!(${plain("v")})) return false;\n` +
          `for (const k in v) { const ${x} = v[k]; ` +
          `if (!(${test(t.values, x)})) return false; }\n`;
      case "struct": {
        const keys = Object.keys(t.fields);
        let body = `if (!(${plain("v")})) return false;\n`;
        keys.forEach((key, i) => {
          const local = `${x}_${i}`;
          body += `const ${local} = v[${JSON.stringify(key)}]; ` +
            `if (!(${test(t.fields[key], local)})) return false;\n`;
        });
        const unknown = keys.map((key) => `k !== ${JSON.stringify(key)}`).join(" && ");
        // Allowed extra members pass unchanged only when the `any` check would keep them.
        const refused = t.extra === "allow"
          ? `v[k] !== null && typeof v[k] === "object"`
          : `v[k] !== undefined`;
        return body + `for (const k in v) if (${unknown || "true"} && ${refused}) return false;\n`;
      }
      default:
        return unknownKind(t);
    }
  };
  return {
    test,
    /** Compiles the helpers and `tail` (which returns the entry point); undefined where
     * code generation is not allowed (a content security policy). */
    finish(tail: string): unknown {
      try {
        return new Function("c", `"use strict";\n${functions.join("\n")}\n${tail}`)(constants);
      } catch {
        return undefined;
      }
    },
  };
}

/** The same guards as closures, used where code may not be generated (and by tests). */
export function closureGuard(type: Type): Guard {
  return build(type, closureGuard);
}

function build(type: Type, sub: (type: Type) => Guard): Guard {
  // A method without a declared result answers null: only "nothing" passes unchanged.
  if (isVoidResult(type)) return (v) => v === undefined;
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
      // Containers may hold tagged values the full check revives; primitives never do. A
      // number that is not finite takes the full check, which refuses it.
      return (v) =>
        v === null ||
        (v !== undefined && typeof v !== "object" && (typeof v !== "number" || v - v === 0));
    case "literal": {
      const values = type.values;
      return (v) => values.includes(v as never);
    }
    case "optional": {
      const inner = sub(type.inner);
      return (v) => v === undefined || inner(v);
    }
    case "nullable": {
      const inner = sub(type.inner);
      return (v) => v === null || inner(v);
    }
    case "array": {
      const items = sub(type.items);
      return (v) => {
        if (!Array.isArray(v)) return false;
        for (let i = 0; i < v.length; i++) if (!items(v[i])) return false;
        return true;
      };
    }
    case "map": {
      const values = sub(type.values);
      return (v) => {
        if (!isPlainObject(v)) return false;
        for (const key in v) if (!values(v[key])) return false;
        return true;
      };
    }
    case "struct": {
      const fields = fieldsGuard(type.fields, sub, type.extra);
      return (v) => isPlainObject(v) && fields(v);
    }
    case "stream":
      return NEVER;
    default:
      return unknownKind(type, NEVER);
  }
}

/** Every declared field passes its guard and no undeclared field is set. */
function fieldsGuard(
  fields: Fields,
  sub: (type: Type) => Guard,
  extra?: "allow" | "reject",
): (value: Record<string, unknown>) => boolean {
  const names = Object.keys(fields);
  const guards = names.map((name) => sub(fields[name]));
  const known = new Set(names);
  // Allowed extra members pass unchanged only when the `any` check would keep them.
  const refused = extra === "allow"
    ? (v: unknown) => v !== null && typeof v === "object"
    : (v: unknown) => v !== undefined;
  return (value) => {
    for (let i = 0; i < names.length; i++) if (!guards[i](value[names[i]])) return false;
    for (const key in value) if (!known.has(key) && refused(value[key])) return false;
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
  const guard = compileGuard({ kind: "struct", name: "params", fields });
  const positional = generatePositional(fields);
  return (params, path) => {
    if (Array.isArray(params)) {
      if (params.length > names.length) return check(params, path);
      if (positional && params.length === names.length) {
        return positional(params) ?? check(params, path);
      }
      const named: Record<string, unknown> = {};
      for (let i = 0; i < params.length; i++) named[names[i]] = params[i];
      return guard(named) ? named : check(params, path);
    }
    return isPlainObject(params) && guard(params) ? params : check(params, path);
  };
}
