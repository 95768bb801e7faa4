// The worker's table of AMQP cancels: a running call's signal aborts, a cancel heard before
// its call keeps that call from running, and what a peer's cancels fill is bounded.
import assert from "node:assert/strict";
import { AmqpCancels } from "../../src/server/amqp_cancel.ts";
import { RpcError } from "../../src/core/errors.ts";

Deno.test("amqp cancels: a running call's signal aborts Cancelled", () => {
  const cancels = new AmqpCancels();
  const run = cancels.begin("c.1")!;
  cancels.heard([{ id: "c.1" }]);
  assert.ok(run.signal.aborted);
  assert.ok(run.signal.reason instanceof RpcError && run.signal.reason.name === "Cancelled");
  run.done();
});

Deno.test("amqp cancels: a call cancelled before it came never runs, once", () => {
  const cancels = new AmqpCancels();
  cancels.heard([{ id: "c.2" }]);
  assert.equal(cancels.begin("c.2"), undefined);
  // The id is forgotten once it was used: a new call under it (none should come) runs.
  assert.ok(cancels.begin("c.2"));
});

Deno.test("amqp cancels: expired and malformed cancels are dropped; the table is bounded", () => {
  const cancels = new AmqpCancels(3);
  cancels.heard([{ id: "old", deadline: Date.now() - 1 }]);
  assert.ok(cancels.begin("old"));
  for (const bad of [undefined, [], [{}], [{ id: 5 }], [{ id: "" }], [{ id: "x".repeat(300) }]]) {
    cancels.heard(bad);
  }
  for (const id of ["a", "b", "c", "d"]) cancels.heard([{ id }]);
  // Three remembered: the oldest went.
  assert.ok(cancels.begin("a"));
  for (const id of ["b", "c", "d"]) assert.equal(cancels.begin(id), undefined, id);
});
