/**
 * Where a declared type holds `t.float`, and a value's whole numbers at those places marked
 * for the writer. JavaScript has one number type, so `3.0` and `3` are the same value, and
 * msgpack and JSON writers write it as the integer `3` (and `-0` as `0`): a peer that keeps
 * the kind (Vim script, Python, Ruby) then sees an int where the IDL says float. Codecs wrap
 * those numbers (msgpack: a float 64; JSON: the text `3.0`) with {@linkcode wholeFloats}.
 *
 * @module
 */

import type { Fields, Type } from "./types.ts";
import { isSimple, unknownKind } from "./kinds.ts";

/** Whether a type has `t.float` anywhere inside (remembered: most have none). */
const holds = new WeakMap<Type | Fields, boolean>();

/** Whether `type` is, or holds at any depth, `t.float`. */
export function holdsFloat(type: Type): boolean {
  if (isSimple(type)) return type.kind === "float";
  switch (type.kind) {
    case "optional":
    case "nullable":
      return holdsFloat(type.inner);
    case "literal":
      return false;
    case "array":
    case "map":
    case "struct": {
      let known = holds.get(type);
      if (known === undefined) {
        holds.set(type, false); // a recursive type ends here
        known = type.kind === "array"
          ? holdsFloat(type.items)
          : type.kind === "map"
          ? holdsFloat(type.values)
          : fieldsHoldFloat(type.fields);
        holds.set(type, known);
      }
      return known;
    }
    // A stream's items go one by one, not through this walk (see core/stream).
    case "stream":
      return false;
    default:
      return unknownKind(type, false);
  }
}

/** Whether any of `fields` (a struct's, or a method's params) is or holds `t.float`. */
export function fieldsHoldFloat(fields: Fields): boolean {
  let known = holds.get(fields);
  if (known === undefined) {
    holds.set(fields, false);
    known = Object.values(fields).some(holdsFloat);
    holds.set(fields, known);
  }
  return known;
}

/**
 * `value` (already checked against `type`) with every whole number at a `t.float` place,
 * `-0` included, replaced by `wrap(number)`; containers on the way are copied, never
 * changed. Work is bounded by the value's size.
 */
export function wholeFloats(type: Type, value: unknown, wrap: (n: number) => unknown): unknown {
  if (isSimple(type)) {
    const whole = type.kind === "float" && typeof value === "number" && Number.isInteger(value);
    return whole ? wrap(value) : value;
  }
  switch (type.kind) {
    case "optional":
    case "nullable":
      return wholeFloats(type.inner, value, wrap);
    case "array": {
      const items = type.items;
      if (!Array.isArray(value) || !holdsFloat(items)) return value;
      return value.map((item) => wholeFloats(items, item, wrap));
    }
    case "map": {
      const values = type.values;
      if (!isRecord(value) || !holdsFloat(values)) return value;
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(value)) {
        const item = wholeFloats(values, value[key], wrap);
        // A member named __proto__ stays a member: where Object.prototype has its accessor
        // (Node, browsers; not Deno), assigning it would set the prototype.
        if (key !== "__proto__") out[key] = item;
        else {
          Object.defineProperty(out, key, {
            value: item,
            enumerable: true,
            writable: true,
            configurable: true,
          });
        }
      }
      return out;
    }
    case "struct":
      return fieldFloats(type.fields, value, wrap);
    case "literal":
    case "stream":
      return value;
    default:
      return unknownKind(type, value);
  }
}

function fieldFloats(fields: Fields, value: unknown, wrap: (n: number) => unknown): unknown {
  if (!isRecord(value) || !fieldsHoldFloat(fields)) return value;
  const out: Record<string, unknown> = { ...value };
  for (const name of Object.keys(fields)) {
    if (Object.hasOwn(value, name)) out[name] = wholeFloats(fields[name], value[name], wrap);
  }
  return out;
}

/**
 * {@linkcode wholeFloats} for a call's params, by position (an array, in declared order) or
 * by name (an object); anything else is returned as it is.
 */
export function paramFloats(
  fields: Fields,
  params: unknown,
  wrap: (n: number) => unknown,
): unknown {
  if (!fieldsHoldFloat(fields)) return params;
  if (!Array.isArray(params)) return fieldFloats(fields, params, wrap);
  const types = Object.values(fields);
  return params.map((param, i) => i < types.length ? wholeFloats(types[i], param, wrap) : param);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    !(value instanceof Uint8Array) && !(value instanceof Date);
}
