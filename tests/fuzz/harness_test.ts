/**
 * Keeps `deno task fuzz` from rotting: runs the fuzzer with a tiny count against a live
 * server (a child process it starts) and checks the report it prints.
 */

import assert from "node:assert/strict";
import { BROKER_UP } from "../fixtures/amqp_broker.ts";

Deno.test("deno task fuzz: a tiny run reports every protocol with its figures", async () => {
  const artifacts = await Deno.makeTempDir({ prefix: "fuzz-artifacts-" });
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../../scripts/fuzz/main.ts", import.meta.url).pathname,
      "--count",
      "300",
      "--seconds",
      "60",
      "--seed",
      "7",
      "--normal-every",
      "100",
      "--artifacts",
      artifacts,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  await Deno.remove(artifacts, { recursive: true });
  const stdout = new TextDecoder().decode(output.stdout);
  const line = stdout.split("\n").find((l) => l.startsWith("FUZZ-REPORT "));
  assert.ok(
    line,
    `no report line; stdout:\n${stdout}\nstderr:\n${new TextDecoder().decode(output.stderr)}`,
  );
  const report = JSON.parse(line.slice("FUZZ-REPORT ".length));
  assert.equal(report.seed, 7);
  // Exit 1 means a crash or hang was found (the report says which); anything else is the fuzzer's own failure.
  assert.equal(output.code, report.ok ? 0 : 1);
  assert.deepEqual(report.protocols.map((p: { protocol: string }) => p.protocol), [
    "jsonrpc",
    "xmlrpc",
    "msgpack",
    "amqp",
    "multicall",
    "component",
    "component-process",
  ]);
  for (const p of report.protocols) {
    if (p.skipped) {
      assert.equal(p.protocol, "amqp");
      assert.ok(!BROKER_UP && !Deno.env.get("CI"), `amqp skipped: ${p.skipped}`);
      continue;
    }
    assert.ok(p.inputs >= 300, `${p.protocol}: ${p.inputs} inputs`);
    assert.ok(p.inputsPerSecond > 0);
    assert.ok(
      Object.values(p.classes).reduce((a: number, b) => a + (b as number), 0) > 0,
      `${p.protocol}: no answers counted`,
    );
    assert.ok(
      p.normalCalls.count >= 2,
      `${p.protocol}: known call made ${p.normalCalls.count} times`,
    );
    assert.ok(p.normalCalls.p50 > 0 && p.normalCalls.max >= p.normalCalls.p99);
    assert.ok(p.rssKiB.before > 0, `${p.protocol}: no RSS read`);
    for (const key of ["crashes", "hangs", "unexpected"]) assert.equal(typeof p[key], "number");
  }
});
