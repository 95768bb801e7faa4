/**
 * A readable name of an IDL type, as error messages and signatures spell it.
 *
 * @module
 */

import type { Type } from "./types.ts";
import { isSimple, unknownKind } from "./kinds.ts";

/**
 * A readable name of a type, as used in error messages and signatures.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { t, typeName } from "@switchboard/rpc";
 *
 * assert.equal(typeName(t.array(t.optional(t.int))), "array<int?>");
 * assert.equal(typeName(t.literal("a", 1)), '"a" | 1');
 * ```
 */
export function typeName(type: Type): string {
  if (isSimple(type)) return type.kind;
  switch (type.kind) {
    case "array":
      return `array<${typeName(type.items)}>`;
    case "map":
      return `map<${typeName(type.values)}>`;
    case "stream":
      return `stream<${typeName(type.items)}>`;
    case "struct":
      return type.name;
    case "optional":
      return `${typeName(type.inner)}?`;
    case "nullable":
      return `${typeName(type.inner)} | null`;
    case "literal":
      return type.values.map((v) => JSON.stringify(v)).join(" | ");
    default:
      return unknownKind(type);
  }
}
