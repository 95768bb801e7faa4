// Switchboard's client against servers it did not write: Python's SimpleXMLRPCServer
// (params strictly by position) and jsonrpclib-pelix's SimpleJSONRPCServer at "/" (which
// answers notifications with an empty 200 and knows nothing of {"$date"} tags).
import assert from "node:assert/strict";
import { connect, defineInterface, method, RpcError, t } from "../../mod.ts";
import { ignoreUnless, peers, PYTHON } from "../fixtures/peers.ts";
import "../../xmlrpc.ts"; // connect() speaks xmlrpc

const SERVER = `
import sys
kind = sys.argv[1]
notes = []
def add(a, b):
    return a + b
def kinds(*values):
    return [type(v).__name__ for v in values]
def kind_of(x):
    return type(x).__name__
def echo(*values):
    return list(values)
def fail():
    raise ValueError("boom")
def note(text):
    notes.append(text)
def get_notes():
    return notes
if kind == "xml":
    from xmlrpc.server import SimpleXMLRPCServer
    server = SimpleXMLRPCServer(("127.0.0.1", 0), logRequests=False, allow_none=True, use_builtin_types=True)
else:
    from jsonrpclib.SimpleJSONRPCServer import SimpleJSONRPCServer
    server = SimpleJSONRPCServer(("127.0.0.1", 0), logRequests=False)
for name, fn in [("add", add), ("kinds", kinds), ("kind", kind_of), ("echo", echo), ("fail", fail),
                 ("note", note), ("notes", get_notes)]:
    server.register_function(fn, "Calc." + name)
print(server.server_address[1], flush=True)
server.serve_forever()
`;

const Calc = defineInterface("Calc", {
  add: method({ params: { a: t.int, b: t.int }, result: t.int }),
  kinds: method({
    params: { x: t.float, big: t.optional(t.int64), label: t.optional(t.string) },
    result: t.array(t.string),
  }),
  echo: method({ params: { when: t.datetime, data: t.bytes }, result: t.array(t.any) }),
  kind: method({ params: { x: t.float }, result: t.string }),
  notes: method({ result: t.array(t.string) }),
});

/** Starts the Python server of `kind`; resolves with its port and a stop function. */
async function pythonServer(kind: "xml" | "json") {
  const child = new Deno.Command(PYTHON, {
    args: ["-c", SERVER, kind],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const timer = setTimeout(() => child.kill(), 20_000);
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  clearTimeout(timer);
  const port = Number.parseInt(text, 10);
  const stop = async () => {
    try {
      child.kill();
    } catch {
      // already gone
    }
    await reader.cancel();
    await child.stderr.cancel();
    await child.status;
  };
  if (!(port > 0)) {
    await stop();
    throw new Error(`the python ${kind} server did not start`);
  }
  return { port, stop };
}

Deno.test({
  name: "proxy() calls Python's SimpleXMLRPCServer by position, each param by its type",
  ignore: await ignoreUnless(peers.pythonXmlrpc),
  fn: async () => {
    const { port, stop } = await pythonServer("xml");
    const client = connect(`http://127.0.0.1:${port}/RPC2`, { protocol: "xmlrpc" });
    try {
      const calc = client.proxy(Calc);
      assert.equal(await calc.add({ b: 40, a: 2 }), 42);
      // t.float 3 goes as <double> (Python float), t.int64 as <i8>; trailing absent omitted.
      assert.deepEqual(await calc.kinds({ x: 3, big: 2 ** 40, label: "l" }), [
        "float",
        "int",
        "str",
      ]);
      assert.deepEqual(await calc.kinds({ x: 1.5 }), ["float"]);
      // A gap in the middle is <nil/> (SimpleXMLRPCServer needs allow_none for it).
      assert.deepEqual(await calc.kinds({ x: 1, label: "l" }), ["float", "NoneType", "str"]);
      const when = new Date("2024-02-29T23:59:58Z");
      const [date, data] = await calc.echo({ when, data: new Uint8Array([0, 255]) });
      assert.deepEqual(date, when);
      assert.deepEqual(data, new Uint8Array([0, 255]));
      // Python's faults: readable, code and text as sent.
      await assert.rejects(client.call("Calc.fail", []), (e: unknown) => {
        assert.ok(e instanceof RpcError);
        assert.match(e.message, /ValueError.*boom/);
        return true;
      });
    } finally {
      await client.close();
      await stop();
    }
  },
});

Deno.test({
  name: "a JSON-RPC server at '/': path as written, empty-200 notifications, bare strings",
  ignore: await ignoreUnless(peers.jsonrpclib),
  fn: async () => {
    const { port, stop } = await pythonServer("json");
    // The URL is the endpoint: "http://host:port/" and "http://host:port" both post to "/",
    // the only path jsonrpclib answers (anything else is its 404).
    const client = connect(`http://127.0.0.1:${port}/`, { taggedValues: false });
    const tagged = connect(`http://127.0.0.1:${port}/`);
    const noPath = connect(`http://127.0.0.1:${port}`);
    try {
      const calc = client.proxy(Calc);
      assert.equal(await calc.add({ a: 2, b: 40 }), 42);
      assert.equal(await client.call("Calc.add", [1, 2]), 3);
      // A whole t.float param goes as JSON 3.0, which Python reads as a float.
      assert.equal(await calc.kind({ x: 3 }), "float");
      // Notifications: the server answers an empty 200, which notify() accepts.
      await client.notify("Calc.note", ["one"]);
      await client.notify("Calc.note", ["two"]);
      assert.deepEqual(await calc.notes(), ["one", "two"]);
      // taggedValues: false sends a Date and bytes as bare ISO 8601 and base64 strings.
      const when = new Date("2024-02-29T23:59:58.000Z");
      assert.deepEqual(await client.call("Calc.echo", [when, new Uint8Array([0, 255])]), [
        "2024-02-29T23:59:58.000Z",
        "AP8=",
      ]);
      // The default (for Switchboard servers) sends tags, which a foreign server echoes.
      assert.deepEqual(await tagged.call("Calc.echo", [when]), [when]);
      await assert.rejects(client.call("Calc.fail", []), /boom/);
      assert.equal(await noPath.call("Calc.add", [1, 2]), 3);
      assert.equal(await noPath.proxy(Calc).add({ a: 40, b: 2 }), 42);
    } finally {
      await client.close();
      await tagged.close();
      await noPath.close();
      await stop();
    }
  },
});
