// `switchboard call` reads back the tags it prints: {"$date"} and {"$bytes"} in PARAMS_JSON
// reach Python's SimpleXMLRPCServer as <dateTime.iso8601> and <base64> (Python gets a
// datetime and bytes), and what it answers prints as the same tags.
import assert from "node:assert/strict";
import { fileURLToPath as fromFileUrl } from "node:url";
import { ignoreUnless, peers, PYTHON } from "../fixtures/peers.ts";

const MAIN = fromFileUrl(new URL("../../main.ts", import.meta.url));
const CWD = fromFileUrl(new URL("../../", import.meta.url));

const SERVER = `
from xmlrpc.server import SimpleXMLRPCServer
server = SimpleXMLRPCServer(("127.0.0.1", 0), logRequests=False, allow_none=True,
                            use_builtin_types=True)
def kinds(*values):
    def kind(v):
        if isinstance(v, dict):
            return {k: kind(x) for k, x in v.items()}
        if isinstance(v, list):
            return [kind(x) for x in v]
        return type(v).__name__
    return [kind(v) for v in values]
server.register_function(kinds, "Py.kinds")
server.register_function(lambda *values: list(values), "Py.echo")
print(server.server_address[1], flush=True)
server.serve_forever()
`;

/** Python's XML-RPC server on a free port; its port and a stop that reaps it. */
async function pythonXmlRpc() {
  const child = new Deno.Command(PYTHON, {
    args: ["-c", SERVER],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
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
  const stop = async () => {
    try {
      child.kill();
    } catch {
      // already gone
    }
    await reader.cancel();
    await child.status;
  };
  const port = Number.parseInt(text, 10);
  if (!(port > 0)) {
    await stop();
    throw new Error("python's xmlrpc server did not start");
  }
  return { port, stop };
}

async function call(...args: string[]) {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", MAIN, "call", ...args],
    cwd: CWD,
    stdin: "null",
    env: { NO_COLOR: "1" },
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code, stdout: decode(stdout), stderr: decode(stderr) };
}

const WHEN = { $date: "2024-02-29T23:59:58.000Z" };
const DATA = { $bytes: "AP8=" };

Deno.test({
  name: "call --protocol xmlrpc sends {$date} and {$bytes} as <dateTime.iso8601> and <base64>",
  ignore: await ignoreUnless(peers.pythonXmlrpc),
  fn: async () => {
    const { port, stop } = await pythonXmlRpc();
    // The URL as written: Python answers at "/" (and /RPC2).
    const url = `http://127.0.0.1:${port}`;
    try {
      const params = JSON.stringify([WHEN, DATA, { at: WHEN, list: [DATA] }, "text"]);
      const kinds = await call("--protocol", "xmlrpc", url, "Py.kinds", params);
      assert.equal(kinds.code, 0, kinds.stderr);
      assert.deepEqual(JSON.parse(kinds.stdout), [
        "datetime",
        "bytes",
        { at: "datetime", list: ["bytes"] },
        "str",
      ]);
      // What comes back prints as the tags that went out.
      const echoed = await call("--protocol", "xmlrpc", `${url}/RPC2`, "Py.echo", params);
      assert.equal(echoed.code, 0, echoed.stderr);
      assert.deepEqual(JSON.parse(echoed.stdout), JSON.parse(params));
    } finally {
      await stop();
    }
  },
});

Deno.test("call refuses PARAMS_JSON it cannot send as written, with a usage error", async () => {
  // Nothing listens there: the refusal comes before any connection.
  const url = "http://127.0.0.1:9";
  for (
    const [params, message] of [
      ["[1e400]", /PARAMS_JSON holds Infinity, a number beyond the range of a double/],
      [`[${"[".repeat(100)}${"]".repeat(100)}]`, /PARAMS_JSON value nests deeper than 64 levels/],
    ] as const
  ) {
    const refused = await call("--protocol", "xmlrpc", url, "Py.echo", params);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, message);
  }
});
