/**
 * JSON Schema (draft 2020-12) for IDL types, as they look in JSON on the wire
 * (datetimes and bytes as tagged objects or their string forms).
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
  StreamType,
  StructType,
  Type,
} from "./types.ts";

/** A JSON Schema object. */
export type JsonSchema = { [key: string]: unknown };

/** JSON Schema of an IDL type. Named structs are written inline with their `title`. */
export function toJsonSchema(type: Type): JsonSchema {
  const schema = base(type);
  if (type.doc !== undefined) schema.description = type.doc;
  return schema;
}

function base(type: Type): JsonSchema {
  switch (type.kind) {
    case "int":
      return {
        type: "integer",
        minimum: Number.MIN_SAFE_INTEGER,
        maximum: Number.MAX_SAFE_INTEGER,
      };
    case "int64":
      return {
        anyOf: [{ type: "integer" }, { type: "string", pattern: "^-?[0-9]{1,19}$" }],
        description: "64-bit integer",
      };
    case "float":
      return { type: "number" };
    case "string":
      return { type: "string" };
    case "bool":
      return { type: "boolean" };
    case "bytes":
      return {
        anyOf: [
          {
            type: "object",
            properties: { $bytes: { type: "string", contentEncoding: "base64" } },
            required: ["$bytes"],
            additionalProperties: false,
          },
          { type: "string", contentEncoding: "base64" },
        ],
      };
    case "datetime":
      return {
        anyOf: [
          {
            type: "object",
            properties: { $date: { type: "string", format: "date-time" } },
            required: ["$date"],
            additionalProperties: false,
          },
          { type: "string", format: "date-time" },
        ],
      };
    case "any":
      return {};
    case "array":
      return { type: "array", items: toJsonSchema((type as ArrayType).items) };
    case "map":
      return { type: "object", additionalProperties: toJsonSchema((type as MapType).values) };
    // Plain peers get a stream as the whole array; `x-stream` marks it as sent item by item.
    case "stream":
      return {
        type: "array",
        items: toJsonSchema((type as StreamType).items),
        "x-stream": true,
      };
    case "struct": {
      const struct = type as StructType;
      const schema: JsonSchema = { title: struct.name, ...fieldsSchema(struct.fields) };
      // "At least these fields": other members are allowed, of any type.
      if (struct.extra === "allow") schema.additionalProperties = true;
      return schema;
    }
    case "optional":
      return toJsonSchema((type as OptionalType).inner);
    case "nullable":
      return { anyOf: [toJsonSchema((type as NullableType).inner), { type: "null" }] };
    case "literal": {
      const values = (type as LiteralType).values;
      return values.length === 1 ? { const: values[0] } : { enum: [...values] };
    }
  }
}

/** JSON Schema of an object with the given fields (required = the non-optional ones). */
export function fieldsSchema(fields: Fields): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const [name, type] of Object.entries(fields)) {
    properties[name] = toJsonSchema(type);
    if (type.kind !== "optional") required.push(name);
  }
  return { type: "object", properties, required, additionalProperties: false };
}
