/**
 * Property tests of the IDL validator: values generated from a generated type pass it,
 * anything else is refused with ValidationError only; the fast guard and the full check
 * agree (guard true means the full check returns that very value), generated and closure
 * guards answer alike, and params checks refuse with ValidationError only.
 */

import assert from "node:assert/strict";
import { compile } from "../../server.ts";
import { t, type Type, validate, ValidationError } from "../../mod.ts";
import { compileParams } from "../../src/core/idl/validate.ts";
import { closureGuard, compileGuard } from "../../src/core/idl/guard.ts";
import { check, fc } from "./fc_setup.ts";

const name = fc.stringMatching(/^[a-z][a-zA-Z0-9]{0,6}$/);
const scalar = fc.constantFrom<Type>(
  t.int,
  t.int64,
  t.float,
  t.string,
  t.bool,
  t.bytes,
  t.datetime,
  t.any,
);
const literal = fc.array(fc.oneof(fc.string(), fc.integer(), fc.boolean()), {
  minLength: 1,
  maxLength: 3,
})
  .map((values) => t.literal(...values) as Type);

/** Arbitrary IDL types (optional only as a struct field, as the IDL uses it). */
const idlType: fc.Arbitrary<Type> = fc.letrec<{ type: Type }>((tie) => ({
  type: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    scalar,
    literal,
    tie("type").map((x) => t.array(x) as Type),
    tie("type").map((x) => t.map(x) as Type),
    tie("type").map((x) => t.nullable(x) as Type),
    fc.dictionary(name, fc.tuple(tie("type"), fc.boolean()), { maxKeys: 4, noNullPrototype: true })
      .map((fields) =>
        t.struct(
          "S",
          Object.fromEntries(
            Object.entries(fields).map(([k, [x, opt]]) => [k, opt ? t.optional(x) : x]),
          ),
        ) as Type
      ),
  ),
})).type;

/** Values of a type, as a well-behaved caller sends them. */
function valueOf(type: Type): fc.Arbitrary<unknown> {
  const x = type as Type & {
    items?: Type;
    values?: unknown;
    inner?: Type;
    fields?: Record<string, Type>;
  };
  switch (type.kind) {
    case "int":
    case "int64":
      return fc.maxSafeInteger();
    case "float":
      return fc.double({ noNaN: true, noDefaultInfinity: true });
    case "string":
      return fc.string();
    case "bool":
      return fc.boolean();
    case "bytes":
      return fc.uint8Array({ maxLength: 8 }).map((b) => new Uint8Array(b));
    case "datetime":
      return fc.date({ noInvalidDate: true });
    case "any":
      return fc.jsonValue().filter((v) => v !== null && !JSON.stringify(v).includes('"$'));
    case "literal":
      return fc.constantFrom(...(x.values as unknown[]));
    case "array":
      return fc.array(valueOf(x.items!), { maxLength: 3 });
    case "map":
      return fc.dictionary(name, valueOf(x.values as Type), { maxKeys: 3, noNullPrototype: true });
    case "nullable":
      return fc.oneof(fc.constant(null), valueOf(x.inner!));
    case "optional":
      return fc.oneof(fc.constant(undefined), valueOf(x.inner!));
    default: {
      const fields = Object.entries(x.fields!);
      return fc.tuple(...fields.map(([, f]) => valueOf(f))).map((vs) =>
        Object.fromEntries(fields.map(([k], i) => [k, vs[i]]).filter(([, v]) => v !== undefined))
      );
    }
  }
}

const typeAndValue = idlType.chain((type) => valueOf(type).map((value) => ({ type, value })));

Deno.test("validate: values generated from a type pass; the guard agrees with the full check", () => {
  check(
    fc.property(typeAndValue, ({ type, value }) => {
      validate(type, value);
      const guard = compileGuard(type);
      assert.equal(guard(value), closureGuard(type)(value), "generated and closure guards differ");
      if (guard(value)) {
        assert.equal(compile(type)(value, "v"), value, "guard passed a value the check changes");
      }
    }),
    300,
  );
});

/** Refuses only with ValidationError; when the guard says yes, the check returns the value. */
function checkedOrRefused(type: Type, value: unknown): void {
  try {
    const out = compile(type)(value, "v");
    if (compileGuard(type)(value)) assert.equal(out, value);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    assert.equal(compileGuard(type)(value), false, "guard passed a value the check refuses");
  }
}

Deno.test("validate: anything else is refused with ValidationError only", () => {
  const hostile = fc.oneof(
    fc.anything({
      withBigInt: true,
      withDate: true,
      withTypedArray: true,
      withNullPrototype: true,
      withObjectString: true,
      withSparseArray: true,
    }),
    fc.constantFrom(
      { $date: "2024-02-30T00:00:00Z" },
      { $bytes: "!!" },
      { $date: 1 },
      { __proto__: { a: 1 } },
      new Date(NaN),
      2n ** 64n,
      "1970-13-01",
    ),
  );
  check(fc.property(idlType, hostile, (type, value) => checkedOrRefused(type, value)), 400);
});

Deno.test("compileParams: params by name, by position or anything else: a value or ValidationError", () => {
  const fields = fc.dictionary(name, idlType, { maxKeys: 4, noNullPrototype: true });
  check(
    fc.property(fields, fc.anything({ withNullPrototype: true }), (f, params) => {
      try {
        compileParams(f)(params);
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error;
      }
    }),
    300,
  );
});
