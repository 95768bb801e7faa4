import assert from "node:assert/strict";
import { compile } from "../../../server.ts";
import { method, t, type Type } from "../../../mod.ts";
import { compileParams } from "../../../src/core/idl/validate.ts";
import { closureGuard, compileGuard, guarded, guardedParams } from "../../../src/core/idl/guard.ts";

const Item = t.struct("Item", { sku: t.string, qty: t.int, note: t.optional(t.string) });
const Doc = t.struct("Doc", {
  id: t.int64,
  price: t.float,
  ok: t.bool,
  at: t.datetime,
  raw: t.bytes,
  kind: t.literal("a", "b"),
  parent: t.nullable(t.int),
  items: t.array(Item),
  tags: t.map(t.string),
  extra: t.any,
});

const good = () => ({
  id: 7,
  price: 1.5,
  ok: true,
  at: new Date("2024-01-02T03:04:05Z"),
  raw: new Uint8Array([1, 2]),
  kind: "a",
  parent: null,
  items: [{ sku: "x", qty: 1 }, { sku: "y", qty: 2, note: "n" }],
  tags: { k: "v" },
  extra: "anything",
});

/** What the full check does with a value: the value it returns, or the error message. */
function outcome(check: (v: unknown, p: string) => unknown, value: unknown): unknown {
  try {
    return { value: check(value, "value") };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

Deno.test("a guard accepts well-typed values without running the full check", () => {
  assert.equal(compileGuard(Doc)(good()), true);
  assert.equal(closureGuard(Doc)(good()), true);
  const value = good();
  assert.equal(guarded(Doc, () => assert.fail("full check ran"))(value, "value"), value);
});

Deno.test("a guard refuses every kind of ill-typed or normalisable value", () => {
  const bad: Record<string, unknown>[] = [
    { id: 1.5 },
    { id: 2n ** 40n }, // a bigint the full check turns into a number
    { id: "12" }, // an int64 string the full check parses
    { price: Infinity },
    { ok: 1 },
    { at: "2024-01-02" }, // an ISO string the full check revives
    { at: new Date("nope") },
    { raw: "AQI=" }, // base64 the full check decodes
    { kind: "c" },
    { parent: undefined },
    { items: [{ sku: "x", qty: 1, colour: "red" }] }, // unknown field
    { items: [{ sku: "x" }] }, // missing field
    { items: {} },
    { tags: { k: 1 } },
    { tags: [] },
    { extra: { $date: "2024-01-02T00:00:00Z" } }, // a tagged value inside `any`
    { extra: undefined },
    { extra: Infinity }, // a number JSON cannot write back (the full check refuses it)
    { extra: -Infinity },
    { extra: NaN },
    { surprise: 1 },
  ];
  // Both forms: the generated code, and the closures used where code may not be generated.
  for (const guard of [compileGuard(Doc), closureGuard(Doc)]) {
    for (const patch of bad) {
      assert.equal(guard({ ...good(), ...patch }), false, Object.keys(patch)[0]);
    }
    assert.equal(guard(null), false);
    assert.equal(guard([]), false);
  }
  const Odd = { kind: "unheard-of" } as unknown as Type;
  assert.equal(compileGuard(Odd)(1), false);
  assert.equal(closureGuard(Odd)(1), false);
  assert.equal(compileGuard(t.struct("S", { x: Odd }))({ x: 1 }), false);
});

Deno.test("a declared-void result is never passed through: the full check answers null", () => {
  const fire = method({});
  assert.equal(compileGuard(fire.result)("ignored"), false);
  assert.equal(closureGuard(fire.result)("ignored"), false);
  assert.equal(guarded(fire.result, compile(fire.result))("ignored", "result"), undefined);
});

Deno.test("field names that are not identifiers are quoted in the generated code", () => {
  const Weird = t.struct("Weird", { 'a"b': t.int, "x\\y": t.string, "if": t.bool });
  assert.equal(compileGuard(Weird)({ 'a"b': 1, "x\\y": "s", if: true }), true);
  assert.equal(compileGuard(Weird)({ 'a"b': 1, "x\\y": "s", if: true, z: 1 }), false);
});

Deno.test("a guarded check returns exactly what the full check returns", () => {
  const samples: unknown[] = [
    good(),
    { ...good(), id: 2n ** 40n },
    { ...good(), at: "2024-01-02T00:00:00Z" },
    { ...good(), raw: "AQI=" },
    { ...good(), items: [{ sku: "x", qty: 1.5 }] },
    { ...good(), items: [{ sku: "x", qty: 1, note: undefined }] },
    { ...good(), extra: { $bytes: "AQI=" } },
    { ...good(), surprise: 1 },
    "not a doc",
    undefined,
  ];
  const full = compile(Doc);
  const fast = guarded(Doc, full);
  for (const sample of samples) {
    assert.deepEqual(outcome(fast, sample), outcome(full, sample));
  }
});

Deno.test("guarded params match the full check by name, by position and when absent", () => {
  const fields = { a: t.int, b: t.optional(t.string) };
  const full = compileParams(fields);
  const fast = guardedParams(fields, full);
  const samples: unknown[] = [
    { a: 1, b: "x" },
    { a: 1 },
    [1, "x"],
    [1],
    [1, "x", "extra"],
    [1.5],
    [1.5, "x"],
    [1, 2],
    ["1", "x"],
    [1, undefined],
    { a: 1, c: 2 },
    { a: "1" },
    undefined,
    null,
    "nope",
  ];
  const run = (check: typeof full, v: unknown) => outcome((x, p) => check(x, p), v);
  for (const sample of samples) assert.deepEqual(run(fast, sample), run(full, sample));
  const named = { a: 1, b: "x" };
  assert.equal(fast(named), named, "well-typed named params are passed through as they are");
});

Deno.test("positional params of every declared kind take the fast path only when well typed", () => {
  const fields = { doc: Doc, 'a"b': t.int, "if": t.optional(t.bool), x: t.int };
  const full = compileParams(fields);
  const fast = guardedParams(fields, full);
  const samples: unknown[] = [
    [good(), 1, true, 2],
    [good(), 1, undefined, 2],
    [{ ...good(), at: "2024-01-02T00:00:00Z" }, 1, true, 2],
    [good(), 1, "yes", 2],
    [good(), 1, true, "2"],
  ];
  const run = (check: typeof full, v: unknown) => outcome((x, p) => check(x, p), v);
  for (const sample of samples) assert.deepEqual(run(fast, sample), run(full, sample));
  const simple = guardedParams({ a: t.int, b: t.int }, compileParams({ a: t.int, b: t.int }));
  assert.deepEqual(simple([1, 2]), { a: 1, b: 2 });
  assert.throws(() => simple([1, 2.5]), /params\.b/);
  const proto = { ["__proto__"]: t.int };
  const protoFast = guardedParams(proto, compileParams(proto));
  assert.deepEqual(Object.keys(protoFast([1])), ["__proto__"], "a field, not the prototype");
});
