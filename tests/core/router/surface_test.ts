// The public Router is what a user composes with; what transports need (the synchronous
// dispatch, saturation, registration generations, the client factory) is on the internal
// view, so that tuning a transport never widens the public API.
import assert from "node:assert/strict";
import { Router } from "../../../server.ts";
import { defineInterface, implement, method, t } from "../../../mod.ts";
import { routerView } from "../../../src/core/router/_transport.ts";

Deno.test("Router: its public members are the ones a user composes with", () => {
  const members = Object.getOwnPropertyNames(Router.prototype).filter((m) => m !== "constructor")
    .sort();
  assert.deepEqual(members, [
    "client",
    "defaultInterface",
    "dispatch",
    "entries",
    "inFlight",
    "interfaces",
    "maxInFlight",
    "observe",
    "register",
    "resolve",
    "use",
  ]);
  assert.deepEqual(Object.keys(new Router()).sort(), ["debug", "logger"]);
});

Deno.test("Router: a transport's view dispatches at once and sees registrations and load", async () => {
  const Calc = defineInterface("Calc", {
    add: method({ params: { a: t.int, b: t.int }, result: t.int }),
  });
  const router = new Router({ maxInFlight: 1 });
  const view = routerView(router);
  const before = view.generation;
  router.register(implement(Calc, { add: ({ a, b }) => a + b }));
  assert.notEqual(view.generation, before);
  assert.deepEqual(view.registeredInterfaces().map((i) => i.name), ["Calc"]);
  assert.deepEqual(view.dispatchNow({ method: "Calc.add", params: [1, 2] }), {
    ok: true,
    value: 3,
    plain: true,
  });
  assert.equal(view.observed, false);
  router.observe((call, run) => run(call));
  assert.equal(view.observed, true);
  assert.throws(() => router.client, /router has no client/);
  view.installClientFactory(() => ({ call: () => Promise.resolve(7) }) as never);
  assert.equal(await router.client.call("x"), 7);
  // Saturation: one slow call holds the router's one slot.
  const Slow = defineInterface("Slow", { wait: method({ result: t.int }) });
  let release!: () => void;
  router.register(
    implement(Slow, { wait: () => new Promise<number>((r) => release = () => r(1)) }),
  );
  const slow = router.dispatch({ method: "Slow.wait" });
  assert.equal(view.saturated, true);
  release();
  assert.deepEqual(await slow, { ok: true, value: 1, plain: true });
  assert.equal(view.saturated, false);
});
