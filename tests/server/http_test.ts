// JSON-RPC over HTTP on a real socket: the specification's examples, OpenRPC and health
// endpoints, and bad input of every kind. After each bad request the server must still
// answer a good one.

import assert from "node:assert/strict";
import { type Logger, Server } from "../../server.ts";
import { demoComponents } from "../../src/demo/mod.ts";
import spec, { matchesSpec, specExamples } from "../wire/jsonrpc/spec_component.ts";
import { openRpcValidator } from "../core/idl/openrpc_validator.ts";
import { readLimited } from "../../src/wire/http_body.ts";
import { JSONRPCClient, JSONRPCErrorException } from "json-rpc-2.0";

const quiet: Logger = { error: () => {}, warn: () => {} };

/** Starts a server on an ephemeral port, runs `fn`, and always closes the server. */
async function withServer(
  fn: (url: string) => Promise<void>,
  options: { maxBodyBytes?: number; debug?: boolean; spec?: boolean } = {},
) {
  const server = new Server({ logger: quiet, debug: options.debug });
  server.register(...(options.spec ? [spec] : demoComponents));
  const http = await server.listenHttp({ hostname: "127.0.0.1", port: 0 }, {
    maxBodyBytes: options.maxBodyBytes,
  });
  try {
    await fn(http.url);
  } finally {
    await server.close();
  }
}

/** POSTs a body to /rpc; returns status, content type and the parsed body (if any). */
async function post(
  url: string,
  body: BodyInit,
  headers: Record<string, string> = { "content-type": "application/json" },
) {
  const response = await fetch(`${url}/rpc`, { method: "POST", body, headers });
  const text = await response.text();
  return {
    status: response.status,
    type: response.headers.get("content-type"),
    text,
    json: text ? JSON.parse(text) : undefined,
  };
}

/** A good call still works: the server survived whatever came before. */
async function stillUp(url: string) {
  const r = await post(url, '{"jsonrpc":"2.0","method":"Calculator.add","params":[2,3],"id":"up"}');
  assert.deepEqual(r.json, { jsonrpc: "2.0", result: 5, id: "up" });
}

Deno.test("http: every example of the JSON-RPC 2.0 specification, section 7", async () => {
  await withServer(async (url) => {
    for (const example of specExamples) {
      const r = await post(url, example.request);
      if (example.expect === null) {
        // 200 with an empty body, not 204: Python's jsonrpclib (and others) raise on 204.
        assert.equal(r.status, 200, example.name);
        assert.equal(r.text, "", example.name);
      } else {
        assert.equal(r.status, 200, example.name);
        assert.match(r.type ?? "", /^application\/json/, example.name);
      }
      assert.equal(matchesSpec(example, r.json), undefined, example.name);
    }
  }, { spec: true });
});

Deno.test("http: GET /openrpc.json and rpc.discover serve the same valid OpenRPC document", async () => {
  await withServer(async (url) => {
    const response = await fetch(`${url}/openrpc.json`);
    assert.equal(response.status, 200);
    const doc = await response.json();
    assert.equal(openRpcValidator()(doc), undefined);
    const names = doc.methods.map((m: { name: string }) => m.name);
    assert.ok(names.includes("Calculator.add"));
    assert.ok(names.includes("Echo.sample"));
    const discovered = await post(url, '{"jsonrpc":"2.0","method":"rpc.discover","id":1}');
    assert.equal(openRpcValidator()(discovered.json.result), undefined);
    const apps = (d: { methods: { name: string }[] }) =>
      d.methods.map((m) => m.name).filter((n) => !n.startsWith("system.") && n !== "rpc.discover");
    assert.deepEqual(apps(discovered.json.result), apps(doc));
  });
});

