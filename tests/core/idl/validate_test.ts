// Run-time validation: every type accepts what it should, refuses the rest with the path
// of the problem, and normalises wire forms (tags, ISO strings, base64) to IDL values.

import assert from "node:assert/strict";
import { t, validate, validateParams, ValidationError } from "../../../mod.ts";

function refuses(fn: () => unknown, message: string) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ValidationError, `expected ValidationError, got ${e}`);
    assert.equal(e.message, message);
    return true;
  });
}

Deno.test("int accepts safe integers and refuses fractions, strings, NaN and huge numbers", () => {
  assert.equal(validate(t.int, 42), 42);
  assert.equal(validate(t.int, -0), -0);
  assert.equal(validate(t.int, 7n), 7);
  refuses(() => validate(t.int, 1.5), "value: expected int, got 1.5");
  refuses(
    () => validate(t.int, "ten", "params.maxResults"),
    'params.maxResults: expected int, got "ten"',
  );
  refuses(() => validate(t.int, NaN), "value: expected int, got NaN");
  refuses(() => validate(t.int, 2 ** 53), `value: expected int, got ${2 ** 53}`);
  refuses(() => validate(t.int, true), "value: expected int, got true");
  refuses(() => validate(t.int, undefined), "value: expected int, got nothing");
  refuses(() => validate(t.int, null), "value: expected int, got null");
});

Deno.test("int64 takes numbers, bigints and decimal strings within 64 bits", () => {
  assert.equal(validate(t.int64, 5), 5);
  assert.equal(validate(t.int64, "12"), 12);
  assert.equal(validate(t.int64, "9223372036854775807"), 9223372036854775807n);
  assert.equal(validate(t.int64, -(2n ** 63n)), -(2n ** 63n));
  refuses(() => validate(t.int64, 2n ** 63n), "value: expected int64, got 9223372036854775808n");
  refuses(() => validate(t.int64, "1e3"), 'value: expected int64, got "1e3"');
  refuses(() => validate(t.int64, 0.5), "value: expected int64, got 0.5");
});

Deno.test("float, string and bool are strict about their JavaScript types", () => {
  assert.equal(validate(t.float, 1.5), 1.5);
  assert.equal(validate(t.float, 3), 3);
  refuses(() => validate(t.float, Infinity), "value: expected float, got Infinity");
  refuses(() => validate(t.float, "1.5"), 'value: expected float, got "1.5"');
  assert.equal(validate(t.string, ""), "");
  refuses(() => validate(t.string, 1), "value: expected string, got 1");
  refuses(() => validate(t.string, ["a"]), "value: expected string, got an array");
  assert.equal(validate(t.bool, false), false);
  refuses(() => validate(t.bool, 0), "value: expected bool, got 0");
  refuses(() => validate(t.bool, "true"), 'value: expected bool, got "true"');
});

Deno.test("long strings are shortened in messages", () => {
  refuses(
    () => validate(t.int, "x".repeat(100)),
    `value: expected int, got "${"x".repeat(40)}…"`,
  );
});

Deno.test("bytes come as Uint8Array, {$bytes} tags or bare base64", () => {
  const raw = new Uint8Array([0, 1, 254, 255]);
  assert.equal(validate(t.bytes, raw), raw);
  assert.deepEqual(validate(t.bytes, { $bytes: "AAH+/w==" }), raw);
  assert.deepEqual(validate(t.bytes, "AAH+/w=="), raw);
  assert.deepEqual(validate(t.bytes, raw.buffer), raw);
  refuses(
    () => validate(t.bytes, "not base64!"),
    "value: expected bytes, got a string that is not base64",
  );
  refuses(() => validate(t.bytes, [1, 2]), "value: expected bytes, got an array");
  refuses(
    () => validate(t.bytes, { $bytes: "AA==", x: 1 }),
    "value: expected bytes, got an object",
  );
});

