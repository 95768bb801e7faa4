// `switchboard serve --websocket`: the HTTP listener also takes JSON-RPC over WebSocket,
// says so on its listening line, and a client calls the demo over ws://; without the flag
// an upgrade is not served.
import assert from "node:assert/strict";
import { connect } from "../../mod.ts";
import { startServe } from "../fixtures/serve_process.ts";

Deno.test("serve --websocket: the demo over ws://, and no WebSocket without the flag", async () => {
  const on = await startServe(["--websocket", "--tcp", "off"]);
  try {
    const ws = (await on.waitFor(/JSON-RPC over WebSocket: (ws:\/\/\S+?)\)/))[1];
    assert.equal(ws, on.url.replace("http", "ws"));
    const client = connect(ws);
    try {
      assert.equal(await client.call("Calculator.add", { a: 2, b: 3 }), 5);
    } finally {
      await client.close();
    }
  } finally {
    await on.stop();
  }
  const off = await startServe(["--tcp", "off"]);
  try {
    assert.doesNotMatch(off.output(), /WebSocket/);
    const client = connect(off.url.replace("http", "ws"), { connectTimeout: 5000 });
    try {
      await assert.rejects(client.call("Calculator.add", { a: 2, b: 3 }), { name: "Unavailable" });
    } finally {
      await client.close();
    }
  } finally {
    await off.stop();
  }
});