Deno.test("http: GET /healthz; GET on /rpc is 405; unknown paths are 404", async () => {
  await withServer(async (url) => {
    const health = await fetch(`${url}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { ok: true });
    const get = await fetch(`${url}/rpc`);
    assert.equal(get.status, 405);
    assert.equal(get.headers.get("allow"), "POST");
    await get.body?.cancel();
    const missing = await fetch(`${url}/nowhere`);
    assert.equal(missing.status, 404);
    assert.match(await missing.text(), /JSON-RPC and XML-RPC are at POST \/ /);
  });
});

Deno.test("http: invalid JSON is -32700; the server stays up", async () => {
  await withServer(async (url) => {
    const r = await post(url, '{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]');
    assert.equal(r.status, 200);
    assert.equal(r.json.error.code, -32700);
    assert.equal(r.json.id, null);
    assert.match(r.json.error.message, /^Parse error: /);
    const binary = await post(url, new Uint8Array([0xff, 0xfe, 0x00, 0x81]));
    assert.equal(binary.json.error.code, -32700);
    await stillUp(url);
  });
});

Deno.test("http: any content type is read as JSON (curl's default, fetch's text/plain)", async () => {
  await withServer(async (url) => {
    for (const type of ["text/plain", "application/x-www-form-urlencoded"]) {
      const r = await post(
        url,
        '{"jsonrpc":"2.0","method":"Calculator.add","params":[1,2],"id":1}',
        {
          "content-type": type,
        },
      );
      assert.equal(r.status, 200, type);
      assert.equal(r.json.result, 3);
    }
    const none = await fetch(`${url}/rpc`, { method: "POST", body: new Uint8Array([1]) });
    assert.equal(none.status, 200);
    assert.equal((await none.json()).error.code, -32700);
    // Parameters of the media type are fine.
    const charset = await post(
      url,
      '{"jsonrpc":"2.0","method":"Calculator.add","params":[1,2],"id":1}',
      {
        "content-type": "application/json; charset=utf-8",
      },
    );
    assert.equal(charset.json.result, 3);
    // Media types are case-insensitive.
    const upper = await post(
      url,
      '{"jsonrpc":"2.0","method":"Calculator.add","params":[1,2],"id":1}',
      { "content-type": "Application/JSON" },
    );
    assert.equal(upper.json.result, 3);
    await stillUp(url);
  });
});

Deno.test("http: a body over the limit is 413, declared or chunked; the default is 1 MiB", async () => {
  await withServer(async (url) => {
    const big = `{"jsonrpc":"2.0","method":"Echo.echo","params":["${
      "x".repeat(2 * 1024 * 1024)
    }"],"id":1}`;
    const declared = await post(url, big);
    assert.equal(declared.status, 413);
    assert.equal(declared.json.error.code, -32600);
    assert.match(declared.json.error.message, /body exceeds the limit of 1048576 bytes/);

    // No content-length: the body streams in chunks and is cut off at the limit.
    let sent = 0;
    const chunk = new TextEncoder().encode("[" + "1,".repeat(32 * 1024));
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 64) return controller.close(); // 4 MiB at most
        sent++;
        controller.enqueue(chunk);
      },
    });
    const chunked = await post(url, stream);
    assert.equal(chunked.status, 413);
    assert.match(chunked.json.error.message, /body exceeds the limit/);

    // Just under the limit is fine.
    const fits = `{"jsonrpc":"2.0","method":"Echo.echo","params":["${
      "y".repeat(1000 * 1024)
    }"],"id":2}`;
    const ok = await post(url, fits);
    assert.equal(ok.status, 200);
    assert.equal(ok.json.result.length, 1000 * 1024);
    await stillUp(url);
  });
});

Deno.test("http: bodies that arrive chunked or in pieces are read whole, and parsed alike", async () => {
  await withServer(async (url) => {
    const streamOf = (text: string) =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          const bytes = new TextEncoder().encode(text);
          for (let i = 0; i < bytes.length; i += 7) controller.enqueue(bytes.slice(i, i + 7));
          controller.close();
        },
      });
    // No content-length (chunked transfer): the streaming reader, then the same parser.
    const call = '{"jsonrpc":"2.0","method":"Calculator.add","params":[2,40],"id":"c"}';
    assert.deepEqual((await post(url, streamOf(call))).json, {
      jsonrpc: "2.0",
      result: 42,
      id: "c",
    });
    const broken = await post(url, streamOf('{"jsonrpc":"2.0",'));
    assert.equal(broken.json.error.code, -32700);
    assert.match(broken.json.error.message, /^Parse error: /);

    // A declared length whose body trickles in over a raw socket, in three writes.
    const { port } = new URL(url);
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(port) });
    const body = new TextEncoder().encode(call);
    const head = `POST /rpc HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n` +
      `content-length: ${body.length}\r\nconnection: close\r\n\r\n`;
    await conn.write(new TextEncoder().encode(head));
    for (const part of [body.slice(0, 10), body.slice(10, 30), body.slice(30)]) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      await conn.write(part);
    }
    const reply = await new Response(conn.readable).text();
    assert.match(reply, /^HTTP\/1.1 200/);
    assert.ok(reply.endsWith('{"jsonrpc":"2.0","result":42,"id":"c"}'), reply);
    await stillUp(url);
  });
});