Deno.test("datetime comes as Date, {$date} tags or bare ISO 8601", () => {
  const at = new Date("2024-05-06T07:08:09.010Z");
  assert.equal(validate(t.datetime, at), at);
  assert.deepEqual(validate(t.datetime, { $date: "2024-05-06T07:08:09.010Z" }), at);
  assert.deepEqual(validate(t.datetime, "2024-05-06T07:08:09.010Z"), at);
  assert.deepEqual(validate(t.datetime, "2024-05-06"), new Date("2024-05-06"));
  refuses(() => validate(t.datetime, "yesterday"), 'value: expected datetime, got "yesterday"');
  refuses(
    () => validate(t.datetime, "2024-13-45T00:00:00Z"),
    'value: expected datetime, got "2024-13-45T00:00:00Z"',
  );
  refuses(() => validate(t.datetime, "2024-02-30"), 'value: expected datetime, got "2024-02-30"');
  refuses(
    () => validate(t.datetime, "2023-02-29T10:00:00Z"),
    'value: expected datetime, got "2023-02-29T10:00:00Z"',
  );
  assert.deepEqual(
    validate(t.datetime, "2024-02-29T23:00:00-05:00"),
    new Date("2024-03-01T04:00:00Z"),
  );
  refuses(
    () => validate(t.datetime, new Date(NaN)),
    'value: expected datetime, got "an invalid date"',
  );
  refuses(() => validate(t.datetime, 1715000000000), "value: expected datetime, got 1715000000000");
});

Deno.test("array and map check every element and report its index or key", () => {
  assert.deepEqual(validate(t.array(t.int), [1, 2, 3]), [1, 2, 3]);
  assert.deepEqual(validate(t.array(t.int), []), []);
  refuses(() => validate(t.array(t.int), [1, "2"]), 'value[1]: expected int, got "2"');
  refuses(() => validate(t.array(t.int), { 0: 1 }), "value: expected array<int>, got an object");
  assert.deepEqual(validate(t.map(t.bool), { a: true }), { a: true });
  refuses(() => validate(t.map(t.bool), { a: true, b: 1 }), "value.b: expected bool, got 1");
  refuses(() => validate(t.map(t.bool), [true]), "value: expected map<bool>, got an array");
  // Normalisation reaches into containers without touching the input.
  const input = [{ $date: "2020-01-01T00:00:00.000Z" }];
  const out = validate(t.array(t.datetime), input);
  assert.ok(out[0] instanceof Date);
  assert.deepEqual(input, [{ $date: "2020-01-01T00:00:00.000Z" }]);
});

const Address = t.struct("Address", { city: t.string, zip: t.optional(t.string) });
const Person = t.struct("Person", {
  name: t.string,
  age: t.int,
  home: Address,
  nick: t.optional(t.string),
  boss: t.nullable(t.string),
});

Deno.test("struct requires declared fields, allows optional ones, rejects unknown ones", () => {
  const ok = { name: "Ada", age: 36, home: { city: "London" }, boss: null };
  assert.deepEqual(validate(Person, ok), ok);
  refuses(
    () => validate(Person, { ...ok, age: "36" }, "params.person"),
    'params.person.age: expected int, got "36"',
  );
  refuses(
    () => validate(Person, { ...ok, home: { city: 1 } }),
    "value.home.city: expected string, got 1",
  );
  refuses(
    () => validate(Person, { name: "Ada", age: 1, home: { city: "x" } }),
    "value.boss: expected string | null, got nothing",
  );
  refuses(
    () => validate(Person, { ...ok, email: "a@b" }),
    "value.email: unknown field (Person has name, age, home, nick, boss)",
  );
  refuses(
    () => validate(Person, { ...ok, home: { city: "x", street: "y" } }),
    "value.home.street: unknown field (Address has city, zip)",
  );
  refuses(() => validate(Person, "Ada"), 'value: expected Person, got "Ada"');
  refuses(() => validate(Person, null), "value: expected Person, got null");
  refuses(() => validate(Person, new Date(0)), "value: expected Person, got a datetime");
});

Deno.test("fields named like Object.prototype members are read from the value only", () => {
  const Odd = t.struct("Odd", { toString: t.optional(t.string), constructor: t.int });
  assert.deepEqual(validate(Odd, { constructor: 1 }), { constructor: 1 });
  refuses(() => validate(Odd, {}), "value.constructor: expected int, got nothing");
  assert.deepEqual(validateParams({ valueOf: t.optional(t.int) }, []), {});
});

