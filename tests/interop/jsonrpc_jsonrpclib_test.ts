// Python's jsonrpclib-pelix calling a Switchboard server over HTTP: calls, named errors,
// and notifications, which it accepts only as HTTP 200 with an empty body (it raises on 204).
import assert from "node:assert/strict";
import { Server } from "../../server.ts";
import { ignoreUnless, peers, PYTHON } from "../fixtures/peers.ts";
import { editorImpl } from "./nvim_fixture.ts";

const SCRIPT = `
import json, math, sys
import jsonrpclib
from jsonrpclib.jsonrpc import ProtocolError

server = jsonrpclib.ServerProxy(sys.argv[1])
out = {}
out["add"] = server.Editor.add(2, 40)
out["named"] = server.Editor.add(a=1, b=2)
# Where the result declares t.float, whole numbers are JSON floats (1.0, -0.0), which
# Python reads as float: at the top and inside a struct.
third = server.Editor.third(3)
point = server.Editor.point(0)
out["floats"] = [type(third).__name__, type(point["x"]).__name__,
                 math.copysign(1.0, point["negated"]), type(point["n"]).__name__]
try:
    server.Editor.fail("soup")
    out["fail"] = "no error"
except ProtocolError as error:
    code, message = error.args[0][:2]
    out["fail"] = [code, message]
# Notifications: one, then a batch of notifications only; neither may raise.
server._notify.Editor.note("one")
batch = jsonrpclib.MultiCall(server)
batch._notify.Editor.note("two")
batch._notify.Editor.note("three")
batch()
out["notes"] = server.Editor.notes()
print(json.dumps(out))
`;

Deno.test({
  name: "jsonrpclib-pelix: calls, named errors, notifications and notification batches",
  ignore: await ignoreUnless(peers.jsonrpclib),
  fn: async () => {
    const notes: string[] = [];
    const server = new Server({ logger: { error: () => {}, warn: () => {} } });
    server.register(editorImpl(notes));
    const http = await server.listenHttp({ port: 0 });
    try {
      const result = await new Deno.Command(PYTHON, {
        args: ["-c", SCRIPT, `${http.url}/rpc`],
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(30_000),
      }).output();
      const stderr = new TextDecoder().decode(result.stderr);
      assert.ok(result.success, `jsonrpclib failed: ${stderr}`);
      const out = JSON.parse(new TextDecoder().decode(result.stdout));
      assert.equal(out.add, 42);
      assert.equal(out.named, 3);
      assert.deepEqual(out.floats, ["float", "float", -1, "int"]);
      assert.deepEqual(out.fail, [-32000, "no soup here"]);
      assert.deepEqual(out.notes, ["one", "two", "three"]);
      assert.deepEqual(notes, ["one", "two", "three"]);
    } finally {
      await server.close();
    }
  },
});
