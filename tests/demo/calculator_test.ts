// The demo's overflow is the caller's error (OutOfRange), not an internal error with a stack
// in the server's log: the fuzzer found 87 such -32603s in one run.
import assert from "node:assert/strict";
import { connect } from "../../mod.ts";
import { Server } from "../../server.ts";
import { Calculator, calculator } from "../../src/demo/mod.ts";

Deno.test("demo calculator: overflow is OutOfRange for the caller, nothing is logged", async () => {
  const logged: string[] = [];
  const server = new Server({
    logger: { error: (m) => logged.push(m), warn: (m) => logged.push(m) },
  }).register(calculator);
  const http = await server.listenHttp({ port: 0 });
  const client = connect(http.url);
  try {
    const calc = client.proxy(Calculator);
    assert.equal(await calc.add({ a: 2, b: 3 }), 5);
    await assert.rejects(calc.add({ a: Number.MAX_SAFE_INTEGER, b: 1 }), {
      name: "OutOfRange",
      code: -32000,
    });
    await assert.rejects(calc.multiply({ a: 1e308, b: 10 }), { name: "OutOfRange" });
    await assert.rejects(calc.divide({ a: 1e308, b: 1e-308 }), { name: "OutOfRange" });
    await assert.rejects(calc.divide({ a: 1, b: 0 }), { name: "DivisionByZero" });
    assert.deepEqual(logged, []);
  } finally {
    await client.close();
    await server.close();
  }
});
