// "At least these fields": a struct that keeps members beyond its declared fields.
import assert from "node:assert/strict";
import { t } from "../../../src/core/idl/types.ts";
import { validate, ValidationError } from "../../../src/core/idl/validate.ts";
import { closureGuard, compileGuard } from "../../../src/core/idl/guard.ts";
import { toJsonSchema } from "../../../src/core/idl/schema.ts";

const Loose = t.struct("Loose", { id: t.int, when: t.optional(t.datetime) }, { extra: "allow" });
const Strict = t.struct("Strict", { id: t.int });

Deno.test("extra: allow keeps unknown members as they came; the default refuses them", () => {
  const value = { id: 1, note: "kept", nested: { deep: [1, 2] } };
  assert.deepEqual(validate(Loose, value), value);
  assert.throws(() => validate(Strict, { id: 1, note: "x" }), ValidationError);
  // Declared fields are still checked and normalised; extras are checked as t.any.
  assert.throws(() => validate(Loose, { note: "no id" }), /Loose|id/);
  const out = validate(Loose, {
    id: 2,
    when: "2024-01-02T03:04:05Z",
    tag: { $date: "2024-01-02" },
  });
  assert.ok(out.when instanceof Date);
  assert.ok((out as Record<string, unknown>).tag instanceof Date);
  let deep: unknown = 1;
  for (let i = 0; i < 100; i++) deep = [deep];
  assert.throws(() => validate(Loose, { id: 3, deep }), /deeper than/);
});

Deno.test("extra: allow guards pass primitives unchanged and send containers to the full check", () => {
  for (const guard of [compileGuard(Loose), closureGuard(Loose)]) {
    assert.equal(guard({ id: 1, note: "x", n: null }), true);
    assert.equal(guard({ id: 1, obj: {} }), false);
    assert.equal(guard({ id: "1" }), false);
  }
  assert.equal(compileGuard(Strict)({ id: 1, note: "x" }), false);
});

Deno.test("extra: allow is additionalProperties: true in JSON Schema", () => {
  assert.equal(toJsonSchema(Loose).additionalProperties, true);
  assert.equal(toJsonSchema(Strict).additionalProperties, false);
});