Deno.test("http: reading a chunked body stops at the limit instead of buffering it all", async () => {
  let pulled = 0, cancelled = false;
  const endless = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled++;
      controller.enqueue(new Uint8Array(1024));
    },
    cancel() {
      cancelled = true;
    },
  });
  const request = new Request("http://x/rpc", { method: "POST", body: endless });
  assert.equal(await readLimited(request, 10 * 1024), undefined);
  assert.ok(cancelled);
  assert.ok(pulled <= 12, `pulled ${pulled} chunks for a 10-chunk limit`);
  const fits = new Request("http://x/rpc", { method: "POST", body: "héllo" });
  assert.equal(await readLimited(fits, 6), "héllo");
});

Deno.test("http: the body limit is configurable", async () => {
  await withServer(async (url) => {
    const r = await post(
      url,
      `{"jsonrpc":"2.0","method":"Echo.echo","params":["${"x".repeat(200)}"],"id":1}`,
    );
    assert.equal(r.status, 413);
    assert.match(r.json.error.message, /limit of 100 bytes/);
    const small = await post(url, '{"jsonrpc":"2.0","method":"Echo.echo","params":["x"],"id":1}');
    assert.equal(small.json.result, "x");
  }, { maxBodyBytes: 100 });
});

Deno.test("http: 100k nested arrays as params of Echo.any give a clear error, not a crash", async () => {
  await withServer(async (url) => {
    const depth = 100_000;
    const nested = "[".repeat(depth) + "]".repeat(depth);
    // Refused before it is parsed (a parse error: the id is not read yet), in every place.
    const tooDeep = {
      jsonrpc: "2.0",
      error: { code: -32700, message: "Parse error: JSON nests deeper than 128 levels" },
      id: null,
    };
    const r = await post(url, `{"jsonrpc":"2.0","method":"Echo.any","params":[${nested}],"id":7}`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, tooDeep);
    const typed = await post(
      url,
      `{"jsonrpc":"2.0","method":"Calculator.add","params":[${nested}, 1],"id":8}`,
    );
    assert.deepEqual(typed.json, tooDeep);
    assert.deepEqual((await post(url, `[${nested}]`)).json, tooDeep);
    const objects = '{"a":'.repeat(depth) + "1" + "}".repeat(depth);
    const obj = await post(
      url,
      `{"jsonrpc":"2.0","method":"Echo.any","params":{"value":${objects}},"id":9}`,
    );
    assert.deepEqual(obj.json, tooDeep);
    // A body too short to be worth the pass is parsed, and the value's own limit refuses it.
    const short = "[".repeat(1000) + "]".repeat(1000);
    const value = await post(
      url,
      `{"jsonrpc":"2.0","method":"Echo.any","params":[${short}],"id":10}`,
    );
    assert.equal(value.json.id, 10);
    assert.equal(value.json.error.code, -32602);
    assert.match(value.json.error.message, /^params\.value: value nests deeper than 64 levels$/);
    await stillUp(url);
  });
});

