// pynvim (Neovim's Python client) against a Switchboard server, through its documented
// `pynvim.msgpack_rpc.tcp_session(host, port)`: method names go out as msgpack bin (its
// first message, nvim_set_client_info, is such a notification), errors must read as
// pynvim's NvimError(message).
import assert from "node:assert/strict";
import { ignoreUnless, peers, PYTHON } from "../fixtures/peers.ts";
import { editorServer } from "./nvim_fixture.ts";

const SCRIPT = `
import json, math, sys
from pynvim.msgpack_rpc import tcp_session
from pynvim.api.common import decode_if_bytes
from pynvim.api.nvim import NvimError

session = tcp_session("127.0.0.1", int(sys.argv[1]))
# What pynvim's Nvim wrapper installs: an error is [type, message].
session.error_wrapper = lambda e: NvimError(decode_if_bytes(e[1]))
out = {}
out["echo"] = session.request("Editor.echo", {"k": [1, 2.5, None]})
out["bin_name"] = session.request(b"Editor.add", 2, 3)
out["size_bin"] = session.request("Editor.size", b"\\x00\\xff\\x10")
out["size_str"] = session.request("Editor.size", "abcd")
out["bytes"] = list(session.request("Editor.bytes", "hi"))
third = session.request("Editor.third", 9)
out["third"] = [type(third).__name__, third]
# The t.float members of a struct result are Python floats too; -0.0 keeps its sign.
point = session.request("Editor.point", 0)
out["point"] = [type(point["x"]).__name__, math.copysign(1.0, point["negated"]),
                type(point["n"]).__name__]
for name, call in [("fail", lambda: session.request("Editor.fail", "tea")),
                   ("unknown", lambda: session.request("Editor.nope")),
                   ("invalid", lambda: session.request("Editor.add", "x", 1))]:
    try:
        call()
        out[name] = "no error"
    except NvimError as error:
        out[name] = ["NvimError", str(error)]
session.request("Editor.note", "from pynvim", async_=True)
out["notes"] = session.request("Editor.notes")
print(json.dumps(out))
session.close()
`;

Deno.test({
  name: "pynvim's tcp_session calls a Switchboard server: bin method names, NvimError text",
  ignore: await ignoreUnless(peers.pynvim),
  fn: async () => {
    const { tcp, close } = await editorServer();
    try {
      const result = await new Deno.Command(PYTHON, {
        args: ["-c", SCRIPT, String(tcp.port)],
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(30_000),
      }).output();
      const stderr = new TextDecoder().decode(result.stderr);
      assert.ok(result.success, `pynvim script failed: ${stderr}`);
      const out = JSON.parse(new TextDecoder().decode(result.stdout));
      assert.deepEqual(out.echo, { k: [1, 2.5, null] });
      assert.equal(out.bin_name, 5);
      assert.equal(out.size_bin, 3);
      assert.equal(out.size_str, 4); // a msgpack str is text, not base64
      assert.deepEqual(out.bytes, [104, 105]);
      assert.deepEqual(out.third, ["float", 3]);
      assert.deepEqual(out.point, ["float", -1, "int"]);
      assert.deepEqual(out.fail, ["NvimError", "NotFound: no tea here"]);
      assert.deepEqual(out.unknown, ["NvimError", "Method not found: Editor.nope"]);
      assert.match(out.invalid[1], /params\.a: expected int, got "x"/);
      assert.deepEqual(out.notes, ["from pynvim"]);
    } finally {
      await close();
    }
  },
});
