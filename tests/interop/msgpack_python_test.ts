// A msgpack-rpc client we did not write: Python with Debian's python3-msgpack over a plain
// socket (installed by .ci/setup.d/10-python3-msgpack.sh for /usr/bin/python3).
import assert from "node:assert/strict";
import { ignoreUnless, peers, PYTHON } from "../fixtures/peers.ts";
import { demoServer } from "../server/tcp_fixture.ts";

const SCRIPT = `
import datetime, json, socket, sys
import msgpack

port = int(sys.argv[1])
def connect():
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    return s, msgpack.Unpacker(raw=False, timestamp=3)
s, unpacker = connect()

def send(*messages, sock=None):
    (sock or s).sendall(b"".join(msgpack.packb(m, use_bin_type=True, datetime=True) for m in messages))

def recv():
    while True:
        try:
            return next(unpacker)
        except StopIteration:
            data = s.recv(65536)
            if not data:
                raise EOFError("server closed the connection")
            unpacker.feed(data)

out = {}
send([0, 1, "Demo.echo", [{"a": [1, "two"], "n": None}]])
out["echo"] = recv()

# Pipelined: answered as they complete, not as they were sent.
send([0, 2, "Demo.sleep", [400, "slow"]], [0, 3, "Demo.sleep", [100, "medium"]],
     [0, 4, "Demo.echo", ["now"]])
out["order"] = [recv()[1] for _ in range(3)]

send([2, "Demo.note", ["from python"]], [0, 5, "Demo.notes", []])
out["notes"] = recv()

send([0, 6, "Demo.nope", []])
out["unknown"] = recv()
send([0, 7, "Demo.fail", ["bad thing"]])
out["fail"] = recv()
send([0, 8, "Demo.sleep", ["not an int", "x"]])
out["invalid"] = recv()

when = datetime.datetime(2030, 1, 2, 3, 4, 5, 678000, tzinfo=datetime.timezone.utc)
send([0, 9, "Demo.types", [b"\\x00\\xff\\x10", when, {"x": 1, "y": 2}]])
r = recv()
out["types"] = {"error": r[2], "bytes_ok": r[3]["data"] == b"\\x00\\xff\\x10",
                "bytes_type": type(r[3]["data"]).__name__,
                "when_ok": r[3]["when"] == when, "counts": r[3]["counts"]}

# Garbage on another socket closes that socket only.
g, _ = connect()
g.sendall(b"\\xc1\\xc1\\xc1")
out["garbage_closed"] = g.recv(100) == b""
g.close()
send([0, 10, "Demo.echo", ["after garbage"]])
out["after"] = recv()
print(json.dumps(out))
`;

Deno.test({
  name: "python3-msgpack on a plain socket: calls, pipelining, notifications, errors, types",
  ignore: await ignoreUnless(peers.pythonMsgpack),
}, async () => {
  const { tcp, close } = await demoServer();
  try {
    const result = await new Deno.Command(PYTHON, {
      args: ["-c", SCRIPT, String(tcp.port)],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(result.stderr);
    assert.ok(
      result.success,
      `python failed (is python3-msgpack installed? see .ci/setup.d): ${stderr}`,
    );
    const out = JSON.parse(new TextDecoder().decode(result.stdout));
    assert.deepEqual(out.echo, [1, 1, null, { a: [1, "two"], n: null }]);
    assert.deepEqual(out.order, [4, 3, 2]);
    assert.deepEqual(out.notes, [1, 5, null, ["from python"]]);
    // A plain peer (no $/hello) gets errors as [type, message], the form Neovim shows.
    assert.deepEqual(out.unknown, [1, 6, [1, "Method not found: Demo.nope"], null]);
    assert.deepEqual(out.fail, [1, 7, [0, "NotFound: bad thing"], null]);
    assert.equal(out.invalid[2][0], 1);
    assert.match(out.invalid[2][1], /params\.ms: expected int/);
    assert.deepEqual(out.types, {
      error: null,
      bytes_ok: true,
      bytes_type: "bytes",
      when_ok: true,
      counts: { x: 1, y: 2 },
    });
    assert.equal(out.garbage_closed, true);
    assert.deepEqual(out.after, [1, 10, null, "after garbage"]);
  } finally {
    await close();
  }
});
