/**
 * msgpack has its own bytes (bin), so a msgpack str where the IDL declares `t.bytes` is
 * text to be taken as its UTF-8 bytes (Neovim sends Lua strings as str), never base64:
 * base64 strings are how JSON carries bytes, and only JSON-RPC revives them. The TCP
 * transports pass params through {@linkcode strBytesParams} before the router checks them.
 *
 * @module
 */

import type { Identity } from "../../core/context.ts";
import type { MethodDef } from "../../core/idl/interface.ts";
import type {
  ArrayType,
  Fields,
  MapType,
  NullableType,
  OptionalType,
  StructType,
  Type,
} from "../../core/idl/types.ts";

/** Finds a method's declaration (a `Router` is one). */
export interface ParamsLookup {
  /** The method a caller reaches under a name, if any. */
  resolve(method: string, caller?: Identity): { readonly def: MethodDef } | undefined;
}

const utf8 = new TextEncoder();
/** Whether a type has `t.bytes` anywhere inside (cached: most methods have none). */
const holdsBytes = new WeakMap<Type | Fields, boolean>();

/** Whether any of `fields` is (or holds) `t.bytes` (remembered per fields object). */
export function fieldsHoldBytes(fields: Fields): boolean {
  let known = holdsBytes.get(fields);
  if (known === undefined) {
    holdsBytes.set(fields, false); // recursive structs end here
    known = Object.values(fields).some(typeHoldsBytes);
    holdsBytes.set(fields, known);
  }
  return known;
}

function typeHoldsBytes(type: Type): boolean {
  switch (type.kind) {
    case "bytes":
      return true;
    case "array":
      return typeHoldsBytes((type as ArrayType).items);
    case "map":
      return typeHoldsBytes((type as MapType).values);
    case "optional":
    case "nullable":
      return typeHoldsBytes((type as OptionalType | NullableType).inner);
    case "struct":
      return fieldsHoldBytes((type as StructType).fields);
    default:
      return false;
  }
}

/** `value` with every str at a `t.bytes` position replaced by its UTF-8 bytes. */
function convert(type: Type, value: unknown): unknown {
  switch (type.kind) {
    case "bytes":
      return typeof value === "string" ? utf8.encode(value) : value;
    case "optional":
    case "nullable":
      return convert((type as OptionalType | NullableType).inner, value);
    case "array": {
      if (!Array.isArray(value)) return value;
      const items = (type as ArrayType).items;
      if (!typeHoldsBytes(items)) return value;
      return value.map((item) => convert(items, item));
    }
    case "map": {
      const values = (type as MapType).values;
      if (!isRecord(value) || !typeHoldsBytes(values)) return value;
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(value)) out[key] = convert(values, value[key]);
      return out;
    }
    case "struct":
      return convertFields((type as StructType).fields, value);
    default:
      return value;
  }
}

function convertFields(fields: Fields, value: unknown): unknown {
  if (!isRecord(value) || !fieldsHoldBytes(fields)) return value;
  const out: Record<string, unknown> = { ...value };
  for (const name of Object.keys(fields)) {
    if (Object.hasOwn(value, name)) out[name] = convert(fields[name], value[name]);
  }
  return out;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    !(value instanceof Uint8Array) && !(value instanceof Date);
}

/**
 * The params of a msgpack-rpc call with str values at `t.bytes` positions as UTF-8 bytes
 * (by position or by name); the params themselves when the method declares no bytes.
 */
export function strBytesParams(
  lookup: ParamsLookup,
  method: string,
  params: unknown,
  caller?: Identity,
): unknown {
  const fields = lookup.resolve(method, caller)?.def.params;
  return fields ? strBytesOf(fields, params) : params;
}

/** {@linkcode strBytesParams} for a method whose declared params are already at hand. */
export function strBytesOf(fields: Fields, params: unknown): unknown {
  if (!fieldsHoldBytes(fields)) return params;
  if (!Array.isArray(params)) return convertFields(fields, params);
  const names = Object.keys(fields);
  return params.map((param, i) => i < names.length ? convert(fields[names[i]], param) : param);
}
