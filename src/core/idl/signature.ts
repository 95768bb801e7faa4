/**
 * XML-RPC style type names for IDL types, used by `system.methodSignature` and the
 * XML-RPC codec's type mapping.
 *
 * @module
 */

import type { Type } from "./types.ts";
import { unknownKind } from "./kinds.ts";

/** The XML-RPC type name of an IDL type (`int`, `double`, `struct`, …). */
export function xmlRpcTypeName(type: Type): string {
  switch (type.kind) {
    case "int":
      return "int";
    case "int64":
      return "i8";
    case "float":
      return "double";
    case "string":
      return "string";
    case "bool":
      return "boolean";
    case "bytes":
      return "base64";
    case "datetime":
      return "dateTime.iso8601";
    case "array":
    case "stream":
      return "array";
    case "map":
    case "struct":
      return "struct";
    case "optional":
    case "nullable":
      return xmlRpcTypeName(type.inner);
    case "literal": {
      const first = type.values[0];
      return typeof first === "number"
        ? (Number.isInteger(first) ? "int" : "double")
        : typeof first === "boolean"
        ? "boolean"
        : "string";
    }
    case "any":
      return "undef";
    default:
      return unknownKind(type);
  }
}

/** Whether values of the type are plain JSON (no datetimes, bytes, bigints or untyped). */
export function isJsonNative(type: Type): boolean {
  switch (type.kind) {
    case "int":
    case "float":
    case "string":
    case "bool":
    case "literal":
      return true;
    case "optional":
    case "nullable":
      return isJsonNative(type.inner);
    case "array":
      return isJsonNative(type.items);
    case "map":
      return isJsonNative(type.values);
    case "struct":
      return Object.values(type.fields).every(isJsonNative);
    case "int64":
    case "bytes":
    case "datetime":
    case "any":
    case "stream":
      return false;
    default:
      return unknownKind(type, false);
  }
}
