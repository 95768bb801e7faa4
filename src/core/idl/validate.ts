/**
 * Run-time validation of values against IDL types. Each type is compiled once into a
 * checking function (cached), so the per-call cost is a few closure calls. A check
 * returns the value to use: the input itself, or a normalised copy where the wire form
 * differs from the IDL form (an ISO string for a datetime, base64 for bytes, a safe
 * bigint for an int).
 *
 * @module
 */

import type { Fields, Infer, InferFields, Type } from "./types.ts";
import { typeName } from "./type_name.ts";
import { isVoidResult } from "./interface.ts";
import { unknownKind } from "./kinds.ts";
import {
  BadTagError,
  MAX_DEPTH,
  NotFiniteError,
  reviveTagged,
  TooDeepError,
  TooLargeError,
  untag,
} from "./tagged.ts";
import { decodeBase64 } from "../base64.ts";
import { isStreamSource } from "../stream/source.ts";

/**
 * A value did not match its declared type; `path` says where (`params.maxResults`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { t, validate, ValidationError } from "@switchboard/rpc";
 *
 * const Point = t.struct("Point", { x: t.int, y: t.int });
 * try {
 *   validate(Point, { x: 1, y: "2" }, "params");
 *   assert.fail("a string is no int");
 * } catch (error) {
 *   assert.ok(error instanceof ValidationError);
 *   assert.equal(error.path, "params.y");
 *   assert.equal(error.message, 'params.y: expected int, got "2"');
 * }
 * ```
 */
export class ValidationError extends Error {
  /** Always `ValidationError`. */
  override name = "ValidationError";
  /** Where the bad value sits, e.g. `params.filters[2].name`. */
  readonly path: string;
  /** Creates the error; the message is prefixed with the path. */
  constructor(path: string, problem: string) {
    super(`${path}: ${problem}`);
    this.path = path;
  }
}

/** A compiled check: returns the (possibly normalised) value or throws ValidationError. */
export type Check = (value: unknown, path: string) => unknown;

/**
 * Describes a bad value briefly for an error message.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeValue } from "@switchboard/rpc/server";
 *
 * assert.equal(describeValue(undefined), "nothing");
 * assert.equal(describeValue(12n), "12n");
 * assert.equal(describeValue([1, 2]), "an array");
 * assert.equal(describeValue("x".repeat(50)), `"${"x".repeat(40)}…"`);
 * ```
 */
export function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (typeof value === "string") {
    return JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value);
  }
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (typeof value === "bigint") return `${value}n`;
  if (Array.isArray(value)) return "an array";
  if (value instanceof Date) return "a datetime";
  if (value instanceof Uint8Array) return "bytes";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

