// Process isolation (`--isolate process`) through a real `switchboard serve` process: a
// component that allocates without bound ends only its own process (its heap is bounded),
// the server keeps answering, and a fresh process serves the next call; the component gets
// only the permissions it was granted; values cross as they do into a worker.
import assert from "node:assert/strict";
import { connect } from "../../../src/client/connect.ts";
import { RpcError } from "../../../src/core/errors.ts";
import { startServe } from "../../fixtures/serve_process.ts";

const HOG = new URL("../../fixtures/components/hog.ts", import.meta.url).pathname;

Deno.test("process isolation: a component out of memory ends its own process, not the server", async () => {
  const server = await startServe([
    "--tcp",
    "off",
    "--component",
    "src/demo/calculator.ts",
    "--component",
    HOG,
    "--isolate",
    "process",
    "--max-memory",
    "64",
  ]);
  const client = connect(server.http!);
  try {
    assert.match(server.output(), /loaded Hog \(4 methods\) from .*hog\.ts in a process/);
    const first = await client.call("Hog.hello", {}, { timeout: 10_000 }) as string;
    const before = Number(/pid (\d+)/.exec(first)?.[1]);
    assert.notEqual(before, server.pid);
    // The allocation ends the component's process; its call fails Unavailable.
    const started = performance.now();
    await assert.rejects(
      () => client.call("Hog.grow", {}, { timeout: 60_000 }),
      (error: unknown) =>
        error instanceof RpcError && error.name === "Unavailable" &&
        /component process of .*hog\.ts ended by SIG|exited with status/.test(error.message),
    );
    console.log(`out of memory after ${(performance.now() - started).toFixed(0)} ms`);
    // The server is up and answering, inline components and the component alike.
    assert.equal(await client.call("Calculator.add", { a: 2, b: 3 }), 5);
    const again = await client.call("Hog.hello", {}, { timeout: 10_000 }) as string;
    const after = Number(/pid (\d+)/.exec(again)?.[1]);
    assert.ok(after > 0 && after !== before, `a fresh process serves: ${before} → ${after}`);
    // Values cross by structured clone, as into a worker.
    const at = new Date("2024-05-06T07:08:09.000Z");
    assert.equal(
      await client.call("Hog.when", { at, data: new Uint8Array([1, 2, 3]) }),
      "2024-05-06T07:08:09.000Z 3",
    );
  } finally {
    await client.close();
    await server.stop();
  }
  assert.equal(await server.exited, 0, server.output());
});

Deno.test("process isolation: the component gets only its grants", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/allowed.txt`, "allowed");
  await Deno.writeTextFile(`${dir}/secret.txt`, "secret");
  const server = await startServe([
    "--tcp",
    "off",
    "--component",
    HOG,
    "--isolate",
    "process",
    `--allow-read=${dir}/allowed.txt`,
  ]);
  const client = connect(server.http!);
  try {
    assert.equal(await client.call("Hog.readText", { path: `${dir}/allowed.txt` }), "allowed");
    await assert.rejects(
      () => client.call("Hog.readText", { path: `${dir}/secret.txt` }),
      (error: unknown) => error instanceof RpcError && error.code === -32007,
    );
  } finally {
    await client.close();
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