Deno.test("optional and nullable are distinct", () => {
  assert.equal(validate(t.optional(t.int), undefined), undefined);
  refuses(() => validate(t.optional(t.int), null), "value: expected int, got null");
  assert.equal(validate(t.nullable(t.int), null), null);
  refuses(() => validate(t.nullable(t.int), undefined), "value: expected int | null, got nothing");
});

Deno.test("literal / enumeration accept exactly the listed values", () => {
  const Level = t.enumeration("low", "high");
  assert.equal(validate(Level, "low"), "low");
  refuses(() => validate(Level, "medium"), 'value: expected "low" | "high", got "medium"');
  assert.equal(validate(t.literal(1, true), true), true);
  refuses(() => validate(t.literal(1), "1"), 'value: expected 1, got "1"');
  assert.throws(() => t.literal(), /at least one value/);
});

Deno.test("any accepts everything but nothing, revives tags, and refuses deep nesting", () => {
  assert.deepEqual(validate(t.any, { a: [1, "x", null] }), { a: [1, "x", null] });
  const revived = validate(t.any, { at: { $date: "2020-01-01T00:00:00.000Z" } }) as {
    at: unknown;
  };
  assert.ok(revived.at instanceof Date);
  refuses(() => validate(t.any, undefined), "value: expected any, got nothing");
  let deep: unknown = 1;
  for (let i = 0; i < 100_000; i++) deep = [deep];
  assert.throws(
    () => validate(t.any, deep, "params.value"),
    /^ValidationError: params\.value: value nests deeper than 64 levels$/,
  );
});

Deno.test("params by name or by position, in declared order", () => {
  const fields = { query: t.string, maxResults: t.int, verbose: t.optional(t.bool) };
  assert.deepEqual(validateParams(fields, { query: "q", maxResults: 3 }), {
    query: "q",
    maxResults: 3,
  });
  assert.deepEqual(validateParams(fields, ["q", 3]), { query: "q", maxResults: 3 });
  assert.deepEqual(validateParams(fields, ["q", 3, true]), {
    query: "q",
    maxResults: 3,
    verbose: true,
  });
  refuses(
    () => validateParams(fields, { query: "q", maxResults: "ten" }),
    'params.maxResults: expected int, got "ten"',
  );
  refuses(() => validateParams(fields, ["q", "ten"]), 'params.maxResults: expected int, got "ten"');
  refuses(() => validateParams(fields, ["q"]), "params.maxResults: expected int, got nothing");
  refuses(
    () => validateParams(fields, ["q", 1, true, 4]),
    "params: expected at most 3 positional parameter(s) (query, maxResults, verbose), got 4",
  );
  refuses(
    () => validateParams(fields, { query: "q", maxResults: 1, limit: 2 }),
    "params.limit: unknown field (parameters are query, maxResults, verbose)",
  );
  refuses(() => validateParams(fields, "q"), 'params: expected an object or an array, got "q"');
  assert.deepEqual(validateParams({}, undefined), {});
  assert.deepEqual(validateParams({}, []), {});
  refuses(
    () => validateParams({}, [1]),
    "params: expected at most 0 positional parameter(s) (none), got 1",
  );
});

Deno.test("any refuses numbers that are not finite, anywhere in the value (JSON's 1e400)", () => {
  const beyond =
    "holds Infinity, a number beyond the range of a double (a JSON number such as 1e400)";
  refuses(() => validate(t.any, Infinity), `value: ${beyond}`);
  refuses(() => validate(t.any, [1, { a: [Infinity] }]), `value: ${beyond}`);
  refuses(
    () => validate(t.any, { n: -Infinity }),
    `value: ${beyond.replace("Infinity", "-Infinity")}`,
  );
  refuses(() => validate(t.any, [NaN]), `value: ${beyond.replace("Infinity", "NaN")}`);
  assert.deepEqual(validate(t.any, [Number.MAX_VALUE, -0, 5e-324]), [Number.MAX_VALUE, -0, 5e-324]);
});
