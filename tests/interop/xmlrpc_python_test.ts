// Python's standard xmlrpc.client against our server: every XML-RPC type round-trips,
// faults are xmlrpc.client.Fault with our code and message, and the introspection
// methods and system.multicall work as Python expects them to.

import assert from "node:assert/strict";
import { type Logger, Server } from "../../server.ts";
import { ignoreUnless, peers, PYTHON } from "../fixtures/peers.ts";
import types from "./xmlrpc_types_component.ts";

const quiet: Logger = { error: () => {}, warn: () => {} };
const SCRIPT = new URL("./xmlrpc_python_client.py", import.meta.url);

/** Runs the Python client against `url` with the python the peer probe checked. */
async function runPython(url: string): Promise<Record<string, unknown[]>> {
  const out = await new Deno.Command(PYTHON, {
    args: [SCRIPT.pathname, url],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, `python failed:\n${stderr}`);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

Deno.test({
  name: "Python's xmlrpc.client calls our server",
  ignore: await ignoreUnless(peers.pythonXmlrpc),
}, async () => {
  const server = new Server({ logger: quiet }).register(types);
  const http = await server.listenHttp({ hostname: "127.0.0.1", port: 0 });
  let r: Record<string, unknown[]>;
  try {
    r = await runPython(`${http.url}/RPC2`);
  } finally {
    await server.close();
  }
  // Every type round-trips, with the Python type the IDL promises.
  assert.deepEqual(r.int, ["int", "-2147483648"]);
  assert.deepEqual(r.int64, ["int", "2147483647"]);
  assert.deepEqual(r.big64, ["int", "4611686018427387905"]); // <i8>
  assert.deepEqual(r.float, ["float", "0.1"]);
  assert.deepEqual(r.half, ["float", "3.0"]); // a t.float 3 is a <double>
  assert.deepEqual(r.bool, ["bool", "True"]);
  assert.deepEqual(r.string, ["str", "'<&> ]]> \u00e9\u{1F600} \\t\\n'"]);
  assert.deepEqual(r.empty, ["str", "''"]);
  assert.deepEqual(r.bytes, ["bytes", "b'\\x00\\x01\\xfe\\xff'"]);
  assert.deepEqual(r.date, ["datetime", "datetime.datetime(2024, 2, 29, 23, 59, 58)"]);
  assert.deepEqual(r.thing, [
    "dict",
    "{'id': 7, 'name': 'seven', 'score': 7.0, 'big': 2147483647, 'ok': True, " +
    "'blob': b'\\x00\\xff', 'when': datetime.datetime(2024, 2, 29, 23, 59, 58), " +
    "'tags': ['a', 'b'], 'extra': None}",
  ]);
  assert.deepEqual(r.any, ["list", "[1, 2.5, 'x', None, False, {'k': [[]]}]"]);
  assert.deepEqual(r.none, ["NoneType", "None"]);
  assert.deepEqual(r.nothing, ["NoneType", "None"]);
  // One struct is one param (params are positional), not params by name.
  assert.deepEqual(r.named, ["Fault", -32602, "params.a: expected int, got an object"]);
  assert.deepEqual(r.positional, ["int", "5"]);
  assert.deepEqual(r.unqualified, ["int", "9"]);
  // Faults are xmlrpc.client.Fault with our code and message.
  assert.deepEqual(r.fail, ["Fault", -32000, "NotFound: no such thing: 42"]);
  assert.deepEqual(r.unknown, ["Fault", -32601, "Method not found: Types.nope"]);
  assert.deepEqual(r.wrongType, ["Fault", -32602, 'params.a: expected int, got "1"']);
  assert.deepEqual(r.tooMany, [
    "Fault",
    -32602,
    "params: expected at most 2 positional parameter(s) (a, b), got 3",
  ]);
  assert.equal(r.tooBig[0], "Fault");
  assert.equal(r.tooBig[1], -32603);
  assert.match(String(r.tooBig[2]), /does not fit XML-RPC's 32-bit <int>/);
  // Introspection and multicall.
  assert.equal(r.listMethods[0], "list");
  for (const name of ["Types.half", "Types.echoThing", "system.multicall"]) {
    assert.ok(String(r.listMethods[1]).includes(`'${name}'`), name);
  }
  assert.deepEqual(r.signature, ["list", "[['double', 'int']]"]);
  assert.deepEqual(r.help, ["str", "'n / 2, always a double'"]);
  assert.deepEqual(r.multicall, [
    ["float", "1.5"],
    ["int", "3"],
    ["Fault", -32000, "NotFound: no such thing: 7"], // as the call alone (r.fail)
    ["bytes", "b'\\x01'"],
  ]);
});
