/**
 * The kinds of IDL types as walkers see them: the exhaustive default every walker's switch
 * ends with (one place that turns "a kind left out" into a compile error and "a kind the
 * IDL does not know" into a clear run-time answer), and the simple kinds, those written
 * by their name alone.
 *
 * @module
 */

import type { SimpleType, Type } from "./types.ts";

/**
 * The `default` of a `switch` over the kinds of a `Type`. It type-checks only where the
 * cases have handled every kind (`type` is then `never`), so a kind added to `Type` fails
 * to compile in each walker that leaves it out. At run time (a value built by untyped code,
 * with a kind the IDL does not know) it returns `fallback` when one is given and otherwise
 * throws a TypeError naming the kind.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { t, type Type } from "@switchboard/rpc";
 * import { isSimple, unknownKind } from "./kinds.ts";
 *
 * function isText(type: Type): boolean {
 *   if (isSimple(type)) return type.kind === "string";
 *   switch (type.kind) {
 *     case "optional":
 *     case "nullable":
 *       return isText(type.inner);
 *     case "array":
 *     case "map":
 *     case "struct":
 *     case "literal":
 *     case "stream":
 *       return false;
 *     default:
 *       return unknownKind(type);
 *   }
 * }
 * assert.equal(isText(t.optional(t.string)), true);
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

/** Every simple kind, once: the record's type keeps it equal to {@linkcode SimpleType}. */
const SIMPLE: { readonly [K in SimpleType["kind"]]: true } = {
  int: true,
  int64: true,
  float: true,
  string: true,
  bool: true,
  bytes: true,
  datetime: true,
  any: true,
};

/** Whether a type is of a simple kind; a walker's switch then handles the others. */
export function isSimple(type: Type): type is SimpleType {
  return Object.hasOwn(SIMPLE, type.kind);
}

/**
 * The type of a stream's items, or the type itself when it is not a stream (a streamed
 * result or param is checked item by item against it).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { t } from "@switchboard/rpc";
 * import { itemsOf } from "./kinds.ts";
 *
 * assert.equal(itemsOf(t.stream(t.int)), t.int);
 * assert.equal(itemsOf(t.string), t.string);
 * ```
 */
export function itemsOf(type: Type): Type {
  return type.kind === "stream" ? type.items : type;
}
