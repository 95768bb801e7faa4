/**
 * XML-RPC style type names for IDL types, used by `system.methodSignature` and the
 * XML-RPC codec's type mapping.
 *
 * @module
 */

import type { LiteralType, NullableType, OptionalType, Type } from "./types.ts";

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
      return xmlRpcTypeName((type as OptionalType | NullableType).inner);
    case "literal": {
      const first = (type as LiteralType).values[0];
      return typeof first === "number"
        ? (Number.isInteger(first) ? "int" : "double")
        : typeof first === "boolean"
        ? "boolean"
        : "string";
    }
    case "any":
      return "undef";
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
      return isJsonNative((type as OptionalType).inner);
    case "array":
      return isJsonNative((type as { items: Type } & Type).items);
    case "map":
      return isJsonNative((type as { values: Type } & Type).values);
    case "struct":
      return Object.values((type as { fields: Record<string, Type> } & Type).fields).every(
        isJsonNative,
      );
    default:
      return false;
  }
}
