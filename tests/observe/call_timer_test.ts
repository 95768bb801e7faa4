// How observers time calls: one clock reading per batch of calls handled together, never
// a duration shorter than the call's own run.

import assert from "node:assert/strict";
import { defineInterface, implement, method, t } from "../../mod.ts";
import { Router } from "../../server.ts";
import { timedObserver } from "../../src/observe/call_timer.ts";
import type { Call } from "../../src/core/context.ts";
import { pack } from "msgpackr";
import { startServe } from "../fixtures/serve_process.ts";
import { msgpackSocket } from "../fixtures/msgpack_socket.ts";
import { routerView } from "../../src/core/router/_transport.ts";

const Work = defineInterface("Work", {
  spin: method({ params: { ms: t.int }, result: t.int }),
  wait: method({ params: { ms: t.int }, result: t.int }),
});

const WorkImpl = implement(Work, {
  spin({ ms }) {
    const until = performance.now() + ms;
    while (performance.now() < until) { /* busy */ }
    return ms;
  },
  async wait({ ms }) {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return ms;
  },
});

function timedRouter() {
  const ended: { method: string; ms: number; ok: boolean; at: number }[] = [];
  const router = new Router();
  router.register(WorkImpl);
  router.observe(timedObserver({
    begin: (call: Call) => call.method,
    end: (_call, method, ms, outcome, at) => ended.push({ method, ms, ok: outcome.ok, at }),
  }));
  return { router, ended };
}

Deno.test("call timer: a synchronous call is timed no shorter than it ran", async () => {
  const { router, ended } = timedRouter();
  const before = performance.now();
  await router.dispatch({ method: "Work.spin", params: { ms: 20 } });
  assert.equal(ended.length, 1);
  assert.ok(ended[0].ms >= 20, `timed ${ended[0].ms} ms`);
  assert.ok(ended[0].at >= before + 20);
});

Deno.test("call timer: calls handled in one turn end together, each counted from the turn's start", async () => {
  const { router, ended } = timedRouter();
  // Three calls dispatched in one synchronous run, as a pipelined chunk is.
  const outcomes = [5, 10, 15].map((ms) =>
    routerView(router).dispatchNow({ method: "Work.spin", params: { ms } })
  );
  // Nothing is reported before the batch closes (one clock read for all of it).
  assert.equal(ended.length, 0);
  await Promise.all(outcomes);
  assert.equal(ended.length, 3);
  assert.ok(ended.every((e) => e.at === ended[0].at), "one reading ends the batch");
  // Each waited for the ones ahead of it: no call is timed shorter than the whole batch.
  for (const e of ended) assert.ok(e.ms >= 30, `timed ${e.ms} ms`);
});

Deno.test("call timer: an asynchronous call is timed to when it settled, failures too", async () => {
  const { router, ended } = timedRouter();
  await router.dispatch({ method: "Work.wait", params: { ms: 30 } });
  await router.dispatch({ method: "Work.nothing" });
  await router.dispatch({ method: "Work.wait", params: { ms: "x" } });
  assert.deepEqual(ended.map((e) => [e.method, e.ok]), [
    ["Work.wait", true],
    ["Work.nothing", false],
    ["Work.wait", false],
  ]);
  assert.ok(ended[0].ms >= 29, `timed ${ended[0].ms} ms`);
  // Turns after the first read the clock afresh.
  assert.ok(ended[1].at > ended[0].at);
});

Deno.test("call timer: an observer that throws loses its record, not the process or the batch", async () => {
  const ended: string[] = [];
  const router = new Router();
  router.register(WorkImpl);
  router.observe(timedObserver({
    begin: () => undefined,
    end: (call) => {
      if (call.params && (call.params as { ms: number }).ms === 1) throw new Error("sink broke");
      ended.push(call.method);
    },
  }));
  const errors: unknown[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => void errors.push(args.join(" "));
  try {
    const outcomes = [1, 2, 1, 3].map((ms) =>
      routerView(router).dispatchNow({ method: "Work.spin", params: { ms } })
    );
    await Promise.all(outcomes);
    await new Promise((resolve) => setTimeout(resolve, 0));
  } finally {
    console.error = original;
  }
  assert.deepEqual(ended, ["Work.spin", "Work.spin"]);
  assert.equal(errors.length, 1, "reported once");
  assert.match(String(errors[0]), /sink broke/);
});

Deno.test({
  name: "call timer: a pipelined chunk through a real serve is timed as one batch in the log",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const served = await startServe([]);
    const socket = await msgpackSocket(served.tcp!);
    try {
      // 200 calls in one write, as a pipelining plain peer sends them.
      const calls = Array.from({ length: 200 }, (_, i) => pack([0, i, "Calculator.add", [i, 1]]));
      await socket.write(new Uint8Array(calls.flatMap((c) => [...c])));
      await socket.waitFor(() => socket.count === 200, 10_000, "200 answers");
      assert.equal(socket.responses.get(7)?.result, 8);
    } finally {
      await socket.close();
    }
    const lines = (await served.stop()).split("\n").filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l)).filter((l) => l.msg === "call" && l.protocol === "msgpack-rpc");
    assert.equal(lines.length, 200);
    assert.deepEqual(lines.map((l) => l.id).sort((a, b) => a - b), [...Array(200).keys()]);
    // Calls answered in one batch end at one reading: a few distinct durations, not 200,
    // and each counts the calls ahead of it (far more than one small call's microsecond).
    const durations = new Set(lines.map((l) => l.ms));
    assert.ok(durations.size <= 20, `${durations.size} distinct durations`);
    const sorted = lines.map((l) => l.ms as number).sort((a, b) => a - b);
    assert.ok(sorted[100] >= 0.02, `median ${sorted[100]} ms`);
  },
});
