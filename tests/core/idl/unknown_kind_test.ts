// The exhaustive default every walker over IDL types ends with. `deno test` type-checks
// this file, so the `@ts-expect-error` below must meet a real error: a walker whose switch
// leaves a kind out does not compile.

import assert from "node:assert/strict";
import { t, type Type, typeName } from "../../../mod.ts";
import { compile } from "../../../src/core/idl/validate.ts";
import { toJsonSchema } from "../../../src/core/idl/schema.ts";
import { xmlRpcTypeName } from "../../../src/core/idl/signature.ts";
import { unknownKind } from "../../../src/core/idl/unknown_kind.ts";

/** Every kind but `literal`: the shared default refuses to type-check. */
function leavesOutLiteral(type: Type): string {
  switch (type.kind) {
    case "int":
    case "int64":
    case "float":
    case "string":
    case "bool":
    case "bytes":
    case "datetime":
    case "any":
      return type.kind;
    case "array":
      return `[${leavesOutLiteral(type.items)}]`;
    case "map":
      return `{${leavesOutLiteral(type.values)}}`;
    case "struct":
      return type.name;
    case "optional":
    case "nullable":
      return leavesOutLiteral(type.inner);
    default:
      // @ts-expect-error: `literal` is not handled, so `type` is not `never` here
      return unknownKind(type);
  }
}

/** Every kind: the same default type-checks. */
function handlesAll(type: Type): string {
  switch (type.kind) {
    case "literal":
      return "literal";
    case "int":
    case "int64":
    case "float":
    case "string":
    case "bool":
    case "bytes":
    case "datetime":
    case "any":
    case "array":
    case "map":
    case "struct":
    case "optional":
    case "nullable":
      return type.kind;
    default:
      return unknownKind(type);
  }
}

const Odd = JSON.parse('{"kind":"unheard-of"}');

Deno.test("unknownKind: a kind the IDL does not know throws, or answers the fallback", () => {
  assert.equal(handlesAll(t.literal(1)), "literal");
  assert.equal(leavesOutLiteral(t.array(t.int)), "[int]");
  assert.throws(() => handlesAll(Odd), { name: "TypeError", message: /kind "unheard-of"/ });
  assert.equal(unknownKind(Odd as never, "fallback"), "fallback");
});

Deno.test("walkers refuse a kind the IDL does not know with a TypeError naming it", () => {
  // Before: compile answered no check at all (a crash at the first call), the others a
  // made-up answer (`undefined`, the bare kind).
  for (const walk of [compile, typeName, toJsonSchema, xmlRpcTypeName]) {
    assert.throws(() => walk(Odd), { name: "TypeError", message: /kind "unheard-of"/ });
  }
  assert.throws(() => compile(t.struct("S", { odd: Odd })), /kind "unheard-of"/);
});
