// npm's xmlrpc client (run in Deno through its npm import) against our server: every
// XML-RPC type round-trips, faults carry our code and message, introspection and
// system.multicall work.

import assert from "node:assert/strict";
import xmlrpc from "xmlrpc";
import { Buffer } from "node:buffer";
import { type Logger, Server } from "../../server.ts";
import types from "./xmlrpc_types_component.ts";

const quiet: Logger = { error: () => {}, warn: () => {} };

interface Fault extends Error {
  faultCode?: number;
  faultString?: string;
  code?: number;
}

Deno.test("npm xmlrpc client calls our server", async () => {
  const server = new Server({ logger: quiet }).register(types);
  const http = await server.listenHttp({ hostname: "127.0.0.1", port: 0 });
  // agent: false — one connection per call, none left open when the test ends.
  const client = xmlrpc.createClient({
    host: "127.0.0.1",
    port: Number(new URL(http.url).port),
    path: "/RPC2",
    agent: false,
  });
  const call = (method: string, ...params: unknown[]) =>
    new Promise<unknown>((resolve, reject) =>
      client.methodCall(
        method,
        params,
        (error: Fault | null, value: unknown) => error ? reject(error) : resolve(value),
      )
    );
  const fault = async (method: string, ...params: unknown[]) => {
    try {
      await call(method, ...params);
    } catch (error) {
      return error as Fault;
    }
    assert.fail(`${method} did not fault`);
  };
  try {
    assert.equal(await call("Types.echoInt", -5), -5);
    assert.equal(await call("Types.echoFloat", 0.5), 0.5);
    assert.equal(await call("Types.half", 7), 3.5);
    assert.equal(await call("Types.big64"), "4611686018427387905"); // npm xmlrpc reads <i8> as text
    assert.equal(await call("Types.echoBool", true), true);
    assert.equal(await call("Types.echoString", "<&> ]]> \u00e9"), "<&> ]]> \u00e9");
    assert.equal(await call("Types.echoString", ""), "");
    const bytes = await call("Types.echoBytes", Buffer.from([0, 1, 255]));
    assert.ok(Buffer.isBuffer(bytes));
    assert.deepEqual([...(bytes as Uint8Array)], [0, 1, 255]);
    const when = new Date(2024, 0, 2, 3, 4, 5); // the client writes local time; we echo it
    assert.equal(((await call("Types.echoDate", when)) as Date).getTime(), when.getTime());
    const any = [1, 2.5, "x", null, false, { k: [[]] }];
    assert.deepEqual(await call("Types.echoAny", any), any);
    assert.equal(await call("Types.nothing"), null);
    assert.equal(await call("Types.add", 2, 3), 5);
    // One struct is one param (params are positional), not params by name.
    assert.equal((await fault("Types.add", { a: 2, b: 3 })).faultCode, -32602);

    const failed = await fault("Types.fail", 42);
    assert.equal(failed.faultCode, -32000);
    // Exactly faultCode and faultString; the name the code does not imply leads the string.
    assert.equal(failed.faultString, "NotFound: no such thing: 42");
    assert.equal("faultName" in failed, false);
    assert.equal((await fault("Types.nope")).faultCode, -32601);
    const wrong = await fault("Types.add", "1", 2);
    assert.equal(wrong.faultCode, -32602);
    assert.equal(wrong.faultString, 'params.a: expected int, got "1"');

    const methods = await call("system.listMethods") as string[];
    assert.ok(methods.includes("Types.echoThing") && methods.includes("system.multicall"));
    assert.deepEqual(await call("system.methodSignature", "Types.half"), [["double", "int"]]);
    assert.equal(await call("system.methodHelp", "Types.add"), "a + b");
    const multi = await call("system.multicall", [
      { methodName: "Types.half", params: [1] },
      { methodName: "Types.fail", params: [7] },
      { methodName: "Types.add", params: [1, 1] },
    ]);
    // Each entry is what its call alone returns, the fault too.
    assert.deepEqual(multi, [
      [0.5],
      { faultCode: -32000, faultString: "NotFound: no such thing: 7" },
      [2],
    ]);
  } finally {
    await server.close();
  }
});
