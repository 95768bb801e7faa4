// Where connect() posts, and what it sends third-party JSON-RPC servers (no socket needed:
// a fetch that records the request and answers as a foreign server would).
import assert from "node:assert/strict";
import { connect, defineInterface, implement, method, t } from "../../mod.ts";
import { Server } from "../../server.ts";
import "../../xmlrpc.ts"; // connect() speaks xmlrpc

function recorder(answer: () => Response) {
  const seen: { url: string; body: string; headers: Headers }[] = [];
  const fetch: typeof globalThis.fetch = (input, init) => {
    seen.push({
      url: String(input),
      body: String(init?.body),
      headers: new Headers(init?.headers),
    });
    return Promise.resolve(answer());
  };
  return { seen, fetch };
}

const ok = () => new Response('{"jsonrpc":"2.0","id":1,"result":1}');

Deno.test("connect posts to the URL as written (no path is /); `path` overrides it", async () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ["http://h:1", {}, "http://h:1/"],
    ["http://h:1/", {}, "http://h:1/"],
    ["http://h:1/api/v2", {}, "http://h:1/api/v2"],
    ["http://h:1?x=1", {}, "http://h:1/?x=1"],
    ["http://h:1/rpc", {}, "http://h:1/rpc"],
    ["http://h:1/", { path: "/other" }, "http://h:1/other"],
    ["http://h:1", { protocol: "xmlrpc" }, "http://h:1/"],
    ["http://h:1/RPC2", { protocol: "xmlrpc" }, "http://h:1/RPC2"],
  ];
  for (const [url, options, expected] of cases) {
    const { seen, fetch } = recorder(() =>
      options.protocol
        ? new Response(
          "<methodResponse><params><param><value><int>1</int></value></param></params></methodResponse>",
        )
        : ok()
    );
    const client = connect(url, { ...options, fetch });
    assert.equal(await client.call("M.m", []), 1);
    assert.equal(seen[0].url, expected, url);
    await client.close();
  }
  // A URL object is the same endpoint as its string.
  const { seen, fetch } = recorder(ok);
  await connect(new URL("http://h:1"), { fetch }).call("M.m", []);
  await connect(new URL("http://h:1/"), { fetch, path: "/rpc" }).call("M.m", []);
  assert.deepEqual(seen.map((s) => s.url), ["http://h:1/", "http://h:1/rpc"]);
});

Deno.test("notify accepts an empty 200; a non-JSON 200 to a call is still an error", async () => {
  const { seen, fetch } = recorder(() => new Response("", { status: 200 }));
  const client = connect("http://h:1/", { fetch });
  await client.notify("M.note", ["x"]);
  assert.equal(JSON.parse(seen[0].body).id, undefined);
  await assert.rejects(client.call("M.m", []), /answered no JSON-RPC response/);
  const html = recorder(() => new Response("<html>", { status: 200 }));
  await assert.rejects(
    connect("http://h:1/", { fetch: html.fetch }).notify("M.note"),
    /not JSON-RPC/,
  );
});

Deno.test("taggedValues: false sends dates and bytes as bare strings; the default tags them", async () => {
  const when = new Date("2024-02-29T23:59:58.000Z");
  const params = [when, new Uint8Array([0, 255]), { nested: when }];
  const plain = recorder(ok);
  await connect("http://h:1/", { fetch: plain.fetch, taggedValues: false }).call("M.m", params);
  assert.deepEqual(JSON.parse(plain.seen[0].body).params, [
    "2024-02-29T23:59:58.000Z",
    "AP8=",
    { nested: "2024-02-29T23:59:58.000Z" },
  ]);
  const tagged = recorder(ok);
  await connect("http://h:1/", { fetch: tagged.fetch }).call("M.m", params);
  assert.deepEqual(JSON.parse(tagged.seen[0].body).params, [
    { $date: "2024-02-29T23:59:58.000Z" },
    { $bytes: "AP8=" },
    { nested: { $date: "2024-02-29T23:59:58.000Z" } },
  ]);
});

Deno.test("the XML-RPC client says it is Switchboard, and when its one struct is params by name", async () => {
  const answer = () =>
    new Response(
      "<methodResponse><params><param><value><int>1</int></value></param></params></methodResponse>",
    );
  const { seen, fetch } = recorder(answer);
  const client = connect("http://h:1", { protocol: "xmlrpc", fetch });
  await client.call("M.m", { a: 1 });
  await client.call("M.m", [{ a: 1 }]);
  assert.equal(seen[0].headers.get("x-switchboard-client"), "1");
  assert.equal(seen[0].headers.get("x-switchboard-params"), "named");
  assert.equal(seen[1].headers.get("x-switchboard-params"), null);
});

Deno.test("a Switchboard server answers both protocols at the bare URL, /rpc and /RPC2", async () => {
  const Calc = defineInterface("Calc", {
    add: method({ params: { a: t.int, b: t.int }, result: t.int }),
  });
  const server = new Server().register(implement(Calc, { add: ({ a, b }) => a + b }));
  const http = await server.listenHttp({ hostname: "127.0.0.1", port: 0 });
  const urls: [string, "jsonrpc" | "xmlrpc"][] = [
    [http.url, "jsonrpc"],
    [`${http.url}/`, "jsonrpc"],
    [`${http.url}/rpc`, "jsonrpc"],
    [http.url, "xmlrpc"],
    [`${http.url}/RPC2`, "xmlrpc"],
  ];
  try {
    for (const [url, protocol] of urls) {
      const client = connect(url, { protocol });
      try {
        assert.equal(await client.proxy(Calc).add({ a: 2, b: 3 }), 5, `${protocol} ${url}`);
      } finally {
        await client.close();
      }
    }
  } finally {
    await server.close();
  }
});
