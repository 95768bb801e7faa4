// Interfaces and methods: declaration checks and their defaults.

import assert from "node:assert/strict";
import { defineInterface, implement, method, t, typeName } from "../../../mod.ts";

Deno.test("method() fills defaults: no params, a void result, private, unlimited", () => {
  const m = method({});
  assert.deepEqual(m.params, {});
  assert.equal(m.result.kind, "optional");
  assert.equal(m.public, false);
  assert.deepEqual(m.errors, []);
  assert.equal(m.concurrency, undefined);
});

Deno.test("exclusive means a concurrency of one; bad limits are refused", () => {
  assert.equal(method({ exclusive: true }).concurrency, 1);
  assert.equal(method({ concurrency: 4, queue: 2 }).queue, 2);
  assert.throws(() => method({ concurrency: 0 }), /concurrency must be a positive integer, got 0/);
  assert.throws(() => method({ concurrency: 1.5 }), /positive integer, got 1.5/);
});

Deno.test("interface and method names must be identifiers", () => {
  assert.throws(() => defineInterface("my-api", {}), /interface name must be an identifier/);
  assert.throws(
    () => defineInterface("Api", { "do.it": method({}) }),
    /method name must be an identifier, got "do.it"/,
  );
  const api = defineInterface("Api", { ping: method({}) }, { doc: "pings" });
  assert.equal(api.name, "Api");
  assert.equal(api.doc, "pings");
});

Deno.test("implement() refuses missing and extra handlers", () => {
  const Api = defineInterface("Api", { a: method({}), b: method({}) });
  assert.throws(
    // @ts-expect-error: b is missing on purpose
    () => implement(Api, { a: () => {} }),
    /Api\.b has no handler/,
  );
  assert.throws(
    // @ts-expect-error: c is not declared
    () => implement(Api, { a: () => {}, b: () => {}, c: () => {} }),
    /Api declares no method "c"/,
  );
});

Deno.test("typeName reads like the IDL", () => {
  assert.equal(typeName(t.array(t.map(t.int))), "array<map<int>>");
  assert.equal(typeName(t.optional(t.string)), "string?");
  assert.equal(typeName(t.nullable(t.struct("P", {}))), "P | null");
  assert.equal(typeName(t.enumeration("a", 1, false)), '"a" | 1 | false');
});
