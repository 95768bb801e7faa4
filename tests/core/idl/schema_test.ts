// JSON Schema export: every IDL type yields a valid draft 2020-12 schema, checked by a
// real validator (ajv), that agrees with the run-time validation on the JSON wire forms.

import assert from "node:assert/strict";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { fieldsSchema, toJsonSchema } from "../../../server.ts";
import { t, type Type, validate } from "../../../mod.ts";

// ajv-formats is CommonJS: its default export arrives wrapped under Deno.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as (ajv: Ajv2020) => void;
const ajv = new Ajv2020({ strict: true, allErrors: true });
addFormats(ajv);

const Sample = t.struct("Sample", {
  id: t.int,
  tags: t.array(t.string),
  note: t.optional(t.string),
  parent: t.nullable(t.int),
}, { doc: "a sample" });

/** Each type with JSON values it must accept and values it must refuse. */
const cases: [string, Type, unknown[], unknown[]][] = [
  ["int", t.int, [0, -5, 2 ** 53 - 1], [1.5, "1", null, 2 ** 53]],
  ["int64", t.int64, [1, "9223372036854775807"], [1.5, "1e3", true]],
  ["float", t.float, [1.5, 2], ["1.5", null]],
  ["string", t.string, ["", "x"], [1, null]],
  ["bool", t.bool, [true, false], [0, "true"]],
  ["bytes", t.bytes, [{ $bytes: "AAE=" }, "AAE="], [1, { $bytes: 1 }, { $bytes: "AA==", x: 1 }]],
  [
    "datetime",
    t.datetime,
    [{ $date: "2024-01-02T03:04:05Z" }, "2024-01-02T03:04:05.678Z"],
    ["yesterday", 17, { $date: "soon" }],
  ],
  ["array", t.array(t.int), [[], [1, 2]], [[1.5], {}, "x"]],
  ["map", t.map(t.bool), [{}, { a: true }], [{ a: 1 }, [true]]],
  [
    "struct",
    Sample,
    [{ id: 1, tags: [], parent: null }, { id: 1, tags: ["a"], note: "n", parent: 2 }],
    [{ id: 1, tags: [] }, { id: 1, tags: [], parent: null, extra: 1 }, { id: "1", tags: [] }],
  ],
  ["optional", t.optional(t.string), ["x"], [1]],
  ["nullable", t.nullable(t.string), ["x", null], [1]],
  ["literal", t.literal("only"), ["only"], ["other"]],
  ["enumeration", t.enumeration("low", "high", 3), ["low", "high", 3], ["mid", 4]],
  ["any", t.any, [1, "x", null, [{}]], []],
];

for (const [name, type, good, bad] of cases) {
  Deno.test(`JSON Schema of ${name} is valid and agrees with validation`, () => {
    const schema = toJsonSchema(type);
    assert.ok(ajv.validateSchema(schema), JSON.stringify(ajv.errors));
    const check = ajv.compile(schema);
    for (const value of good) {
      assert.ok(check(value), `${name} schema refused ${JSON.stringify(value)}`);
      validate(type, structuredClone(value)); // and so does the validator
    }
    for (const value of bad) {
      assert.ok(!check(value), `${name} schema accepted ${JSON.stringify(value)}`);
      assert.throws(() => validate(type, structuredClone(value)));
    }
  });
}

Deno.test("struct schemas carry their name and doc; optional fields are not required", () => {
  const schema = toJsonSchema(Sample);
  assert.equal(schema.title, "Sample");
  assert.equal(schema.description, "a sample");
  assert.deepEqual(schema.required, ["id", "tags", "parent"]);
  assert.equal(schema.additionalProperties, false);
});

Deno.test("params schema lists required params in declared order", () => {
  const schema = fieldsSchema({ b: t.int, a: t.optional(t.string), c: t.bool });
  assert.deepEqual(Object.keys(schema.properties as object), ["b", "a", "c"]);
  assert.deepEqual(schema.required, ["b", "c"]);
});

Deno.test("docs on types reach the schema", () => {
  assert.equal(toJsonSchema(t.array(t.int, { doc: "ids" })).description, "ids");
  assert.equal(toJsonSchema(t.map(t.int, { doc: "counts" })).description, "counts");
});
