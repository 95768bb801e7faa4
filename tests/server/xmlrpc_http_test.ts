// XML-RPC over HTTP on a real socket: our client and typed proxy against a Server,
// POST /RPC2 and POST / by content type, hostile documents answered with faults while
// the server keeps serving (and keeps its memory), and `switchboard call --protocol xmlrpc`.

import assert from "node:assert/strict";
import { connect, RpcError } from "../../mod.ts";
import { type Logger, Server } from "../../server.ts";
import types, { Types } from "../interop/xmlrpc_types_component.ts";
import "../../xmlrpc.ts"; // connect() speaks xmlrpc

const quiet: Logger = { error: () => {}, warn: () => {} };
const ROOT = new URL("../../", import.meta.url);
const COMPONENT = new URL("../interop/xmlrpc_types_component.ts", import.meta.url);

async function withServer(fn: (url: string) => Promise<void>, maxBodyBytes?: number) {
  const server = new Server({ logger: quiet }).register(types);
  const http = await server.listenHttp({ hostname: "127.0.0.1", port: 0 }, { maxBodyBytes });
  try {
    await fn(http.url);
  } finally {
    await server.close();
  }
}

async function postXml(url: string, body: string, type = "text/xml") {
  const response = await fetch(url, { method: "POST", body, headers: { "content-type": type } });
  return {
    status: response.status,
    type: response.headers.get("content-type"),
    text: await response.text(),
  };
}

const call = (method: string, params = "") =>
  `<?xml version="1.0"?><methodCall><methodName>${method}</methodName><params>${params}</params></methodCall>`;

async function rejects(
  promise: Promise<unknown>,
  expected: { code: number; name: string; message: RegExp },
) {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof RpcError, `expected an RpcError, got ${error}`);
    assert.equal(error.code, expected.code);
    assert.equal(error.name, expected.name);
    assert.match(error.message, expected.message);
    return;
  }
  assert.fail("expected a rejection");
}

Deno.test("the typed proxy over XML-RPC: every type round-trips", async () => {
  await withServer(async (url) => {
    const client = connect(`${url}/RPC2`, { protocol: "xmlrpc", timeout: 10_000 });
    const p = client.proxy(Types);
    try {
      assert.equal(await p.echoInt({ v: -(2 ** 31) }), -(2 ** 31));
      assert.equal(await p.echoInt64({ v: 2n ** 62n }), 2n ** 62n);
      assert.equal(await p.echoInt64({ v: 2 ** 40 }), 2 ** 40);
      assert.equal(await p.echoFloat({ v: 0.25 }), 0.25);
      assert.equal(await p.half({ n: 3 }), 1.5);
      assert.equal(await p.echoBool({ v: false }), false);
      const text = "<&> ]]> \r\n\t \u00e9\u{1F600}";
      assert.equal(await p.echoString({ v: text }), text);
      assert.deepEqual(
        await p.echoBytes({ v: new Uint8Array([0, 1, 255]) }),
        new Uint8Array([0, 1, 255]),
      );
      const when = new Date("2030-12-31T23:59:59Z");
      assert.deepEqual(await p.echoDate({ v: when }), when);
      const thing = {
        id: 7,
        name: "seven",
        score: 7,
        big: 2n ** 60n,
        ok: true,
        blob: new Uint8Array([7]),
        when,
        tags: ["a", ""],
        extra: null,
      };
      assert.deepEqual(await p.echoThing({ v: thing }), thing);
      const any = { list: [1, 2.5, "x", null, true, { deep: [[]] }], when };
      assert.deepEqual(await p.echoAny({ v: any }), any);
      assert.equal(await p.echoAny({ v: null }), null);
      assert.deepEqual(await p.echoList({ v: [] }), []);
      assert.equal(await p.nothing(), null);
      // Positional params through the untyped API.
      assert.equal(await client.call("Types.add", [2, 3]), 5);
    } finally {
      await client.close();
    }
  });
});

