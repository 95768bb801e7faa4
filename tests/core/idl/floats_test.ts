// Where a declared type holds t.float, and whole numbers there wrapped for the writers.
import assert from "node:assert/strict";
import { t } from "../../../mod.ts";
import { holdsFloat, paramFloats, wholeFloats } from "../../../src/core/idl/floats.ts";

const wrap = (n: number) => `F${Object.is(n, -0) ? "-0" : n}`;

Deno.test("holdsFloat looks through containers, optional and nullable", () => {
  assert.equal(holdsFloat(t.float), true);
  assert.equal(holdsFloat(t.optional(t.nullable(t.float))), true);
  assert.equal(holdsFloat(t.array(t.map(t.struct("S", { x: t.float })))), true);
  assert.equal(holdsFloat(t.struct("S", { n: t.int, s: t.array(t.string) })), false);
  assert.equal(holdsFloat(t.any), false);
});

Deno.test("wholeFloats wraps whole numbers at float places only, and copies what it changes", () => {
  const type = t.struct("S", { x: t.float, n: t.int, xs: t.array(t.float), m: t.map(t.float) });
  const value = { x: 1, n: 2, xs: [-0, 0.5], m: { a: 3 } };
  assert.deepEqual(wholeFloats(type, value, wrap), {
    x: "F1",
    n: 2,
    xs: ["F-0", 0.5],
    m: { a: "F3" },
  });
  assert.deepEqual(value, { x: 1, n: 2, xs: [-0, 0.5], m: { a: 3 } });
});

Deno.test("paramFloats: by position in declared order, or by name", () => {
  const fields = { a: t.int, b: t.float };
  assert.deepEqual(paramFloats(fields, [1, 2, 3], wrap), [1, "F2", 3]);
  assert.deepEqual(paramFloats(fields, { a: 1, b: 2 }, wrap), { a: 1, b: "F2" });
  assert.equal(paramFloats({ a: t.int }, [1], wrap) instanceof Array, true);
});