Deno.test("http: wrong param types and unknown methods get the spec errors", async () => {
  await withServer(async (url) => {
    const cases: [string, number, RegExp][] = [
      [
        '{"jsonrpc":"2.0","method":"Calculator.add","params":{"a":1,"b":"two"},"id":1}',
        -32602,
        /params\.b: expected int, got "two"/,
      ],
      [
        '{"jsonrpc":"2.0","method":"Calculator.add","params":[1.5,2],"id":1}',
        -32602,
        /params\.a: expected int, got 1\.5/,
      ],
      [
        '{"jsonrpc":"2.0","method":"Calculator.add","params":{"a":1},"id":1}',
        -32602,
        /params\.b: expected int, got nothing/,
      ],
      [
        '{"jsonrpc":"2.0","method":"Calculator.add","params":{"a":1,"b":2,"c":3},"id":1}',
        -32602,
        /params\.c: unknown field/,
      ],
      [
        '{"jsonrpc":"2.0","method":"Calculator.add","params":[1,2,3],"id":1}',
        -32602,
        /at most 2 positional/,
      ],
      [
        '{"jsonrpc":"2.0","method":"Calculator.nope","id":1}',
        -32601,
        /Method not found: Calculator\.nope/,
      ],
      ['{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1}', -32601, /Method not found: add/],
      [
        '{"jsonrpc":"2.0","method":"Echo.sample","params":{"value":{"id":1}},"id":1}',
        -32602,
        /params\.value\.name: expected string, got nothing/,
      ],
    ];
    for (const [body, code, message] of cases) {
      const r = await post(url, body);
      assert.equal(r.json.error.code, code, body);
      assert.match(r.json.error.message, message, body);
      assert.equal(r.json.id, 1);
    }
    await stillUp(url);
  });
});

Deno.test("http: application errors keep their name; internal ones hide detail", async () => {
  await withServer(async (url) => {
    const app = await post(
      url,
      '{"jsonrpc":"2.0","method":"Calculator.divide","params":[1,0],"id":1}',
    );
    assert.deepEqual(app.json.error, {
      code: -32000,
      message: "cannot divide 1 by zero",
      name: "DivisionByZero",
    });
    const crash = await post(url, '{"jsonrpc":"2.0","method":"Echo.crash","id":2}');
    assert.deepEqual(crash.json.error, { code: -32603, message: "Internal error" });
    assert.ok(!crash.text.includes("secret"));
  });
  await withServer(async (url) => {
    const crash = await post(url, '{"jsonrpc":"2.0","method":"Echo.crash","id":2}');
    assert.match(crash.json.error.message, /secret internal detail/);
    assert.match(crash.json.error.data.stack, /\n\s+at /);
  }, { debug: true });
});

Deno.test("http: datetimes and bytes round-trip as tags; the deadline header is honoured", async () => {
  await withServer(async (url) => {
    const sample = {
      id: 1,
      name: "n",
      ratio: 0.5,
      ok: true,
      data: { $bytes: "AAEC" },
      at: "2024-01-02T03:04:05Z", // a bare ISO string is accepted, answered as a tag
      tags: ["a"],
      attrs: { x: 1 },
      parent: null,
      level: "low",
    };
    const r = await post(
      url,
      JSON.stringify({ jsonrpc: "2.0", method: "Echo.sample", params: [sample], id: 1 }),
    );
    assert.deepEqual(r.json.result, { ...sample, at: { $date: "2024-01-02T03:04:05.000Z" } });

    const slow = await post(
      url,
      '{"jsonrpc":"2.0","method":"Echo.sleep","params":[10000],"id":1}',
      {
        "content-type": "application/json",
        "x-rpc-timeout": "50",
      },
    );
    assert.equal(slow.json.error.code, -32003);
    assert.equal(slow.json.error.name, "Timeout");
    await stillUp(url);
  });
});

// --- interop: third-party JSON-RPC clients call our server --------------------------------

/** The slice of jayson's client API the test uses. */
interface JaysonClient {
  request(method: unknown, params?: unknown, id?: unknown, callback?: unknown): unknown;
}

/**
 * Loads jayson. Its type declarations pull in @types/node 12, which clashes with Deno's own
 * Node types for the whole program, so it is imported by a name the checker does not follow.
 */
async function loadJayson(): Promise<{ Client: { http(options: unknown): JaysonClient } }> {
  const name = "jayson";
  return (await import(name)).default;
}

/** Sends one jayson request (or batch); resolves with the raw response (undefined if none). */
function jaysonRequest(
  client: JaysonClient,
  method: string | unknown[],
  params?: unknown,
  id?: string | number | null,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const done = (err: unknown, response?: unknown) => err ? reject(err) : resolve(response);
    if (Array.isArray(method)) client.request(method, done);
    else if (id === undefined) client.request(method, params, done);
    else client.request(method, params, id, done);
  });
}

