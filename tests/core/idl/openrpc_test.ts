// OpenRPC generation: the document validates against the official OpenRPC meta-schema.

import assert from "node:assert/strict";
import { openRpcValidator } from "./openrpc_validator.ts";
import { Calculator, Echo } from "../../../src/demo/mod.ts";
import { defineInterface, method, t } from "../../../mod.ts";
import { openRpcDocument } from "../../../server.ts";

Deno.test("the document of the demo interfaces is valid OpenRPC", () => {
  const doc = openRpcDocument([Calculator, Echo], { title: "Demo", version: "1.2.3" });
  assert.equal(openRpcValidator()(doc), undefined);
  assert.equal(doc.info.title, "Demo");
  assert.equal(doc.info.version, "1.2.3");
  const names = doc.methods.map((m) => m.name);
  assert.ok(names.includes("Calculator.add") && names.includes("Echo.sample"));
});

Deno.test("methods carry params in order, required flags, docs, errors and x-public", () => {
  const Api = defineInterface("Api", {
    find: method({
      params: { query: t.string, limit: t.optional(t.int) },
      result: t.array(t.string),
      doc: "Finds things",
      public: true,
      errors: ["NotFound"],
    }),
  });
  const [find] = openRpcDocument([Api]).methods;
  assert.equal(find.name, "Api.find");
  assert.equal(find.summary, "Finds things");
  assert.deepEqual(find.params.map((p) => [p.name, p.required]), [["query", true], [
    "limit",
    false,
  ]]);
  assert.deepEqual(find.result.schema, { type: "array", items: { type: "string" } });
  assert.deepEqual(find.errors, [{ code: -32000, message: "NotFound" }]);
  assert.equal(find["x-public"], true);
  assert.equal(find.paramStructure, "either");
  const Void = defineInterface("Void", { ping: method({}) });
  assert.deepEqual(openRpcDocument([Void]).methods[0].result, {
    name: "result",
    schema: { type: "null" },
  });
});

Deno.test("the meta-schema validator is not a rubber stamp", () => {
  const validate = openRpcValidator();
  assert.notEqual(validate({ openrpc: "1.3.2", methods: [] }), undefined); // no info
  const info = { title: "x", version: "1" };
  assert.notEqual(validate({ openrpc: "1.3.2", info, methods: [{}] }), undefined);
  const method = (schema: unknown) => ({
    name: "m",
    params: [{ name: "p", schema }],
    result: { name: "r", schema: {} },
  });
  assert.equal(
    validate({ openrpc: "1.3.2", info, methods: [method({ type: "string" })] }),
    undefined,
  );
  // The JSON Schemas inside are checked too.
  assert.notEqual(validate({ openrpc: "1.3.2", info, methods: [method({ type: 5 })] }), undefined);
});
