// POST /, /rpc and /RPC2 are answered without hono's routing (the hot path); these tests
// pin that the shortcut behaves exactly as the routed paths do at its edges.
import assert from "node:assert/strict";
import { createHttpApp, Router } from "../../server.ts";
import { defineInterface, implement, method, t } from "../../mod.ts";
import { xmlRpcHandler } from "../../xmlrpc.ts";

const Calc = defineInterface("Calc", {
  add: method({ params: { a: t.int, b: t.int }, result: t.int }),
});

function setup(options: Parameters<typeof createHttpApp>[1] = {}) {
  const errors: string[] = [];
  const router = new Router({
    logger: { error: (m) => errors.push(m), warn: () => {} },
  });
  router.register(implement(Calc, { add: ({ a, b }) => a + b }));
  return { app: createHttpApp(router, options), errors, router };
}

const json = (body: unknown) => ({
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});
const call = { jsonrpc: "2.0", id: 1, method: "Calc.add", params: { a: 2, b: 3 } };

Deno.test("POST /rpc with a query string is still JSON-RPC; other paths are not", async () => {
  const { app } = setup();
  const ok = await app.fetch(new Request("http://x/rpc?trace=1", json(call)));
  assert.equal(ok.status, 200);
  assert.deepEqual(await ok.json(), { jsonrpc: "2.0", result: 5, id: 1 });
  for (const path of ["/rpc/", "/rpcx", "/RPC"]) {
    const res = await app.fetch(new Request(`http://x${path}`, json(call)));
    assert.equal(res.status, 404, path);
    await res.body?.cancel();
  }
  const get = await app.fetch(new Request("http://x/rpc"));
  assert.equal(get.status, 405);
  await get.body?.cancel();
});

Deno.test("a failure on the hot paths is a logged 500, as on the routed ones", async () => {
  const { app, errors } = setup({
    authenticate: () => {
      throw new Error("authenticator broke");
    },
    xmlrpc: () => Promise.resolve(""),
  });
  for (const path of ["/rpc", "/RPC2", "/"]) {
    const res = await app.fetch(new Request(`http://x${path}`, json(call)));
    assert.equal(res.status, 500, path);
    assert.equal(res.headers.get("content-type"), "text/plain; charset=UTF-8");
    assert.equal(await res.text(), "internal error\n");
  }
  assert.equal(errors.length, 3);
  assert.match(errors[0], /authenticator broke/);
});

Deno.test("POST /RPC2 is XML-RPC where installed, and 404 where not", async () => {
  const bare = setup();
  const missing = await bare.app.fetch(
    new Request("http://x/RPC2", { method: "POST", body: "<methodCall/>" }),
  );
  assert.equal(missing.status, 404);
  assert.equal(await missing.text(), "XML-RPC is not served here\n");

  const router = new Router();
  router.register(implement(Calc, { add: ({ a, b }) => a + b }));
  const app = createHttpApp(router, { xmlrpc: xmlRpcHandler(router) });
  const res = await app.fetch(
    new Request("http://x/RPC2", {
      method: "POST",
      headers: { "content-type": "text/xml" },
      body: "<?xml version='1.0'?><methodCall><methodName>Calc.add</methodName><params>" +
        "<param><value><int>2</int></value></param><param><value><int>3</int></value></param>" +
        "</params></methodCall>",
    }),
  );
  assert.equal(res.status, 200);
  assert.match(await res.text(), /<(int|i4)>5<\/(int|i4)>/);
});

Deno.test("POST / is the hot path too: JSON-RPC, or XML-RPC by its media type", async () => {
  const router = new Router();
  router.register(implement(Calc, { add: ({ a, b }) => a + b }));
  const app = createHttpApp(router, { xmlrpc: xmlRpcHandler(router) });
  // Only the hot path reports its answer itself (hono's routes do not see `answers`).
  let answered = 0;
  const answers = { taken: false, answered: () => answered++ };
  const body = JSON.stringify(call);
  const pending = app.fetch(
    new Request("http://x/", {
      method: "POST",
      headers: { "content-type": "application/json", "content-length": String(body.length) },
      body,
    }),
    { answers },
  );
  assert.equal(answers.taken, true);
  const res = await pending;
  assert.deepEqual(await res.json(), { jsonrpc: "2.0", result: 5, id: 1 });
  assert.equal(answered, 1);
  const xml = await app.fetch(
    new Request("http://x/", {
      method: "POST",
      headers: { "content-type": "text/xml; charset=utf-8" },
      body: "<?xml version='1.0'?><methodCall><methodName>Calc.add</methodName><params>" +
        "<param><value><int>2</int></value></param><param><value><int>3</int></value></param>" +
        "</params></methodCall>",
    }),
  );
  assert.match(await xml.text(), /<(int|i4)>5<\/(int|i4)>/);
  const plain = await setup().app.fetch(
    new Request("http://x/", { method: "POST", headers: { "content-type": "text/xml" } }),
  );
  assert.equal(plain.status, 404);
  assert.equal(await plain.text(), "XML-RPC is not served here\n");
});