Deno.test("errors over XML-RPC are RpcErrors with the server's code, name and message", async () => {
  await withServer(async (url) => {
    const client = connect(url, { protocol: "xmlrpc", timeout: 10_000 }); // path defaults to /RPC2
    const p = client.proxy(Types);
    try {
      await rejects(p.fail({ id: 42 }), {
        code: -32000,
        name: "NotFound",
        message: /^no such thing: 42$/,
      });
      await rejects(client.call("Types.nope"), {
        code: -32601,
        name: "MethodNotFound",
        message: /Types.nope/,
      });
      await rejects(client.call("Types.add", ["1", 2]), {
        code: -32602,
        name: "InvalidParams",
        message: /params.a: expected int, got "1"/,
      });
      await rejects(p.tooBig(), {
        code: -32603,
        name: "InternalError",
        message: /1099511627776 does not fit XML-RPC's 32-bit <int> \(declare the type t.int64/,
      });
      // Values XML cannot carry are refused before anything is sent.
      await rejects(client.call("Types.echoFloat", [NaN]), {
        code: -32602,
        name: "InvalidParams",
        message: /NaN/,
      });
      // A client timeout gives up locally and tells the server (x-rpc-timeout).
      await rejects(p.sleep({ ms: 10_000 }, { timeout: 100 }), {
        code: -32003,
        name: "Timeout",
        message: /Types.sleep timed out after 100 ms/,
      });
      // notify() sends a call and drops the result, even a fault.
      await client.notify("Types.fail", { id: 1 });
    } finally {
      await client.close();
    }
  });
});

Deno.test("POST / with an XML content type is XML-RPC, JSON stays JSON-RPC", async () => {
  await withServer(async (url) => {
    const xml = await postXml(
      `${url}/`,
      call("Types.half", "<param><value><int>5</int></value></param>"),
      "application/xml",
    );
    assert.equal(xml.status, 200);
    assert.match(xml.type ?? "", /^text\/xml/);
    assert.match(xml.text, /<methodResponse><params><param><value><double>2.5<\/double><\/value>/);
    const json = await fetch(`${url}/`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"jsonrpc":"2.0","id":1,"method":"Types.half","params":[5]}',
    });
    assert.deepEqual(await json.json(), { jsonrpc: "2.0", id: 1, result: 2.5 });
    // introspection over XML-RPC
    const sig = await postXml(
      `${url}/RPC2`,
      call("system.methodSignature", "<param><value>Types.half</value></param>"),
    );
    assert.match(sig.text, /<string>double<\/string><\/value><value><string>int<\/string>/);
  });
});

Deno.test("a connection refused is Unavailable; a non-XML-RPC answer says what came back", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const gone = connect(`http://127.0.0.1:${port}/RPC2`, { protocol: "xmlrpc" });
  await rejects(gone.call("X.y"), { code: -32005, name: "Unavailable", message: /cannot reach/ });
  await gone.close();
  await withServer(async (url) => {
    const wrong = connect(`${url}/healthz`, { protocol: "xmlrpc" });
    await rejects(wrong.call("X.y"), {
      code: -32005,
      name: "Unavailable",
      message: /answered HTTP 404 that is not an XML-RPC response/,
    });
    await wrong.close();
  });
});