Deno.test("interop: npm jayson's HTTP client", async () => {
  await withServer(async (url) => {
    const { port } = new URL(url);
    const jayson = await loadJayson();
    const client = jayson.Client.http({
      host: "127.0.0.1",
      port: Number(port),
      path: "/rpc",
      agent: false, // one connection per request, so none is left open
    });
    assert.deepEqual(await jaysonRequest(client, "Calculator.add", { a: 2, b: 3 }, 1), {
      jsonrpc: "2.0",
      result: 5,
      id: 1,
    });
    assert.deepEqual(await jaysonRequest(client, "Calculator.subtract", [10, 4], "x"), {
      jsonrpc: "2.0",
      result: 6,
      id: "x",
    });
    const notFound = await jaysonRequest(client, "Calculator.nope", [], 2) as {
      error: { code: number; message: string };
    };
    assert.equal(notFound.error.code, -32601);
    const invalid = await jaysonRequest(client, "Calculator.add", { a: 1, b: "2" }, 3) as {
      error: { code: number; message: string };
    };
    assert.equal(invalid.error.code, -32602);
    assert.equal(invalid.error.message, 'params.b: expected int, got "2"');
    const app = await jaysonRequest(client, "Calculator.divide", [1, 0], 4) as {
      error: { code: number; name: string };
    };
    assert.equal(app.error.code, -32000);
    assert.equal(app.error.name, "DivisionByZero");
    // A notification (id null in jayson's API): an empty 200, jayson gets nothing.
    assert.equal(await jaysonRequest(client, "Echo.echo", ["hi"], null), undefined);
    // A batch built with jayson's own request builder.
    const batch = [
      client.request("Calculator.add", [1, 1], undefined, false),
      client.request("Echo.reverse", { text: "abc" }, undefined, false),
      client.request("Echo.echo", ["n"], null, false),
    ];
    const replies = await jaysonRequest(client, batch) as { id: unknown; result: unknown }[];
    assert.equal(replies.length, 2);
    const byId = new Map(replies.map((r) => [r.id, r.result]));
    assert.equal(byId.get((batch[0] as { id: unknown }).id), 2);
    assert.equal(byId.get((batch[1] as { id: unknown }).id), "cba");
  });
});

Deno.test("interop: npm json-rpc-2.0's JSONRPCClient over fetch", async () => {
  await withServer(async (url) => {
    const client: JSONRPCClient = new JSONRPCClient(async (request) => {
      const response = await fetch(`${url}/rpc`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(request),
      });
      if (response.status === 200) client.receive(await response.json());
      else {
        await response.body?.cancel();
        if (response.status !== 204) throw new Error(response.statusText);
      }
    });
    assert.equal(await client.request("Calculator.add", { a: 20, b: 22 }), 42);
    assert.equal(await client.request("Echo.echo", ["by position"]), "by position");
    await assert.rejects(async () => await client.request("Calculator.nope", {}), (e: unknown) => {
      assert.ok(e instanceof JSONRPCErrorException);
      assert.equal(e.code, -32601);
      assert.equal(e.message, "Method not found: Calculator.nope");
      return true;
    });
    await assert.rejects(async () => await client.request("Calculator.add", { a: 1.5, b: 1 }), {
      code: -32602,
      message: "params.a: expected int, got 1.5",
    });
    await assert.rejects(
      async () => await client.request("Echo.fail", { name: "Gone", message: "it left" }),
      {
        code: -32000,
        message: "it left",
      },
    );
    client.notify("Echo.echo", ["nobody listens"]);
    const batch = await client.requestAdvanced([
      { jsonrpc: "2.0", id: 1, method: "Calculator.add", params: [1, 2] },
      { jsonrpc: "2.0", id: 2, method: "Calculator.divide", params: [1, 0] },
    ]);
    const byId = new Map(batch.map((r) => [r.id, r]));
    assert.equal(byId.get(1)?.result, 3);
    assert.equal(byId.get(2)?.error?.code, -32000);
    await new Promise((r) => setTimeout(r, 20)); // let the notification's fetch finish
  });
});
