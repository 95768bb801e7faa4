// Untyped values are bounded by the containers a walk enters, not only by depth: a value
// built in-process (a component calling another, a worker's structured clone) may share
// sub-values, and 40 levels of shared pairs are 2^40 paths.
import assert from "node:assert/strict";
import { defineInterface, implement, method, registerType, t } from "../../../mod.ts";
import { Server } from "../../../server.ts";
import { MAX_NODES, reviveTagged } from "../../../src/core/idl/tagged.ts";

const Echo = defineInterface("Echo", {
  any: method({ params: { value: t.any }, result: t.any }),
});

function sharedPairs(levels: number): unknown {
  let node: unknown = [1];
  for (let i = 0; i < levels; i++) node = [node, node];
  return node;
}

Deno.test("node budget: 2^40 paths through shared sub-values are refused at once, in-process", async () => {
  const server = new Server({ logger: { error: () => {}, warn: () => {} } })
    .register(implement(Echo, { any: ({ value }) => value }));
  try {
    const started = performance.now();
    await assert.rejects(
      server.router.client.call("Echo.any", { value: sharedPairs(40) }),
      (e: Error) =>
        e.name === "InvalidParams" && /more than 1000000 arrays and objects/.test(e.message),
    );
    assert.ok(performance.now() - started < 5000, "bounded work");
    // A tree of the same shape but small is fine.
    assert.deepEqual(await server.router.client.call("Echo.any", { value: sharedPairs(3) }), [
      [[[1], [1]], [[1], [1]]],
      [[[1], [1]], [[1], [1]]],
    ]);
  } finally {
    await server.close();
  }
});

Deno.test("node budget: a registered type whose decode revives again shares the walk's budget", () => {
  class Box {
    constructor(readonly inner: unknown) {}
  }
  registerType({
    name: "test.BudgetBox",
    class: Box,
    encode: (b) => b.inner,
    // A decode that revives its own payload again (as validating code might).
    decode: (d) => new Box(reviveTagged(structuredClone(d))),
  });
  const wide = Array.from({ length: MAX_NODES / 2 + 10 }, () => [0]);
  const value = [{ $type: "test.BudgetBox", value: wide }];
  // Before: the nested walk restarted the count, so twice the budget went through.
  assert.throws(() => reviveTagged(value), /more than 1000000 arrays and objects/);
});
