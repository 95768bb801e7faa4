// The exhaustive default every walker over IDL types ends with. `deno test` type-checks
// this file, so the `@ts-expect-error` below must meet a real error: a walker whose switch
// leaves a kind out does not compile.

import assert from "node:assert/strict";
import { t, type Type, typeName } from "../../../mod.ts";
import { compile } from "../../../src/core/idl/validate.ts";
import { toJsonSchema } from "../../../src/core/idl/schema.ts";
import { xmlRpcTypeName } from "../../../src/core/idl/signature.ts";
import { isSimple, unknownKind } from "../../../src/core/idl/kinds.ts";

/** Every kind but `literal`: the shared default refuses to type-check. */
function leavesOutLiteral(type: Type): string {
  if (isSimple(type)) return type.kind;
  switch (type.kind) {
    case "array":
      return `[${leavesOutLiteral(type.items)}]`;
    case "map":
    case "struct":
      return type.kind;
    case "optional":
    case "nullable":
      return leavesOutLiteral(type.inner);
    default:
      // @ts-expect-error: `literal` is not handled, so `type` is not `never` here
      return unknownKind(type);
  }
}

/** A type as untyped code might build it, with a kind the IDL does not know. */
const Odd = JSON.parse('{"kind":"unheard-of"}');

Deno.test("unknownKind: a kind the IDL does not know throws, or answers the fallback", () => {
  assert.equal(leavesOutLiteral(t.array(t.optional(t.int))), "[int]");
  assert.throws(() => leavesOutLiteral(Odd), { name: "TypeError", message: /kind "unheard-of"/ });
  assert.equal(unknownKind(Odd as never, "fallback"), "fallback");
});

Deno.test("isSimple: the kinds written by name alone, and no others", () => {
  const simple = [t.int, t.int64, t.float, t.string, t.bool, t.bytes, t.datetime, t.any];
  const others = [t.array(t.int), t.map(t.int), t.struct("S", {}), t.literal(1)];
  for (const type of simple) assert.equal(isSimple(type), true, type.kind);
  for (const type of [...others, t.optional(t.int), t.nullable(t.int)]) {
    assert.equal(isSimple(type), false, type.kind);
  }
  assert.equal(isSimple(Odd), false);
  assert.equal(isSimple(JSON.parse('{"kind":"toString"}')), false);
});

Deno.test("walkers refuse a kind the IDL does not know with a TypeError naming it", () => {
  // Before: compile answered no check at all (a crash at the first call), the others a
  // made-up answer (`undefined`, the bare kind).
  for (const walk of [compile, typeName, toJsonSchema, xmlRpcTypeName]) {
    assert.throws(() => walk(Odd), { name: "TypeError", message: /kind "unheard-of"/ });
  }
  assert.throws(() => compile(t.struct("S", { odd: Odd })), /kind "unheard-of"/);
});
