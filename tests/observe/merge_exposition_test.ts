import assert from "node:assert/strict";
import { familyTotal, mergeExpositions } from "../../src/observe/merge_exposition.ts";
import { Metrics } from "../../src/observe/metrics.ts";
import { Router } from "../../src/core/router/router.ts";
import { defineInterface, implement, method, t } from "../../mod.ts";

const Echo = defineInterface("Echo", {
  echo: method({ params: { text: t.string }, result: t.string }),
});

async function workerText(calls: number): Promise<string> {
  const router = new Router();
  router.register(implement(Echo, { echo: ({ text }) => text }));
  const metrics = new Metrics({
    process: { cpuSeconds: () => 1, memory: () => ({ rss: 7, heap: 3 }), startTimeSeconds: 1 },
  });
  metrics.watch(router);
  for (let i = 0; i < calls; i++) {
    await router.dispatch({ method: "Echo.echo", params: { text: "x" }, protocol: "jsonrpc" });
  }
  return await metrics.text();
}

Deno.test("mergeExpositions adds up counters and histograms series by series", async () => {
  const [a, b] = [await workerText(2), await workerText(3)];
  const merged = mergeExpositions([a, b], (family, i) => i > 0 && family.startsWith("process_"));
  assert.equal(
    familyTotal(merged, "switchboard_calls_total"),
    5,
  );
  const count = /^switchboard_call_duration_seconds_count\{[^}]*\} (\d+)$/m.exec(merged);
  assert.equal(count?.[1], "5");
  const inf = /^switchboard_call_duration_seconds_bucket\{[^}]*le="\+Inf"\} (\d+)$/m.exec(merged);
  assert.equal(inf?.[1], "5");
  // Skipped families come from the first text only; headers are written once.
  assert.match(merged, /^process_resident_memory_bytes 7$/m);
  assert.equal(merged.match(/^# TYPE switchboard_calls_total /gm)?.length, 1);
});
