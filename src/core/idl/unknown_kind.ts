/**
 * The exhaustive default of every walker over IDL types: one place that turns "a kind left
 * out" into a compile error and "a kind the IDL does not know" into a clear run-time answer.
 *
 * @module
 */

/**
 * The `default` of a `switch` over the kinds of a `Type`. It type-checks only where the
 * cases have handled every kind (`type` is then `never`), so a kind added to `Type` fails
 * to compile in each walker that leaves it out. At run time (a value built by untyped code,
 * with a kind the IDL does not know) it returns `fallback` when one is given and otherwise
 * throws a TypeError naming the kind.
 *
 * @example
 * ```ts
 * import { t, type Type } from "@switchboard/rpc";
 * import { unknownKind } from "./unknown_kind.ts";
 *
 * function isText(type: Type): boolean {
 *   switch (type.kind) {
 *     case "string":
 *       return true;
 *     case "optional":
 *     case "nullable":
 *       return isText(type.inner);
 *     case "int":
 *     case "int64":
 *     case "float":
 *     case "bool":
 *     case "bytes":
 *     case "datetime":
 *     case "any":
 *     case "array":
 *     case "map":
 *     case "struct":
 *     case "literal":
 *       return false;
 *     default:
 *       return unknownKind(type);
 *   }
 * }
 * isText(t.optional(t.string));
 * ```
 */
export function unknownKind(type: never): never;
/** As above, answering `fallback` for a kind the IDL does not know instead of throwing. */
export function unknownKind<R>(type: never, fallback: R): R;
export function unknownKind(type: unknown, ...fallback: unknown[]): unknown {
  if (fallback.length) return fallback[0];
  const kind = typeof type === "object" && type !== null && "kind" in type ? type.kind : type;
  throw new TypeError(`unknown IDL type kind ${JSON.stringify(kind) ?? String(kind)}`);
}