const LAUGHS = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">${
  Array.from({ length: 9 }, (_, i) =>
    `<!ENTITY lol${i + 2} "${`&lol${i === 0 ? "" : i + 1};`.repeat(10)}">`).join("")
}]><methodCall><methodName>Types.echoString</methodName><params><param><value>&lol10;</value></param></params></methodCall>`;
const XXE = `<?xml version="1.0"?><!DOCTYPE m [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>` +
  call("Types.echoString", "<param><value>&xxe;</value></param>");
const DEEP = call("Types.echoAny", `<param><value>${"<array><data><value>".repeat(5000)}`);
const WIDE_DEEP = call(
  "Types.echoAny",
  `<param><value>${"<array><data><value>".repeat(64)}1${
    "</value></data></array>".repeat(64)
  }</value></param>`,
);

/** Hostile and broken bodies with the fault each must get. */
const HOSTILE: [string, string, number, RegExp][] = [
  ["billion laughs", LAUGHS, -32600, /DOCTYPE declarations are refused/],
  ["external entity", XXE, -32600, /DOCTYPE declarations are refused/],
  [
    "undeclared entity",
    call("Types.echoString", "<param><value>&lol9;</value></param>"),
    -32700,
    /undefined entity/,
  ],
  ["5000-deep nesting", DEEP, -32600, /values nest deeper than 64 levels/],
  ["64-deep nesting", WIDE_DEEP, -32600, /values nest deeper than 64 levels/],
  [
    "truncated",
    call("Types.add", "<param><value><int>1</int></value></param>").slice(0, 60),
    -32700,
    /unclosed tag/,
  ],
  ["garbage", "\u0000\u0001binary junk", -32700, /not well-formed XML/],
  ["JSON sent as XML", '{"jsonrpc":"2.0","method":"x","id":1}', -32700, /not well-formed XML/],
  [
    "wrong type",
    call(
      "Types.add",
      "<param><value><boolean>1</boolean></value></param><param><value><int>1</int></value></param>",
    ),
    -32602,
    /params.a: expected int, got true/,
  ],
  ["unknown method", call("No.such"), -32601, /Method not found: No.such/],
  [
    "unknown element",
    call("Types.add", "<param><value><float>1</float></value></param>"),
    -32600,
    /unexpected &lt;float&gt; in &lt;value&gt;/,
  ],
];

Deno.test("hostile and broken documents get faults, and the server keeps serving", async () => {
  await withServer(async (url) => {
    for (const [label, body, code, message] of HOSTILE) {
      const { status, text } = await postXml(`${url}/RPC2`, body);
      assert.equal(status, 200, label);
      assert.match(text, new RegExp(`<name>faultCode</name><value><int>${code}</int>`), label);
      assert.match(text, message, label);
      const ok = await postXml(
        `${url}/RPC2`,
        call(
          "Types.add",
          "<param><value><int>1</int></value></param><param><value><int>2</int></value></param>",
        ),
      );
      assert.match(ok.text, /<int>3<\/int>/, `after ${label}`);
    }
  });
});

Deno.test("bodies over the limit are refused before parsing", async () => {
  await withServer(async (url) => {
    const huge = call("Types.echoString", `<param><value>${"x".repeat(2048)}</value></param>`);
    const { status } = await postXml(`${url}/RPC2`, huge);
    assert.equal(status, 413);
  }, 1024);
});

/** Reads a process's resident set size in MiB (Linux). */
async function rssMiB(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

Deno.test({
  name: "a served process stays up with bounded memory under XML bombs (switchboard serve)",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "main.ts",
        "serve",
        "--component",
        COMPONENT.href,
        "--http",
        "127.0.0.1:0",
        "--tcp",
        "off",
      ],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stderr = new Response(child.stderr).text();
    const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    try {
      let seen = "";
      let url: string | undefined;
      for (let i = 0; i < 50 && !url; i++) {
        const { value, done } = await lines.read();
        if (done) break;
        seen += value;
        url = /listening on (http:\/\/[^\s]+)/.exec(seen)?.[1];
      }
      if (!url) {
        child.kill("SIGKILL");
        assert.fail(`server did not start: ${seen}${await stderr}`);
      }
      const before = await rssMiB(child.pid);
      // A billion-laughs document would expand to ~30 GB if its entities were processed.
      const bombs = HOSTILE.slice(0, 5).map(([, body]) => body);
      for (let round = 0; round < 20; round++) {
        const replies = await Promise.all(bombs.map((b) => postXml(`${url}/RPC2`, b)));
        for (const r of replies) assert.match(r.text, /faultCode/);
      }
      const after = await rssMiB(child.pid);
      assert.ok(after - before < 200, `RSS grew from ${before} to ${after} MiB`);
      const ok = await postXml(
        `${url}/RPC2`,
        call("Types.half", "<param><value><int>1</int></value></param>"),
      );
      assert.match(ok.text, /<double>0.5<\/double>/);
    } finally {
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
      await child.status;
      await lines.cancel();
      await stderr;
    }
  },
});

Deno.test("switchboard call and describe --protocol xmlrpc", async () => {
  await withServer(async (url) => {
    const run = async (...args: string[]) => {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "main.ts", "call", "--protocol", "xmlrpc", url, ...args],
        cwd: ROOT,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const dec = new TextDecoder();
      return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
    };
    const describe = async (...protocol: string[]) => {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "main.ts", "describe", ...protocol, url],
        cwd: ROOT,
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      return new TextDecoder().decode(out.stdout);
    };
    const [half, named, fail, xmlDescription, jsonDescription] = await Promise.all([
      run("Types.half", "[3]"),
      run("Types.echoDate", '{"v":"2024-01-02T03:04:05Z"}'),
      run("Types.fail", "[9]"),
      describe("--protocol", "xmlrpc"),
      describe(),
    ]);
    // rpc.discover's OpenRPC document survives XML-RPC intact.
    assert.match(xmlDescription, /half\(n: int\) -> float\s+n \/ 2, always a double/);
    assert.equal(xmlDescription, jsonDescription);
    assert.equal(half.code, 0, half.stderr);
    assert.equal(JSON.parse(half.stdout), 1.5);
    assert.equal(named.code, 0, named.stderr);
    assert.deepEqual(JSON.parse(named.stdout), { $date: "2024-01-02T03:04:05.000Z" });
    assert.equal(fail.code, 1);
    assert.match(fail.stderr, /error: NotFound \(-32000\): no such thing: 9/);
  });
});

Deno.test("XML-RPC: an error path cut inside a surrogate pair is still a fault, not HTTP 500", async () => {
  await withServer(async (url) => {
    // "params[0]." and 69 letters are 79 characters: the path is cut at 80, inside the emoji.
    const name = `${"a".repeat(69)}😀${"b".repeat(20)}`;
    const { status, text } = await postXml(
      `${url}/RPC2`,
      call(
        "Types.echo",
        `<param><value><struct><member><name>${name}</name>` +
          `<value><int>not a number</int></value></member></struct></value></param>`,
      ),
    );
    assert.equal(status, 200);
    assert.match(text, /<fault>/);
    assert.match(text, /params\[0\]\.a{69}\uFFFD…/);
  });
});

Deno.test("XML-RPC: an error message holding a lone surrogate is still a fault", async () => {
  const { defineInterface, implement, method, t } = await import("../../mod.ts");
  const Quote = defineInterface("Quote", {
    back: method({ params: { text: t.string } }),
  });
  const server = new Server({ logger: { error: () => {}, warn: () => {} } }).register(
    implement(Quote, {
      back: ({ text }) => {
        // A message cut inside a pair (or quoting what a JSON-RPC caller sent) can hold a
        // lone surrogate, which XML cannot carry.
        throw new RpcError({ name: "Quoted", message: `cannot take ${text}\uD800` });
      },
    }),
  );
  const http = await server.listenHttp({ port: 0 });
  try {
    const xml = connect(http.url, { protocol: "xmlrpc" });
    await assert.rejects(
      xml.call("Quote.back", ["x"]),
      (e: RpcError) => e.name === "Quoted" && e.message === "cannot take x\uFFFD",
    );
    await xml.close();
    const { status, text } = await postXml(
      `${http.url}/RPC2`,
      call("Quote.back", "<param><value><string>plain</string></value></param>"),
    );
    assert.equal(status, 200);
    assert.match(text, /<fault>.*Quoted: cannot take plain\uFFFD/s);
  } finally {
    await server.close();
  }
});
