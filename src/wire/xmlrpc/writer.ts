/**
 * Writes JavaScript values as XML-RPC `<value>`s, typed by an IDL type where one is
 * known (so a `t.float` 3 goes as `<double>`, a `t.int64` as `<i8>`) and by the value
 * itself otherwise.
 *
 * @module
 */

import type { Type } from "../../core/idl/types.ts";
import { isSimple, unknownKind } from "../../core/idl/kinds.ts";
import { MAX_DEPTH } from "../../core/idl/tagged.ts";
import { encodeBase64 } from "../../core/base64.ts";
import { arrivedAsDouble, doublesIn } from "./double_marks.ts";

/**
 * A value XML-RPC cannot carry (a NaN, an int beyond 32 bits typed `int`, a cycle…).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { t } from "@switchboard/rpc";
 * import { encodeMethodResponse, XmlRpcWriteError } from "@switchboard/rpc/xmlrpc";
 *
 * assert.throws(() => encodeMethodResponse(NaN), XmlRpcWriteError);
 * assert.throws(() => encodeMethodResponse(2 ** 40, t.int), /declare the type t.int64/);
 * ```
 */
export class XmlRpcWriteError extends Error {
  /** Always `XmlRpcWriteError`. */
  override name = "XmlRpcWriteError";
}

const INT32_MIN = -(2 ** 31), INT32_MAX = 2 ** 31 - 1;
const INT64_MIN = -(2n ** 63n), INT64_MAX = 2n ** 63n - 1n;
const NEEDS_ESCAPE = /[&<>\r]/;
// Characters XML 1.0 cannot carry at all, not even as character references.
// deno-lint-ignore no-control-regex
const NOT_XML_CHAR = /[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]/;

function fail(path: string, problem: string): never {
  throw new XmlRpcWriteError(`${path}: ${problem}`);
}

/** Escapes text for element content; `\r` as a reference, as parsers turn raw ones into `\n`. */
export function escapeXml(text: string, path = "value"): string {
  if (NOT_XML_CHAR.test(text)) {
    const bad = NOT_XML_CHAR.exec(text)![0].charCodeAt(0).toString(16).padStart(4, "0");
    fail(path, `string holds U+${bad.toUpperCase()}, which XML cannot carry (send bytes)`);
  }
  if (!text.isWellFormed()) fail(path, "string holds a lone surrogate");
  if (!NEEDS_ESCAPE.test(text)) return text;
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(
    /\r/g,
    "&#13;",
  );
}

function int(v: number, path: string): string {
  if (v < INT32_MIN || v > INT32_MAX) {
    fail(path, `${v} does not fit XML-RPC's 32-bit <int> (declare the type t.int64 for <i8>)`);
  }
  return `<value><int>${v}</int></value>`;
}

function i8(v: number | bigint, path: string): string {
  if (typeof v === "bigint" && (v < INT64_MIN || v > INT64_MAX)) {
    fail(path, `${v} does not fit 64 bits`);
  }
  return `<value><i8>${v}</i8></value>`;
}

