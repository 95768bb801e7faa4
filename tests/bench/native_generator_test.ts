// The native msgpack-rpc generator (scripts/bench/peers/msgpack_load.c) against a real
// `serve` with the bench component: it keeps its calls in flight, counts whole answers,
// checks the first one's result, and says so when it is not the expected one.
import assert from "node:assert/strict";
import { nativeGenerator } from "../../scripts/bench/native_generator.ts";
import { runChildGenerator } from "../../scripts/bench/child_generator.ts";
import { ADD, MSGPACK_TAILS } from "../../scripts/bench/workload.ts";
import { startServe } from "../fixtures/serve_process.ts";

const native = await nativeGenerator();

Deno.test({
  name: "native msgpack-rpc generator: answers counted and checked, a wrong result reported",
  ignore: native === undefined,
  async fn() {
    const server = await startServe([
      "--component",
      "scripts/bench/bench_component.ts",
      "--http",
      "off",
      "--log-level",
      "off",
    ]);
    try {
      const port = Number(new URL(server.tcp!.replace("tcp:", "http:")).port);
      const cell = (expected: number) => ({
        port,
        connections: 4,
        depth: 8,
        warmupMs: 100,
        durationMs: 500,
        tail: btoa(String.fromCharCode(...MSGPACK_TAILS.add)),
        expected,
      });
      const windows: boolean[] = [];
      const timing = {
        warmupMs: 100,
        durationMs: 500,
        onWindow: (open: boolean) => windows.push(open),
      };
      const good = await runChildGenerator([native!], cell(ADD.sum), timing);
      assert.deepEqual(windows, [true, false]);
      assert.ok(good.calls > 100, JSON.stringify(good));
      assert.equal(good.errors, 0);
      assert.equal(good.wrong, undefined);
      assert.ok(good.cps > 0 && good.p50 > 0 && good.p99 >= good.p50, JSON.stringify(good));
      assert.ok(good.generator !== undefined);
      const bad = await runChildGenerator([native!], cell(ADD.sum + 1), timing);
      assert.equal(bad.wrong, "unexpected result");
    } finally {
      await server.stop();
    }
  },
});
