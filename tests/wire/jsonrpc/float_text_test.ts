// JSON text where the IDL declares t.float, through a real HTTP server and client: whole
// numbers are written 1.0 and -0.0 (results at any depth, a typed proxy's params), not 1
// and 0; other numbers as JSON.stringify writes them.
import assert from "node:assert/strict";
import { connect, defineInterface, implement, method, t } from "../../../mod.ts";
import { Server } from "../../../server.ts";

const Floats = defineInterface("Floats", {
  echoFloat: method({ params: { x: t.float }, result: t.float }),
  point: method({
    params: { x: t.float },
    result: t.struct("Point", { x: t.float, negated: t.float, n: t.int }),
  }),
  many: method({ params: { xs: t.array(t.float) }, result: t.map(t.nullable(t.float)) }),
  count: method({ params: { n: t.int }, result: t.int }),
});

async function serve() {
  const server = new Server({ logger: { error: () => {}, warn: () => {} } });
  server.register(implement(Floats, {
    echoFloat: ({ x }) => x,
    point: ({ x }) => ({ x, negated: -x, n: 1 }),
    many: ({ xs }) => Object.fromEntries([...xs.map((x, i) => [`k${i}`, x]), ["none", null]]),
    count: ({ n }) => n,
  }));
  const http = await server.listenHttp({ port: 0, hostname: "127.0.0.1" });
  return { url: `${http.url}/rpc`, close: () => server.close() };
}

Deno.test("results declared t.float are written 1.0 and -0.0 in JSON, at any depth", async () => {
  const { url, close } = await serve();
  const post = async (method: string, params: string) => {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: `{"jsonrpc":"2.0","id":1,"method":"${method}","params":${params}}`,
    });
    const text = await response.text();
    return text.slice(text.indexOf('"result":') + 9, text.lastIndexOf(',"id"'));
  };
  try {
    assert.equal(await post("Floats.echoFloat", "[1.0]"), "1.0");
    assert.equal(await post("Floats.echoFloat", "[1]"), "1.0");
    assert.equal(await post("Floats.echoFloat", "[-0.0]"), "-0.0");
    assert.equal(await post("Floats.echoFloat", '{"x":2.5}'), "2.5");
    assert.equal(await post("Floats.echoFloat", "[1e21]"), "1e+21"); // reads as a float already
    assert.equal(await post("Floats.point", "[0]"), '{"x":0.0,"negated":-0.0,"n":1}');
    assert.equal(await post("Floats.many", "[[3, 0.25]]"), '{"k0":3.0,"k1":0.25,"none":null}');
    assert.equal(await post("Floats.count", "[3]"), "3"); // an int stays an int
  } finally {
    await close();
  }
});

Deno.test("a typed proxy writes its whole t.float params as 1.0 in JSON", async () => {
  const bodies: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const body = await req.text();
    bodies.push(body);
    const { id, method } = JSON.parse(body);
    return Response.json({ jsonrpc: "2.0", id, result: method === "Floats.many" ? {} : 1 });
  });
  const client = connect(`http://127.0.0.1:${server.addr.port}/rpc`);
  try {
    assert.equal(await client.proxy(Floats).echoFloat({ x: 3 }), 1);
    assert.deepEqual(await client.proxy(Floats).many({ xs: [-0, 0.5] }), {});
    await client.call("Floats.echoFloat", { x: 3 }); // untyped: as JSON.stringify writes it
    assert.match(bodies[0], /"params":\{"x":3\.0\}/);
    assert.match(bodies[1], /"params":\{"xs":\[-0\.0,0\.5\]\}/);
    assert.match(bodies[2], /"params":\{"x":3\}/);
  } finally {
    await client.close();
    await server.shutdown();
  }
});
