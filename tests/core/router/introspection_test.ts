// Introspection generated from the IDL: system.* (XML-RPC practice) and rpc.discover.

import assert from "node:assert/strict";
import { Client } from "../../../mod.ts";
import { LocalTransport, type Logger, Server } from "../../../server.ts";
import { demoComponents } from "../../../src/demo/mod.ts";

const quiet: Logger = { error: () => {}, warn: () => {} };

function demo() {
  const server = new Server({ logger: quiet }).register(...demoComponents);
  return new Client(new LocalTransport(server.router));
}

Deno.test("system.listMethods lists every method, sorted", async () => {
  const names = await demo().call("system.listMethods") as string[];
  assert.ok(names.includes("Calculator.add"));
  assert.ok(names.includes("Echo.sample"));
  assert.ok(names.includes("system.methodHelp"));
  assert.ok(names.includes("rpc.discover"));
  assert.deepEqual(names, [...names].sort());
});

Deno.test("system.methodSignature and methodHelp describe a method; unknown ones are -32602", async () => {
  const client = demo();
  assert.deepEqual(await client.call("system.methodSignature", ["Calculator.add"]), [[
    "int",
    "int",
    "int",
  ]]);
  assert.deepEqual(await client.call("system.methodSignature", ["Echo.sample"]), [[
    "struct",
    "struct",
  ]]);
  assert.equal(await client.call("system.methodHelp", ["Calculator.add"]), "a + b");
  await assert.rejects(client.call("system.methodHelp", ["Nope.nope"]), {
    code: -32602,
    message: 'params.methodName: no method "Nope.nope"',
  });
});

Deno.test("system.multicall is XML-RPC's: other protocols are told to send a batch", async () => {
  // The XML-RPC transport answers it within the listener's limits (tests/server/multicall_test.ts).
  await assert.rejects(
    demo().call("system.multicall", [[{ methodName: "Calculator.add", params: [1, 2] }]]),
    { code: -32600, message: /answered over XML-RPC only; send a JSON-RPC batch instead/ },
  );
});

Deno.test("rpc.discover describes the registered interfaces", async () => {
  const doc = await demo().call("rpc.discover") as { methods: { name: string }[] };
  const names = doc.methods.map((m) => m.name);
  assert.ok(names.includes("Calculator.divide"));
  assert.ok(names.includes("rpc.discover"));
});

Deno.test("a server without introspection has none", async () => {
  const server = new Server({ logger: quiet, introspection: false }).register(...demoComponents);
  const client = new Client(new LocalTransport(server.router));
  await assert.rejects(client.call("system.listMethods"), { code: -32601 });
  await assert.rejects(client.call("rpc.discover"), { code: -32601 });
});
