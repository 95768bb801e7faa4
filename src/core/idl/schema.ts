/**
 * JSON Schema (draft 2020-12) for IDL types, as they look in JSON on the wire
 * (datetimes and bytes as tagged objects or their string forms).
 *
 * @module
 */

import type { Fields, Type } from "./types.ts";
import { unknownKind } from "./kinds.ts";

/** A JSON Schema object. */
export type JsonSchema = { [key: string]: unknown };

/**
 * JSON Schema of an IDL type. Named structs are written inline with their `title`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { t } from "@switchboard/rpc";
 * import { toJsonSchema } from "@switchboard/rpc/server";
 *
 * assert.deepEqual(toJsonSchema(t.array(t.string)), { type: "array", items: { type: "string" } });
 * assert.deepEqual(toJsonSchema(t.struct("Tag", { name: t.string })), {
 *   title: "Tag",
 *   type: "object",
 *   properties: { name: { type: "string" } },
 *   required: ["name"],
 *   additionalProperties: false,
 * });
 * ```
 */
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
      return taggedOrString("$bytes", { contentEncoding: "base64" });
    case "datetime":
      return taggedOrString("$date", { format: "date-time" });
    case "any":
      return {};
    case "array":
      return { type: "array", items: toJsonSchema(type.items) };
    case "map":
      return { type: "object", additionalProperties: toJsonSchema(type.values) };
    // Plain peers get a stream as the whole array; `x-stream` marks it as sent item by item.
    case "stream":
      return { type: "array", items: toJsonSchema(type.items), "x-stream": true };
    case "struct": {
      const schema: JsonSchema = { title: type.name, ...fieldsSchema(type.fields) };
      // "At least these fields": other members are allowed, of any type.
      if (type.extra === "allow") schema.additionalProperties = true;
      return schema;
    }
    case "optional":
      return toJsonSchema(type.inner);
    case "nullable":
      return { anyOf: [toJsonSchema(type.inner), { type: "null" }] };
    case "literal": {
      const values = type.values;
      return values.length === 1 ? { const: values[0] } : { enum: [...values] };
    }
    default:
      return unknownKind(type);
  }
}

/** A value that travels as a tagged object (`{"$bytes": …}`) or as its plain string form. */
function taggedOrString(tag: string, string: JsonSchema): JsonSchema {
  return {
    anyOf: [
      {
        type: "object",
        properties: { [tag]: { type: "string", ...string } },
        required: [tag],
        additionalProperties: false,
      },
      { type: "string", ...string },
    ],
  };
}

/**
 * JSON Schema of an object with the given fields (required = the non-optional ones).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { t } from "@switchboard/rpc";
 * import { fieldsSchema } from "@switchboard/rpc/server";
 *
 * const schema = fieldsSchema({ q: t.string, limit: t.optional(t.bool) });
 * assert.deepEqual(schema.properties, { q: { type: "string" }, limit: { type: "boolean" } });
 * assert.deepEqual(schema.required, ["q"]);
 * ```
 */
export function fieldsSchema(fields: Fields): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const [name, type] of Object.entries(fields)) {
    properties[name] = toJsonSchema(type);
    if (type.kind !== "optional") required.push(name);
  }
  return { type: "object", properties, required, additionalProperties: false };
}
