// Ruby's xmlrpc gem (ruby-xmlrpc) calling a Switchboard server. The gem accepts a fault
// with exactly faultCode and faultString and raises "wrong fault-structure" on any other
// member, so a plain client must get exactly those two, with the error's name readable.
import assert from "node:assert/strict";
import { Server } from "../../server.ts";
import { ignoreUnless, peers, RUBY } from "../fixtures/peers.ts";
import types from "./xmlrpc_types_component.ts";

const SCRIPT = `
require "json"
require "xmlrpc/client"
server = XMLRPC::Client.new2(ARGV[0])
out = {}
def record(out, name)
  out[name] = ["ok", yield]
rescue XMLRPC::FaultException => e
  out[name] = ["fault", e.faultCode, e.faultString]
rescue StandardError => e
  out[name] = ["error", e.class.name, e.message]
end
record(out, "add") { server.call("Types.add", 2, 3) }
record(out, "half") { server.call("Types.half", 6) }
record(out, "fail") { server.call("Types.fail", 42) }
record(out, "unknown") { server.call("Types.nope") }
record(out, "invalid") { server.call("Types.add", "1", 2) }
record(out, "too_big") { server.call("Types.tooBig") }
# A whole <double> inside a t.any value comes back as a <double> (Ruby Float), -0.0 too.
any = server.call("Types.echoAny", [1.0, 2, { "d" => -0.0 }])
out["any"] = [any[0].class.name, any[1].class.name, any[2]["d"].class.name, any[2]["d"].to_s]
ok, value = server.call2("Types.fail", 7)
out["call2"] = [ok, value.faultCode, value.faultString]
puts JSON.generate(out)
`;

Deno.test({
  name: "Ruby's xmlrpc gem gets readable faults (exactly faultCode and faultString)",
  ignore: await ignoreUnless(peers.rubyXmlrpc),
  fn: async () => {
    const server = new Server({ logger: { error: () => {}, warn: () => {} } }).register(types);
    const http = await server.listenHttp({ port: 0 });
    try {
      const result = await new Deno.Command(RUBY, {
        args: ["-e", SCRIPT, `${http.url}/RPC2`],
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(30_000),
      }).output();
      const stderr = new TextDecoder().decode(result.stderr);
      assert.ok(result.success, `ruby failed: ${stderr}`);
      const out = JSON.parse(new TextDecoder().decode(result.stdout));
      assert.deepEqual(out.add, ["ok", 5]);
      assert.deepEqual(out.half, ["ok", 3.0]);
      // Not ["error", "XMLRPC::FaultException"/"RuntimeError", "wrong fault-structure …"].
      assert.deepEqual(out.fail, ["fault", -32000, "NotFound: no such thing: 42"]);
      assert.deepEqual(out.unknown, ["fault", -32601, "Method not found: Types.nope"]);
      assert.deepEqual(out.invalid, ["fault", -32602, 'params.a: expected int, got "1"']);
      assert.equal(out.too_big[0], "fault");
      assert.equal(out.too_big[1], -32603);
      assert.deepEqual(out.call2, [false, -32000, "NotFound: no such thing: 7"]);
      assert.deepEqual(out.any, ["Float", "Integer", "Float", "-0.0"]);
    } finally {
      await server.close();
    }
  },
});