function double(v: number, path: string): string {
  if (!Number.isFinite(v)) fail(path, `${v} cannot travel as an XML-RPC <double>`);
  // String(-0) is "0": the sign would be lost.
  return `<value><double>${Object.is(v, -0) ? "-0" : v}</double></value>`;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

/** A date in XML-RPC's own form, in UTC and whole seconds: `19980717T14:08:55`. */
export function formatDateTime(date: Date, path = "value"): string {
  const y = date.getUTCFullYear();
  if (!(y >= 0 && y <= 9999)) fail(path, `the date ${date} cannot travel as dateTime.iso8601`);
  return `${pad(y, 4)}${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}T${
    pad(date.getUTCHours())
  }:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date) &&
    !(v instanceof Uint8Array) && !(v instanceof ArrayBuffer);
}

function member(name: string, value: string, path: string): string {
  return `<member><name>${escapeXml(name, path)}</name>${value}</member>`;
}

/**
 * Writes any value by what it is: safe integers within 32 bits as `<int>` (unless they
 * arrived as `<double>` at that place: see `double_marks.ts`), bigints as `<i8>`.
 */
export function writeUntyped(v: unknown, path = "value", depth = 0): string {
  switch (typeof v) {
    case "string":
      return `<value><string>${escapeXml(v, path)}</string></value>`;
    case "number":
      return Number.isInteger(v) && v >= INT32_MIN && v <= INT32_MAX
        ? `<value><int>${v}</int></value>`
        : double(v, path);
    case "boolean":
      return v ? "<value><boolean>1</boolean></value>" : "<value><boolean>0</boolean></value>";
    case "bigint":
      return i8(v, path);
    case "undefined":
      return "<value><nil/></value>";
    case "object": {
      if (v === null) return "<value><nil/></value>";
      if (v instanceof Date) {
        if (Number.isNaN(v.getTime())) fail(path, "invalid date");
        return `<value><dateTime.iso8601>${formatDateTime(v, path)}</dateTime.iso8601></value>`;
      }
      if (v instanceof Uint8Array) return `<value><base64>${encodeBase64(v)}</base64></value>`;
      if (v instanceof ArrayBuffer) {
        return `<value><base64>${encodeBase64(new Uint8Array(v))}</base64></value>`;
      }
      if (depth >= MAX_DEPTH) fail(path, `value nests deeper than ${MAX_DEPTH} levels`);
      const doubles = doublesIn(v);
      if (Array.isArray(v)) {
        let out = "<value><array><data>";
        for (let i = 0; i < v.length; i++) {
          out += writeItem(v[i], undefined, doubles, i, `${path}[${i}]`, depth + 1);
        }
        return out + "</data></array></value>";
      }
      let out = "<value><struct>";
      for (const key in v as Record<string, unknown>) {
        const item = (v as Record<string, unknown>)[key];
        if (item === undefined) continue;
        out += member(
          key,
          writeItem(item, undefined, doubles, key, `${path}.${key}`, depth + 1),
          path,
        );
      }
      return out + "</struct></value>";
    }
    default:
      return fail(path, `a ${typeof v} cannot travel over XML-RPC`);
  }
}

/**
 * One item of an array or struct: by its type when it has one other than `t.any`, else by
 * value, as `<double>` when it arrived as a whole `<double>` at this place.
 */
function writeItem(
  v: unknown,
  type: Type | undefined,
  doubles: ReadonlyMap<number | string, number> | undefined,
  place: number | string,
  path: string,
  depth: number,
): string {
  if (doubles !== undefined && arrivedAsDouble(doubles, place, v) && untyped(type)) {
    return double(v as number, path);
  }
  return type ? writeTyped(v, type, path, depth) : writeUntyped(v, path, depth);
}

/** Whether a type leaves the kind of a number open (none, or `t.any`, maybe optional). */
function untyped(type: Type | undefined): boolean {
  if (type === undefined) return true;
  if (isSimple(type)) return type.kind === "any";
  switch (type.kind) {
    case "optional":
    case "nullable":
      return untyped(type.inner);
    case "array":
    case "map":
    case "struct":
    case "literal":
    case "stream":
      return false;
    default:
      return unknownKind(type, false);
  }
}

/**
 * Writes a value of an IDL type (already checked against it, as router results are):
 * the type decides `<int>` vs `<double>` vs `<i8>`; untyped parts are written by value.
 */
export function writeTyped(v: unknown, type: Type, path = "value", depth = 0): string {
  switch (type.kind) {
    case "int":
      if (typeof v === "number" && Number.isInteger(v)) return int(v, path);
      break;
    case "int64":
      if (typeof v === "bigint" || (typeof v === "number" && Number.isInteger(v))) {
        return i8(v, path);
      }
      break;
    case "float":
      if (typeof v === "number") return double(v, path);
      break;
    case "optional":
    case "nullable":
      if (v === null || v === undefined) return "<value><nil/></value>";
      return writeTyped(v, type.inner, path, depth);
    // A streamed result reaches XML-RPC collected, as the whole array (within its limit).
    case "array":
    case "stream":
      if (Array.isArray(v)) {
        if (depth >= MAX_DEPTH) fail(path, `value nests deeper than ${MAX_DEPTH} levels`);
        const items = type.items;
        const doubles = doublesIn(v);
        let out = "<value><array><data>";
        for (let i = 0; i < v.length; i++) {
          out += writeItem(v[i], items, doubles, i, `${path}[${i}]`, depth + 1);
        }
        return out + "</data></array></value>";
      }
      break;
    case "map":
    case "struct":
      if (isRecord(v)) {
        if (depth >= MAX_DEPTH) fail(path, `value nests deeper than ${MAX_DEPTH} levels`);
        const fields = type.kind === "struct" ? type.fields : undefined;
        const values = type.kind === "map" ? type.values : undefined;
        const doubles = doublesIn(v);
        let out = "<value><struct>";
        for (const key in v) {
          const item = v[key];
          if (item === undefined) continue;
          const itemType = values ?? (Object.hasOwn(fields!, key) ? fields![key] : undefined);
          out += member(
            key,
            writeItem(item, itemType, doubles, key, `${path}.${key}`, depth + 1),
            path,
          );
        }
        return out + "</struct></value>";
      }
      break;
    case "string":
    case "bool":
    case "bytes":
    case "datetime":
    case "literal":
    case "any":
      break;
    default:
      return unknownKind(type, writeUntyped(v, path, depth));
  }
  // string, bool, bytes, datetime, literal and any are written by value, as is anything
  // that does not match its declared type.
  return writeUntyped(v, path, depth);
}