function fail(path: string, type: Type, value: unknown): never {
  throw new ValidationError(path, `expected ${typeName(type)}, got ${describeValue(value)}`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    !(value instanceof Date) && !(value instanceof Uint8Array);
}

/** A tagged value (`{"$bytes": …}`, `{"$date": …}`) revived, when it is an instance of `of`. */
function untagged<T>(v: unknown, of: abstract new (...args: never[]) => T): T | undefined {
  if (!isPlainObject(v)) return undefined;
  const revived = untag(v);
  return revived instanceof of ? revived : undefined;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** Whether an ISO string's calendar day exists (`Date` rolls Feb 31 over to Mar 2). */
function realDay(iso: string): boolean {
  const [y, m, d] = [+iso.slice(0, 4), +iso.slice(5, 7), +iso.slice(8, 10)];
  const day = new Date(Date.UTC(y, m - 1, d));
  return day.getUTCMonth() === m - 1 && day.getUTCDate() === d;
}

const cache = new WeakMap<Type, Check>();

/**
 * Compiles (once) the check for a type.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { t } from "@switchboard/rpc";
 * import { compile } from "@switchboard/rpc/server";
 *
 * const ids = t.array(t.int);
 * const check = compile(ids);
 * assert.equal(compile(ids), check); // compiled once per type
 * assert.deepEqual(check([1, 2n], "ids"), [1, 2]);
 * assert.throws(() => check([1, 1.5], "ids"), /ids\[1\]: expected int, got 1.5/);
 * ```
 */
export function compile(type: Type): Check {
  let check = cache.get(type);
  if (!check) {
    check = build(type);
    cache.set(type, check);
  }
  return check;
}

function build(type: Type): Check {
  // A method that declares no result answers nothing, whatever its handler returned.
  if (isVoidResult(type)) return () => undefined;
  switch (type.kind) {
    case "int":
      return (v, path) => {
        if (typeof v === "number" && Number.isSafeInteger(v)) return v;
        if (typeof v === "bigint" && Number.isSafeInteger(Number(v))) return Number(v);
        return fail(path, type, v);
      };
    case "int64":
      return (v, path) => {
        if (typeof v === "number" && Number.isSafeInteger(v)) return v;
        if (typeof v === "bigint" && v >= -(2n ** 63n) && v < 2n ** 63n) {
          return Number.isSafeInteger(Number(v)) ? Number(v) : v;
        }
        if (typeof v === "string" && /^-?\d{1,19}$/.test(v)) {
          const big = BigInt(v);
          if (big >= -(2n ** 63n) && big < 2n ** 63n) {
            return Number.isSafeInteger(Number(big)) ? Number(big) : big;
          }
        }
        return fail(path, type, v);
      };
    case "float":
      return (v, path) => {
        if (typeof v === "number" && Number.isFinite(v)) return v;
        return fail(path, type, v);
      };
    case "string":
      return (v, path) => typeof v === "string" ? v : fail(path, type, v);
    case "bool":
      return (v, path) => typeof v === "boolean" ? v : fail(path, type, v);
    case "bytes":
      return (v, path) => {
        if (v instanceof Uint8Array) return v;
        if (v instanceof ArrayBuffer) return new Uint8Array(v);
        if (typeof v === "string") {
          try {
            return decodeBase64(v);
          } catch {
            throw new ValidationError(path, `expected bytes, got a string that is not base64`);
          }
        }
        return untagged(v, Uint8Array) ?? fail(path, type, v);
      };
    case "datetime":
      return (v, path) => {
        if (v instanceof Date) {
          return Number.isNaN(v.getTime()) ? fail(path, type, "an invalid date") : v;
        }
        if (typeof v === "string" && ISO_DATE.test(v) && realDay(v)) {
          const date = new Date(v);
          if (!Number.isNaN(date.getTime())) return date;
        }
        return untagged(v, Date) ?? fail(path, type, v);
      };
    case "any":
      return (v, path) => {
        if (v === undefined) return fail(path, type, v);
        try {
          return reviveTagged(v);
        } catch (e) {
          if (
            e instanceof TooDeepError || e instanceof TooLargeError || e instanceof BadTagError ||
            e instanceof NotFiniteError
          ) {
            throw new ValidationError(path, e.message);
          }
          throw e;
        }
      };
    case "literal": {
      const values = type.values;
      return (v, path) => values.includes(v as never) ? v : fail(path, type, v);
    }
    case "optional": {
      const inner = compile(type.inner);
      return (v, path) => v === undefined ? undefined : inner(v, path);
    }
    case "nullable": {
      const inner = compile(type.inner);
      const mismatch = `expected ${typeName(type.inner)}, got `;
      return (v, path) => {
        if (v === null) return null;
        try {
          return inner(v, path);
        } catch (e) {
          // Name the whole type (`int | null`) when the value itself is wrong, not a part.
          if (e instanceof ValidationError && e.message.startsWith(`${path}: ${mismatch}`)) {
            return fail(path, type, v);
          }
          throw e;
        }
      };
    }
    case "array": {
      const items = compile(type.items);
      return (v, path) => {
        if (!Array.isArray(v)) return fail(path, type, v);
        let out: unknown[] | undefined;
        for (let i = 0; i < v.length; i++) {
          const item = items(v[i], `${path}[${i}]`);
          if (item !== v[i]) (out ??= v.slice())[i] = item;
        }
        return out ?? v;
      };
    }
    case "map": {
      const values = compile(type.values);
      return (v, path) => {
        if (!isPlainObject(v)) return fail(path, type, v);
        let out: Record<string, unknown> | undefined;
        for (const key in v) {
          const item = values(v[key], `${path}.${key}`);
          if (item !== v[key]) (out ??= { ...v })[key] = item;
        }
        return out ?? v;
      };
    }
    case "stream":
      // The source itself; its items are checked one by one as they are read (core/stream).
      return (v, path) => isStreamSource(v) ? v : fail(path, type, v);
    case "struct": {
      const fieldsCheck = compileFields(type.fields, `${type.name} has`, type.extra === "allow");
      return (v, path) => {
        if (!isPlainObject(v)) return fail(path, type, v);
        return fieldsCheck(v, path);
      };
    }
    default:
      return unknownKind(type);
  }
}

/**
 * Compiles the check of an object against declared fields: every required field present
 * and valid, optional ones valid when present, no unknown field (or, with `extra`, unknown
 * fields kept and checked as `any`).
 */
function compileFields(
  fields: Fields,
  knownLabel: string,
  extra = false,
): (value: Record<string, unknown>, path: string) => Record<string, unknown> {
  const anyCheck = extra ? compile({ kind: "any" }) : undefined;
  const names = Object.keys(fields);
  const checks = names.map((name) => compile(fields[name]));
  const known = new Set(names);
  const knownList = names.length ? names.join(", ") : "no fields";
  return (value, path) => {
    let out: Record<string, unknown> | undefined;
    for (let i = 0; i < names.length; i++) {
      const name = names[i];
      // Own fields only: `toString` or `constructor` must not be found on the prototype.
      const raw = Object.hasOwn(value, name) ? value[name] : undefined;
      const checked = checks[i](raw, `${path}.${name}`);
      if (checked !== raw) (out ??= { ...value })[name] = checked;
    }
    for (const key in value) {
      if (known.has(key) || value[key] === undefined) continue;
      if (!anyCheck) {
        throw new ValidationError(`${path}.${key}`, `unknown field (${knownLabel} ${knownList})`);
      }
      const checked = anyCheck(value[key], `${path}.${key}`);
      if (checked !== value[key]) (out ??= { ...value })[key] = checked;
    }
    return out ?? value;
  };
}

/**
 * Checks a value against a type, returning the normalised value or throwing.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { t, validate } from "@switchboard/rpc";
 *
 * assert.deepEqual(validate(t.array(t.int), [1, 2]), [1, 2]);
 * assert.throws(() => validate(t.int, "1"), /value: expected int, got "1"/);
 * ```
 */
export function validate<T extends Type>(type: T, value: unknown, path = "value"): Infer<T> {
  return compile(type)(value, path) as Infer<T>;
}

/** A compiled check of a method's parameters, given by name or by position. */
export type ParamsCheck = (params: unknown, path?: string) => Record<string, unknown>;

const paramsCache = new WeakMap<Fields, ParamsCheck>();

/**
 * Compiles the check of a method's parameters. Positional params (an array) are matched
 * to the declared order; named params (an object) must use declared names; absent params
 * (`undefined`) are an empty set. The result is always the named form.
 */
export function compileParams(fields: Fields): ParamsCheck {
  const cached = paramsCache.get(fields);
  if (cached) return cached;
  const names = Object.keys(fields);
  const byName = compileFields(fields, "parameters are");
  const check: ParamsCheck = (params, path = "params") => {
    if (params === undefined || params === null) return byName({}, path);
    if (Array.isArray(params)) {
      if (params.length > names.length) {
        throw new ValidationError(
          path,
          `expected at most ${names.length} positional parameter(s) (${
            names.join(", ") || "none"
          }), got ${params.length}`,
        );
      }
      const named: Record<string, unknown> = {};
      for (let i = 0; i < params.length; i++) named[names[i]] = params[i];
      return byName(named, path);
    }
    if (isPlainObject(params)) return byName(params, path);
    throw new ValidationError(path, `expected an object or an array, got ${describeValue(params)}`);
  };
  paramsCache.set(fields, check);
  return check;
}

/**
 * Checks a method's parameters (by name or position); returns the named form.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { t, validateParams } from "@switchboard/rpc";
 *
 * const params = { a: t.int, b: t.optional(t.string) };
 * assert.deepEqual(validateParams(params, [1, "x"]), { a: 1, b: "x" });
 * assert.deepEqual(validateParams(params, { a: 1 }), { a: 1 });
 * assert.throws(() => validateParams(params, [1, "x", 2]), /at most 2 positional/);
 * ```
 */
export function validateParams<F extends Fields>(
  fields: F,
  params: unknown,
  path = "params",
): InferFields<F> {
  return compileParams(fields)(params, path) as InferFields<F>;
}

/** The depth limit applied to untyped (`any`) values. */
export { MAX_DEPTH };
